#!/usr/bin/env bash
# Runs python/tests with PyPI's pyspark VERSION in local mode: gradle's pysparkTest, one per Spark line.
# The virtual environment (pyspark, pytest, setuptools) is made once under ${SBERT4J_CI_CACHE:-~/.cache/sbert4j-ci};
# sbert4j_spark is installed into it from ./python (pip install ./python) on every run.
#   usage: run-pyspark-tests.sh VERSION JARS(comma-separated) MODEL_DIR FIXTURES_DIR WORK_DIR
set -euo pipefail
version=$1 jars=$2 model=$3 fixtures=$4 work=$5
here=$(cd "$(dirname "$0")" && pwd)
cache=${SBERT4J_CI_CACHE:-$HOME/.cache/sbert4j-ci}
venv=$cache/pyspark-$version
if [ ! -f "$venv/.complete" ]; then
    echo "pyspark-test: installing pyspark==$version from PyPI into $venv (once)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pyspark[ml]==$version" pytest setuptools wheel
    touch "$venv/.complete"
fi
"$venv/bin/pip" install --quiet --no-deps --no-build-isolation --force-reinstall "$here/.."
mkdir -p "$work"
cd "$work"
export SBERT4J_JARS=$jars SBERT4J_TEST_MODEL=$model SBERT4J_TEST_FIXTURES=$fixtures SBERT4J_CACHE_DIR=$work/sbert4j-cache
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$venv/bin/python
unset SPARK_HOME
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" 2>&1
