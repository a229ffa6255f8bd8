#!/usr/bin/env bash
# A standalone Spark cluster on 127.0.0.1 -- a master and two workers of one
# core each, so each executor is a JVM of its own -- and a job submitted to it
# with spark-submit --jars: the cluster test (--mode test, ClusterJob, then
# shell-checks.py: the distribution's spark-sql shell and PySpark, each its own
# application on the same cluster) or the cluster benchmark (--mode bench,
# ClusterBench). Spark is PyPI's pyspark distribution (spark-home.sh, cached). Every process this script starts is
# stopped by its process id when it ends, whether the job passed or not.
#
#   cluster-test.sh --mode test|bench --spark-version V --core-jar JAR --spark-jar JAR
#                   --job-jar JAR --model DIR --work DIR [-- job arguments]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

mode= version= core_jar= spark_jar= job_jar= model= work=
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) mode=$2; shift 2 ;;
        --spark-version) version=$2; shift 2 ;;
        --core-jar) core_jar=$2; shift 2 ;;
        --spark-jar) spark_jar=$2; shift 2 ;;
        --job-jar) job_jar=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "cluster-test: unknown argument $1" >&2; exit 2 ;;
    esac
done
for v in mode version core_jar spark_jar job_jar model work; do
    [ -n "${!v}" ] || { echo "cluster-test: --${v//_/-} is required" >&2; exit 2; }
done
case "$mode" in
    test) main=org.sbert4j.spark.ClusterJob ;;
    bench) main=org.sbert4j.spark.ClusterBench ;;
    *) echo "cluster-test: --mode test or bench" >&2; exit 2 ;;
esac

export SPARK_HOME
SPARK_HOME=$(bash "$here/spark-home.sh" "$version")
venv=$(bash "$here/pyspark-venv.sh" "$version")
job_args=()
[ "$mode" = test ] && job_args=(--shell-texts "$work/shell-texts.json" --work "$work")
# Loopback only, for every daemon, executor and the driver.
export SPARK_LOCAL_IP=127.0.0.1 SPARK_MASTER_HOST=127.0.0.1
export SPARK_DAEMON_MEMORY=256m
# No REST submission server (it would take the fixed port 6066).
export SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false"
export SPARK_CONF_DIR="$work/conf"     # empty: no site configuration leaks in
export SPARK_LOG_DIR="$work/logs" SPARK_PID_DIR="$work"
export SPARK_LOCAL_DIRS="$work/local"
unset SPARK_WORKER_INSTANCES SPARK_MASTER_PORT SPARK_WORKER_PORT

rm -rf "$work"
mkdir -p "$work/conf" "$work/logs" "$work/local" "$work/worker-1" "$work/worker-2"
log4j=$work/conf/log4j2.properties
cat > "$log4j" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n
logger.master.name = org.apache.spark.deploy
logger.master.level = info
logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecode.level = error
EOF

