#!/usr/bin/env bash
# The sbert4j benchmark: sbert4j (from Java through JNI, and its Rust core
# alone) against sentence-transformers, ONNX Runtime and the seed's FastAPI
# service, on the same texts with the same thread budget, one system at a
# time; ends with one markdown table (also written to OUT/report.md).
#
#   bash bench/run.sh [--quick] [--peak GFLOPS] [--threads N] [--phases LIST] [--out DIR]
#
#   --quick          a smoke run: 160 texts, 2 repetitions, 2,000 calls for the
#                    memory figure, 4 s wrk runs (minutes, not figures to quote)
#   --peak GFLOPS    the FMA peak for "% peak" of the path auto picks (default: measured
#                    by bench/fma_peak.c, 540 when it cannot run)
#   --threads N      threads for every system (default 2)
#   --rss-calls N    single encodes for the memory figure (default 100,000; 0 leaves it out)
#   --phases LIST    comma-separated subset of fma,paths,precision,core,side,java,peers,python,seed,mpnet,multilingual,rerank (default all;
#                    side: two encoders of threads(1) encoding batches at once against one alone, in one
#                    process (bench/rust/side_by_side.rs; Spark tasks of one CPU sharing an executor);
#                    rerank: one query against 32 documents on a stand-in of cross-encoder/ms-marco-MiniLM-L6-v2
#                    (bench/rerank_peers.py): the Rust core, sbert4j and LangChain4j's OnnxScoringModel through
#                    LangChain4j's ScoringModel on the same ONNX export, ONNX Runtime and sentence-transformers;
#                    peers: LangChain4j's in-process all-MiniLM-L6-v2 models, plain and quantized,
#                    beside sbert4j through LangChain4j's EmbeddingModel, in one JVM;
#                    paths: the Rust core at batch 32 on each CPU path this machine runs,
#                    each against its own peak; precision: the Rust core in FP32, BF16 and
#                    INT8, batch 32 and single texts; mpnet: all-mpnet-base-v2 at batch 32, the
#                    Rust core against sentence-transformers and ONNX Runtime, on N/2 texts;
#                    multilingual: the seed's workload, a full-size random-weight stand-in of
#                    paraphrase-multilingual-MiniLM-L12-v2 (bench/make_multilingual_standin.py, cached
#                    in ~/.cache/sbert4j-bench) on bench/zh_corpus.txt: sbert4j in each precision (Rust core;
#                    Java: 16 callers, and RSS after 10,000 encodes, 2,000 with --quick) against
#                    sentence-transformers, ONNX Runtime fp32 and int8 and the seed's service, 500 texts,
#                    160 with --quick; about 12 minutes, 4 with --quick)
#   --out DIR        where results go (default bench/out)
#
# Environment: SBERT4J_BENCH_VENV  the Python virtualenv (default bench/.venv,
#                                  created from PyPI with bench/requirements.txt
#                                  when missing; an existing one given here is
#                                  used as is, never installed into)
#              SBERT4J_BENCH_PIP_ARGS  extra pip arguments for creating it
#              SBERT4J_BENCH_CACHE  where the multilingual phase's stand-in model is
#                                  built once (default ~/.cache/sbert4j-bench)
# Not part of the tests. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=full N=1000 REPS=5 RSS_CALLS=100000 WRK_SECONDS=20 WRK_REPS=3 WRK_WARMUP=5
ML_N=500 ML_REPS=3 ML_RSS_CALLS=10000
THREADS=2 PEAK= PHASES=fma,paths,precision,core,side,java,peers,python,seed,mpnet,multilingual,rerank OUT=bench/out
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick N=160 REPS=2 RSS_CALLS=2000 WRK_SECONDS=4 WRK_REPS=1 WRK_WARMUP=2 ML_N=160 ML_REPS=2 ML_RSS_CALLS=2000 ;;
        --rss-calls) RSS_CALLS=$2; shift ;;
        --peak) PEAK=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --phases) PHASES=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
