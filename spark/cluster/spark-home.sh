#!/usr/bin/env bash
# Prints a SPARK_HOME (bin/ and jars/) for Spark VERSION, taken from PyPI's
# pyspark package, which carries Spark's whole distribution under deps/.
# The download (300-450 MB) and the unpacked copy are cached under
# ${SBERT4J_CI_CACHE:-~/.cache/sbert4j-ci}, so a second run reuses them.
#   usage: spark-home.sh VERSION        (e.g. 3.5.9, 4.3.0)
set -euo pipefail
version=${1:?usage: spark-home.sh VERSION}
cache=${SBERT4J_CI_CACHE:-$HOME/.cache/sbert4j-ci}
home=$cache/spark-$version
if [ -x "$home/bin/spark-submit" ] && [ -f "$home/.complete" ]; then
    echo "$home"
    exit 0
fi
downloads=$cache/pyspark-dl
mkdir -p "$downloads"
tarball=$downloads/pyspark-$version.tar.gz
if [ ! -f "$tarball" ]; then
    echo "spark-home: downloading pyspark==$version from PyPI (once; cached in $downloads)" >&2
    # The source distribution: it is the one that carries deps/jars and deps/bin.
    python3 -m pip download --quiet --no-deps --no-binary :all: "pyspark==$version" -d "$downloads" >&2
fi
echo "spark-home: unpacking Spark $version into $home" >&2
rm -rf "$home" "$home.tmp"
mkdir -p "$home.tmp"
tar -xzf "$tarball" -C "$home.tmp" --strip-components=2 "pyspark-$version/deps/bin" "pyspark-$version/deps/jars"
touch "$home.tmp/.complete"
mv "$home.tmp" "$home"
echo "$home"
