#!/usr/bin/env bash
# Runs python/tests with PyPI's pyspark VERSION in local mode: gradle's pysparkTest, one per Spark line.
# The virtual environment (pyspark, pytest, setuptools) is made once by spark/cluster/pyspark-venv.sh;
# sbert4j_spark is installed into it from ./python (pip install ./python) on every run.
#   usage: run-pyspark-tests.sh VERSION JARS(comma-separated) MODEL_DIR FIXTURES_DIR WORK_DIR
set -euo pipefail
version=$1 jars=$2 model=$3 fixtures=$4 work=$5
here=$(cd "$(dirname "$0")" && pwd)
venv=$(bash "$here/../../spark/cluster/pyspark-venv.sh" "$version")
"$venv/bin/pip" install --quiet --no-deps --no-build-isolation --force-reinstall "$here/.."
mkdir -p "$work"
cd "$work"
export SBERT4J_JARS=$jars SBERT4J_TEST_MODEL=$model SBERT4J_TEST_FIXTURES=$fixtures SBERT4J_CACHE_DIR=$work/sbert4j-cache
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$venv/bin/python
unset SPARK_HOME
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" 2>&1