has_phase() { [[ ",$PHASES," == *",$1,"* ]]; }

MODEL=$ROOT/models/all-MiniLM-L6-v2
MPNET_MODEL=$ROOT/models/all-mpnet-base-v2
CORPUS=$ROOT/bench/sentences.txt
VENV=${SBERT4J_BENCH_VENV:-$ROOT/bench/.venv}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/*.json "$OUT"/*.jsonl "$OUT"/*.npy "$OUT"/*.f32 "$OUT"/*.log "$OUT"/model.onnx* "$OUT"/mpnet.onnx* "$OUT"/report.md "$OUT"/fma_peak*
rm -rf "$OUT/classes" "$OUT/mpnet" "$OUT/multilingual"

step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# Every system gets the same threads: sbert4j's budget (SBERT4J_THREADS, -Dsbert4j.threads),
# torch/OpenMP/MKL, ONNX Runtime (set in code).
export SBERT4J_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
export TOKENIZERS_PARALLELISM=false   # the tokenizers library's own pool stays out of the thread budget

for tool in cargo java javac gradle python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done
if has_phase seed || has_phase multilingual; then command -v wrk >/dev/null 2>&1 || die "wrk is missing (apt-get install wrk) or leave out the seed and multilingual phases"; fi

load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if python3 -c "import sys; sys.exit(0 if float('$load') > 0.5 else 1)"; then
    echo "bench: load average $load: this machine is busy, figures will be low and noisy" >&2
fi

step "model"
python3 models/fetch_default_model.py >&2
if has_phase mpnet; then python3 models/fetch_mpnet_model.py >&2; fi

step "build: cargo (release) and the sbert4j jar"
cargo build --release --lib --example bench_core --example path_speed --example precision_speed --example side_by_side --example rerank_speed
gradle -q jar >&2   # (Debian's gradle prints the JVM version on stdout)
JAR=$(ls build/libs/sbert4j-*.jar | grep -v -e '-sources' -e '-javadoc' | head -1)
mkdir -p "$OUT/classes"
javac -cp "$JAR" -d "$OUT/classes" bench/java/org/sbert4j/bench/JavaBench.java
JAVA=(java -cp "$JAR:$OUT/classes" -Djava.library.path="$ROOT/target/release" -Dsbert4j.threads="$THREADS" org.sbert4j.bench.JavaBench)

if has_phase python || has_phase seed || has_phase mpnet || has_phase multilingual || has_phase rerank; then
    step "Python peers: virtualenv $VENV"
    PY=$VENV/bin/python
    check_venv() { "$PY" -c 'import torch, sentence_transformers, onnxruntime, onnx, tokenizers, transformers, fastapi, uvicorn, numpy, sentencepiece' 2>/dev/null; }
    if [ -x "$PY" ] && check_venv; then
        echo "using $VENV" >&2
    elif [ -z "${SBERT4J_BENCH_VENV:-}" ] || [ ! -e "$VENV" ]; then
        echo "creating $VENV from PyPI (bench/requirements.txt; the first time downloads several GB)" >&2
        [ -x "$PY" ] || python3 -m venv "$VENV"
        "$PY" -m pip install --quiet --upgrade pip
        # shellcheck disable=SC2086
        "$PY" -m pip install --quiet ${SBERT4J_BENCH_PIP_ARGS:-} -r bench/requirements.txt
        check_venv || die "the virtualenv $VENV still lacks a package"
    else
        die "$VENV (SBERT4J_BENCH_VENV) lacks a package; install bench/requirements.txt into it or unset SBERT4J_BENCH_VENV"
    fi
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)
# The CPU paths this machine runs, best first (what auto picks is the first).
PATHS=()
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then PATHS+=(avx512); fi
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then PATHS+=(avx2); fi
PATHS+=(portable)
declare -A PATH_FLAGS=([avx512]="-mavx512f -mfma" [avx2]="-mavx2 -mfma" [portable]="")
PEAK_SOURCE=given
if has_phase fma; then
    for p in "${PATHS[@]}"; do
        step "FMA peak of the $p path: bench/fma_peak.c on $THREADS threads"
        # shellcheck disable=SC2086
        if gcc -O2 ${PATH_FLAGS[$p]} -pthread bench/fma_peak.c -o "$OUT/fma_peak_$p"; then
            "$OUT/fma_peak_$p" "$THREADS" 5 >"$OUT/fma_$p.json"
            cat "$OUT/fma_$p.json" >&2
        else
            echo "no gcc: no peak for the $p path" >&2
        fi
    done
    # The narrower formats' ceilings (bench/fma_peak.c's header), from the best path's binary.
    if [ "${PATHS[0]}" != portable ] && [ -x "$OUT/fma_peak_${PATHS[0]}" ]; then
        step "int8 and bf16 dot peaks: bench/fma_peak.c on $THREADS threads"
        for kind in int8 int8-saturating vnni-256 vnni-512 bf16-512; do
            "$OUT/fma_peak_${PATHS[0]}" "$THREADS" 5 "$kind"
        done | tee "$OUT/fma_narrow.jsonl" >&2
    fi
    if [ -z "$PEAK" ] && [ -s "$OUT/fma_${PATHS[0]}.json" ]; then
        cp "$OUT/fma_${PATHS[0]}.json" "$OUT/fma.json"
        PEAK_SOURCE="measured, ${PATHS[0]} path"
    fi
fi
if [ -z "$PEAK" ] && [ ! -s "$OUT/fma.json" ]; then
    echo "no measured peak: taking it as 540 GFLOP/s" >&2
    PEAK=540 PEAK_SOURCE=default
fi

MODE=$MODE N=$N REPS=$REPS THREADS=$THREADS PEAK=$PEAK PEAK_SOURCE=$PEAK_SOURCE CPU=$cpu LOAD=$load \
JAVA_VERSION=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p') \
COMMIT=$(git describe --always --dirty 2>/dev/null || echo unknown) python3 - "$OUT/meta.json" <<'EOF'
import json, os, sys, time
e = os.environ
meta = {"mode": e["MODE"], "texts": int(e["N"]), "reps": int(e["REPS"]), "threads": int(e["THREADS"]),
        "cpu": e["CPU"], "cores": os.cpu_count(), "commit": e["COMMIT"], "load_at_start": float(e["LOAD"]),
        "date": time.strftime("%Y-%m-%d %H:%M"), "peak_source": e["PEAK_SOURCE"],
        "java_version": e["JAVA_VERSION"] or "?"}  # the java on PATH, which every JVM phase runs
if e["PEAK"]:
    meta["peak_gflops"] = float(e["PEAK"])
json.dump(meta, open(sys.argv[1], "w"))
EOF

# Memory first, then the core alone right before the Java latency it is subtracted from.
if has_phase java && [ "$RSS_CALLS" -gt 0 ]; then
    # Heap fixed and touched before loading: RSS growth is then native memory.
    step "sbert4j from Java: memory, $RSS_CALLS calls (own JVM, -Xms256m -Xmx256m -XX:+AlwaysPreTouch)"
    "${JAVA[@]:0:1}" -Xms256m -Xmx256m -XX:+AlwaysPreTouch "${JAVA[@]:1}" rss --model "$MODEL" --corpus "$CORPUS" --n "$N" --calls "$RSS_CALLS" --out "$OUT/java_rss.json"
fi

if has_phase paths; then
    for p in "${PATHS[@]}"; do
        step "sbert4j Rust core, $p path (SBERT4J_CPU=$p): $N texts in batches of 32 x $REPS"
        SBERT4J_CPU=$p target/release/examples/path_speed "$MODEL" "$CORPUS" "$N" "$REPS" 32 "$OUT/path_$p.json"
    done
fi

if has_phase precision; then
    step "sbert4j Rust core, FP32 / BF16 / INT8 (bench/rust/precision_speed.rs): $N texts in batches of 32 x $REPS, and one by one"
    target/release/examples/precision_speed "$MODEL" "$CORPUS" "$N" "$REPS" "$OUT/precision.json"
fi

if has_phase core; then
    step "sbert4j Rust core alone (bench/rust/bench_core.rs): $N texts x $REPS"
    target/release/examples/bench_core "$MODEL" "$CORPUS" "$N" "$REPS" "$OUT/core.json"
fi

if has_phase side; then
    step "sbert4j Rust core, two encoders of threads(1) at once against one (bench/rust/side_by_side.rs): $N texts each x $REPS"
    # The budget holds both encoders' threads; the ratio is the figure (about 2 on 2 free cores).
    SBERT4J_THREADS=$(( THREADS > 2 ? THREADS : 2 )) target/release/examples/side_by_side 2 1 "$N" "$REPS" "$MODEL" "$CORPUS" | tee "$OUT/side_by_side.log"
fi

if has_phase java; then
    # Heap committed and touched up front, as in a JVM that has run a while:
    # otherwise the first touches of fresh heap pages (page faults in
    # whichever call's allocation reaches them) land in the timed calls.
    step "sbert4j from Java: latency, batches, 16 callers, micro-batching (-Xms1g -Xmx1g -XX:+AlwaysPreTouch)"
    "${JAVA[@]:0:1}" -Xms1g -Xmx1g -XX:+AlwaysPreTouch "${JAVA[@]:1}" perf --model "$MODEL" --corpus "$CORPUS" --n "$N" --reps "$REPS" \
        --out "$OUT/java_perf.json" --vectors "$OUT/sbert4j.f32" --bridge-model "$ROOT/tests/fixtures/models/bert-mean-sqrt-len-st6"
fi

if has_phase peers; then
    step "LangChain4j's in-process all-MiniLM-L6-v2 (ONNX Runtime, plain and quantized) beside sbert4j, through its EmbeddingModel"
    gradle -q :sbert4j-langchain4j:peerBench -Pn="$N" -Preps="$REPS" -Pthreads="$THREADS" -Pout="$OUT/peers.json" >&2
fi

if has_phase python; then
    step "sentence-transformers and ONNX Runtime: $N texts x $REPS"
    "$PY" bench/python_peers.py --model "$MODEL" --corpus "$CORPUS" --n "$N" --reps "$REPS" --threads "$THREADS" \
        --onnx "$OUT/model.onnx" --out "$OUT/python.json" --vectors-dir "$OUT"
fi

if has_phase mpnet; then
    N_MPNET=$((N / 2))
    step "all-mpnet-base-v2, batch 32: sbert4j Rust core (auto path), $N_MPNET texts x $REPS"
    target/release/examples/path_speed "$MPNET_MODEL" "$CORPUS" "$N_MPNET" "$REPS" 32 "$OUT/mpnet_core.json"
    step "all-mpnet-base-v2, batch 32: sentence-transformers and ONNX Runtime, $N_MPNET texts x $REPS"
    "$PY" bench/python_peers.py --model "$MPNET_MODEL" --corpus "$CORPUS" --n "$N_MPNET" --reps "$REPS" --threads "$THREADS" \
        --onnx "$OUT/mpnet.onnx" --out "$OUT/mpnet_python.json" --vectors-dir "$OUT/mpnet" --batch-sizes 32 --no-single --systems st,ort
fi

# The seed's FastAPI service on MODEL under wrk, the texts of CORPUS (its first N),
# each endpoint WRK_REPS x WRK_SECONDS after a warm-up: DEST/seed.json (and its logs there).
run_seed_service() { # model corpus n dest
    local model=$1 corpus=$2 n=$3 dest=$4
    mkdir -p "$dest"
    step "the seed's FastAPI service on $(basename "$model") under wrk -t2 -c32 (${WRK_REPS} x ${WRK_SECONDS}s per endpoint)"
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$PY" bench/seed_service.py --model "$model" --port "$PORT" --threads "$THREADS" >"$dest/seed_service.log" 2>&1 &
    SEED_PID=$!
    trap 'kill "$SEED_PID" 2>/dev/null || true' EXIT
    local health=
    for _ in $(seq 240); do
        health=$(curl -sf "http://127.0.0.1:$PORT/health" 2>/dev/null) && break
        kill -0 "$SEED_PID" 2>/dev/null || die "the seed service exited: see $dest/seed_service.log"
        sleep 0.5
    done
    [ -n "$health" ] || die "the seed service did not come up: see $dest/seed_service.log"
    echo "service up: $health" >&2
    local endpoint answer variant rep line
    for endpoint in embed embed_async; do
        answer=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"text": "a test sentence"}' "http://127.0.0.1:$PORT/$endpoint")
        python3 -c 'import json, sys; assert len(json.loads(sys.argv[1])["embedding"]) == 384' "$answer" \
            || die "/$endpoint did not answer an embedding"
    done
    run_wrk() { # endpoint seconds -> the WRK_JSON line
        wrk -t2 -c32 -d"$2"s --timeout 10s -s bench/wrk_corpus.lua "http://127.0.0.1:$PORT/$1" -- "$corpus" "$n" \
            | tee -a "$dest/wrk.log" | sed -n 's/^WRK_JSON //p'
    }
    : >"$dest/seed_runs.txt"
    for variant in plain async; do
        endpoint=embed; [ "$variant" = async ] && endpoint=embed_async
        echo "/$endpoint: warm-up ${WRK_WARMUP}s" >&2
        run_wrk "$endpoint" "$WRK_WARMUP" >/dev/null
        for rep in $(seq "$WRK_REPS"); do
            line=$(run_wrk "$endpoint" "$WRK_SECONDS")
            echo "$variant $line" >>"$dest/seed_runs.txt"
            echo "/$endpoint rep $rep: $line" >&2
        done
    done
    kill "$SEED_PID" 2>/dev/null || true
    wait "$SEED_PID" 2>/dev/null || true
    trap - EXIT
    python3 - "$dest/seed_runs.txt" "$dest/seed.json" "$health" <<'EOF'
import json, sys
runs = {"plain": [], "async": []}
for line in open(sys.argv[1]):
    variant, data = line.split(" ", 1)
    runs[variant].append(json.loads(data))
runs["async_via"] = json.loads(sys.argv[3]).get("async_via")
json.dump(runs, open(sys.argv[2], "w"))
EOF
}

if has_phase seed; then
    run_seed_service "$MODEL" "$CORPUS" "$N" "$OUT"
fi

if has_phase multilingual; then
    # The seed's own workload: a full-size random-weight stand-in of
    # paraphrase-multilingual-MiniLM-L12-v2 (built once into a cache directory by
    # bench/make_multilingual_standin.py) on the short Chinese texts of
    # bench/zh_corpus.txt. Results in OUT/multilingual/.
    ML=$OUT/multilingual ML_CORPUS=$ROOT/bench/zh_corpus.txt
    mkdir -p "$ML"
    step "the seed's workload: the stand-in of paraphrase-multilingual-MiniLM-L12-v2 (bench/make_multilingual_standin.py)"
    ML_MODEL=$("$PY" bench/make_multilingual_standin.py --corpus "$ML_CORPUS" | tail -1)
    [ -s "$ML_MODEL/model.safetensors" ] || die "no stand-in model in '$ML_MODEL'"
    cp "$ML_MODEL/config.json" "$ML/config.json"
    echo "{\"model\": \"$ML_MODEL\", \"texts\": $ML_N, \"reps\": $ML_REPS, \"rss_calls\": $ML_RSS_CALLS}" >"$ML/meta.json"
    if [ "$ML_RSS_CALLS" -gt 0 ]; then
        for p in FP32 BF16 INT8; do
            step "multilingual, sbert4j from Java, $p: RSS after opening and $ML_RSS_CALLS encodes of the Chinese corpus (own JVM, -Xms256m -Xmx256m -XX:+AlwaysPreTouch)"
            "${JAVA[@]:0:1}" -Xms256m -Xmx256m -XX:+AlwaysPreTouch "${JAVA[@]:1}" rss --model "$ML_MODEL" --corpus "$ML_CORPUS" \
                --n 1000000 --warmup 300 --calls "$ML_RSS_CALLS" --precision "$p" --out "$ML/java_rss_${p,,}.json"
        done
    fi
    step "multilingual, sbert4j Rust core, FP32 / BF16 / INT8: $ML_N texts in batches of 32 x $ML_REPS, and one by one"
    target/release/examples/precision_speed "$ML_MODEL" "$ML_CORPUS" "$ML_N" "$ML_REPS" "$ML/precision.json"
    for p in FP32 BF16 INT8; do
        step "multilingual, sbert4j from Java, $p: 16 callers alternating with encodeBatch(32), $ML_N texts x $ML_REPS (-Xms1g -Xmx1g -XX:+AlwaysPreTouch)"
        "${JAVA[@]:0:1}" -Xms1g -Xmx1g -XX:+AlwaysPreTouch "${JAVA[@]:1}" callers --model "$ML_MODEL" --corpus "$ML_CORPUS" \
            --n "$ML_N" --reps "$ML_REPS" --precision "$p" --callers 16 --out "$ML/java_callers_${p,,}.json" --vectors "$ML/sbert4j_${p,,}.f32"
    done
    step "multilingual, sentence-transformers and ONNX Runtime (fp32, int8): $ML_N texts x $ML_REPS, batch 32 and single"
    "$PY" bench/python_peers.py --model "$ML_MODEL" --corpus "$ML_CORPUS" --n "$ML_N" --reps "$ML_REPS" --threads "$THREADS" \
        --onnx "$ML/model.onnx" --out "$ML/python.json" --vectors-dir "$ML" --batch-sizes 32 --systems st,ort,ortq
    rm -f "$ML"/model.onnx*   # about 470 + 120 MB, made again each run
    run_seed_service "$ML_MODEL" "$ML_CORPUS" "$ML_N" "$ML"
fi

if has_phase rerank; then
    # Reranking: a stand-in of cross-encoder/ms-marco-MiniLM-L6-v2 (its shape, all-MiniLM-L6-v2's encoder
    # weights, a random head; built once into the cache), one query against 32 documents. Results in OUT/rerank/.
    RR=$OUT/rerank RR_QUERIES=$((N / 10))
    mkdir -p "$RR"
    step "rerank: the stand-in of cross-encoder/ms-marco-MiniLM-L6-v2 (bench/rerank_peers.py)"
    RR_MODEL=$("$PY" bench/rerank_peers.py standin --base "$MODEL" --out "${SBERT4J_BENCH_CACHE:-$HOME/.cache/sbert4j-bench}/rerank-standin" | tail -1)
    step "rerank, sbert4j Rust core: $RR_QUERIES queries x 32 documents x $REPS"
    target/release/examples/rerank_speed "$RR_MODEL" "$CORPUS" "$RR_QUERIES" "$REPS" "$RR/core.json"
    step "rerank, sentence-transformers and ONNX Runtime (the same weights exported): $RR_QUERIES queries x $REPS"
    "$PY" bench/rerank_peers.py run --model "$RR_MODEL" --corpus "$CORPUS" --queries "$RR_QUERIES" --reps "$REPS" \
        --threads "$THREADS" --onnx "$RR/model.onnx" --out "$RR/python.json"
    step "rerank, through LangChain4j's ScoringModel: sbert4j beside OnnxScoringModel on the same ONNX file"
    gradle -q :sbert4j-langchain4j:rerankBench -PrerankModel="$RR_MODEL" -PrerankOnnx="$RR/model.onnx" -Pqueries="$RR_QUERIES" \
        -Preps="$REPS" -Pthreads="$THREADS" -Pout="$RR/java.json" >&2
    rm -f "$RR"/model.onnx*
fi

step "report"
python3 bench/report.py "$OUT" "$MODEL"
