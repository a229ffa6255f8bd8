#!/usr/bin/env bash
# Prints a Python virtual environment with PyPI's pyspark VERSION (with its ML extras), pytest, setuptools and
# wheel, made once under ${SBERT4J_CI_CACHE:-~/.cache/sbert4j-ci}/pyspark-VERSION. PyPI's pyspark carries Spark's
# whole distribution (bin/, jars/ with Hive's), so the same download serves the PySpark tests (python/tests), the
# PySpark and spark-sql checks of the cluster test, and the cluster itself (spark-home.sh).
#   usage: pyspark-venv.sh VERSION        (e.g. 3.5.9, 4.3.0)
set -euo pipefail
version=${1:?usage: pyspark-venv.sh VERSION}
cache=${SBERT4J_CI_CACHE:-$HOME/.cache/sbert4j-ci}
venv=$cache/pyspark-$version
if [ ! -f "$venv/.complete" ]; then
    echo "pyspark-venv: installing pyspark==$version from PyPI into $venv (once)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "pyspark[ml]==$version" pytest setuptools wheel >&2
    touch "$venv/.complete"
fi
echo "$venv"
