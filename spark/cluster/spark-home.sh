#!/usr/bin/env bash
# Prints a SPARK_HOME (bin/ and jars/) for Spark VERSION: the pyspark package of the environment that
# pyspark-venv.sh makes (PyPI's pyspark carries Spark's whole distribution: bin/spark-submit, bin/spark-sql,
# jars/ with Hive's), downloaded once and cached under ${SBERT4J_CI_CACHE:-~/.cache/sbert4j-ci}.
#   usage: spark-home.sh VERSION        (e.g. 3.5.9, 4.3.0)
set -euo pipefail
version=${1:?usage: spark-home.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
venv=$(bash "$here/pyspark-venv.sh" "$version")
home=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
[ -x "$home/bin/spark-submit" ] && [ -x "$home/bin/spark-sql" ] || { echo "spark-home: no bin/spark-submit or bin/spark-sql in $home" >&2; exit 1; }
echo "$home"