# The child processes of $1 (from /proc: no procps needed).
children_of() {
    local stat
    for stat in /proc/[0-9]*/stat; do
        [ "$(awk '{print $4}' "$stat" 2>/dev/null)" = "$1" ] && { stat=${stat#/proc/}; echo "${stat%/stat}"; }
    done
    return 0
}

# The pids of what this script started; stopped on any exit.
pids=()
stop_all() {
    local status=$?
    set +e
    # The workers' executors first (a worker stops them when it is stopped,
    # but one that is killed outright would leave them): children of our workers.
    local children=()
    for pid in "${pids[@]}"; do
        for child in $(children_of "$pid"); do children+=("$child"); done
    done
    for pid in "${children[@]}" "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for _ in $(seq 1 50); do
        local alive=0
        for pid in "${children[@]}" "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ "$alive" = 0 ] && break
        sleep 0.2
    done
    for pid in "${children[@]}" "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null && echo "cluster-test: killed $pid (did not stop on TERM)" >&2
    done
    if [ "$status" != 0 ]; then
        echo "cluster-test: failed (exit $status); the last lines of each log:" >&2
        for f in "$work"/logs/*.log "$work"/worker-*/*/*/stderr; do
            [ -f "$f" ] || continue
            echo "---- $f" >&2
            tail -n 25 "$f" >&2
        done
    fi
    exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_for() { # file pattern seconds what
    local file=$1 pattern=$2 seconds=$3 what=$4
    for _ in $(seq 1 $((seconds * 5))); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "cluster-test: $what did not start within ${seconds}s (see $file)" >&2
    return 1
}

# The model as an archive (the model directory's contents at its root), for
# --archives and SparkContext.addArchive.
zip=$work/model.zip
python3 - "$model" "$zip" <<'EOF'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
EOF

master_port=$(free_port)
master_url=spark://127.0.0.1:$master_port
started=$(date +%s)
"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$master_port" --webui-port 0 \
    > "$work/logs/master.log" 2>&1 &
pids+=($!)
# The workers start alongside (they retry until the master is up).
for n in 1 2; do
    "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores 1 --memory 1536m --webui-port 0 --work-dir "$work/worker-$n" \
        "$master_url" > "$work/logs/worker-$n.log" 2>&1 &
    pids+=($!)
done
wait_for "$work/logs/master.log" "I have been elected leader" 120 "the master"
for n in 1 2; do
    wait_for "$work/logs/worker-$n.log" "Successfully registered with master" 120 "worker $n"
done
echo "cluster-test: Spark $version standalone cluster at $master_url (master pid ${pids[0]}, workers ${pids[1]} ${pids[2]}) up in $(( $(date +%s) - started ))s"

# The driver runs here (client mode); each executor is a JVM its worker starts.
# SBERT4J_THREADS=1: one core per executor, so the native encoder uses one thread.
set +e
"$SPARK_HOME/bin/spark-submit" \
    --master "$master_url" --deploy-mode client \
    --class "$main" \
    --jars "$core_jar,$spark_jar" \
    --archives "$zip#minilm-submitted" \
    --driver-memory 1g --executor-memory 1g \
    --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false \
    --conf spark.executorEnv.SBERT4J_THREADS=1 \
    --conf spark.hadoop.fs.sbert4jtest.impl=org.sbert4j.spark.LoopbackFileSystem \
    --conf "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1" \
    --conf "spark.driver.extraJavaOptions=-Dlog4j2.configurationFile=file:$log4j -Dsbert4j.cache.dir=$work/sbert4j-cache" \
    --conf "spark.executor.extraJavaOptions=-Dlog4j2.configurationFile=file:$log4j -Dsbert4j.cache.dir=$work/sbert4j-cache" \
    "$job_jar" \
    --model "$model" --zip "$zip" --spark-version "$version" "${job_args[@]}" "$@" \
    2> "$work/logs/driver.log"
status=$?
set -e
if [ "$status" != 0 ]; then
    echo "cluster-test: the job exited with $status; driver log: $work/logs/driver.log" >&2
    tail -n 60 "$work/logs/driver.log" >&2
    exit "$status"
fi

if [ "$mode" = test ]; then
    # The shells, after the job (which holds both workers' cores): spark-sql and PySpark, against the same cluster.
    "$venv/bin/pip" install --quiet --no-deps --no-build-isolation --force-reinstall "$here/../../python" >&2
    PYSPARK_PYTHON=$venv/bin/python "$venv/bin/python" "$here/shell-checks.py" \
        --spark-home "$SPARK_HOME" --master "$master_url" --core-jar "$core_jar" --spark-jar "$spark_jar" \
        --model "$model" --zip "$zip" --work "$work" --shell-texts "$work/shell-texts.json" \
        --version "$version" --log4j "$log4j" 2> "$work/logs/shells.log" || {
        status=$?
        echo "cluster-test: the shells' checks exited with $status; their log: $work/logs/shells.log" >&2
        tail -n 60 "$work/logs/shells.log" >&2
        exit "$status"
    }
fi
