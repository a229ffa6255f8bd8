#!/usr/bin/env python3
"""Merges what bench/run.sh measured (the JSON files in OUT) into one
markdown table, printed and written to OUT/report.md.

    python3 bench/report.py OUT MODEL_DIR

Every figure is the median over repetitions, with the min-max spread.
"vs ONNX" is the figure divided by ONNX Runtime's matching figure (for
latencies lower is better, for rates higher is better). Effective GFLOP/s
count the model's useful work only: per text of n real tokens (tokenizer,
max_seq_length 256, no padding), L x (2n(4h^2 + 2hI) + 4n^2 h) flops for L
layers, hidden size h, intermediate size I (about 21 MFLOP per token for
all-MiniLM-L6-v2); "% peak" divides by the measured FMA peak.
Standard library only: runs with any python3.
"""
import json
import math
import os
import statistics
import struct
import sys


def load(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def narrow_peaks(out):
    """fma_narrow.jsonl (bench/fma_peak.c's int8 and bf16 kinds): kind -> its object."""
    path = os.path.join(out, "fma_narrow.jsonl")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {o["kind"]: o for o in map(json.loads, filter(str.strip, f))}


def kernel_peak(narrow, path, precision, fp32_peak):
    """The measured peak of the instructions sbert4j's kernel for `precision`
    runs on `path` (or ONNX Runtime's int8 kernel, precision "ort-int8"), and
    its name: (peak, label); the fp32 FMA peak, None where that is it."""
    has = lambda kind: narrow.get(kind, {}).get("supported")
    if precision == "bf16" and path == "avx512" and has("bf16-512"):
        return narrow["bf16-512"]["gops_best"], "AVX512_BF16 dot peak"
    if precision in ("int8", "ort-int8") and path == "avx512" and has("vnni-512"):
        return narrow["vnni-512"]["gops_best"], "AVX512-VNNI int8 peak"
    if precision == "int8" and path in ("avx512", "avx2") and has("int8"):
        return narrow["int8"]["gops_best"], "exact AVX2 int8 sequence's peak"
    if precision == "ort-int8" and has("int8-saturating"):
        return narrow["int8-saturating"]["gops_best"], "saturating AVX2 int8 sequence's peak"
    return fp32_peak, None


def auto_path(out):
    """The CPU path `auto` picks on the benchmark's machine (the best whose
    FMA peak phase ran), avx2 when unknown."""
    return next((p for p in ("avx512", "avx2", "portable") if os.path.exists(os.path.join(out, f"fma_{p}.json"))), "avx2")


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs, fmt):
    return f"{fmt(min(xs))}–{fmt(max(xs))}" if xs and len(xs) > 1 else ""


def flops_per_text(n, cfg):
    L, h, inter = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["intermediate_size"]
    return L * (2 * n * (4 * h * h + 2 * h * inter) + 4 * n * n * h)


def read_f32(path, dim):
    with open(path, "rb") as f:
        data = f.read()
    flat = struct.unpack(f"<{len(data) // 4}f", data)
    return [list(flat[i:i + dim]) for i in range(0, len(flat), dim)]


def read_npy(path):
    """float32 2-D .npy (version 1/2/3 header, C order) without numpy."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    hlen, start = (struct.unpack("<H", data[8:10])[0], 10) if major == 1 else (struct.unpack("<I", data[8:12])[0], 12)
    header = eval(data[start:start + hlen].decode("latin1"))  # a dict literal written by numpy
    assert header["descr"] == "<f4" and not header["fortran_order"], header
    rows, dim = header["shape"]
    flat = struct.unpack(f"<{rows * dim}f", data[start + hlen:start + hlen + rows * dim * 4])
    return [list(flat[i:i + dim]) for i in range(0, len(flat), dim)]


def agreement(a, b):
    n = min(len(a), len(b))
    min_cos, max_diff = 1.0, 0.0
    for u, v in zip(a[:n], b[:n]):
        dot = sum(x * y for x, y in zip(u, v))
        nu, nv = math.sqrt(sum(x * x for x in u)), math.sqrt(sum(y * y for y in v))
        min_cos = min(min_cos, dot / (nu * nv) if nu and nv else 0.0)
        max_diff = max(max_diff, max(abs(x - y) for x, y in zip(u, v)))
    return n, min_cos, max_diff


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, system, value, spread_="", vs_onnx="", gflops=None, peak=None, target=""):
        pct = f"{100 * gflops / peak:.0f}%" if gflops and peak else ""
        g = f"{gflops:.0f}" if gflops else ""
        self.rows.append([figure, system, value, spread_, vs_onnx, g, pct, target])

    def markdown(self):
        head = ["figure", "system", "median", "spread (min–max)", "vs ONNX Runtime", "eff. GFLOP/s", "% peak", "target / note"]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in self.rows]
        return "\n".join(lines)


def check(ok):
    return "✓" if ok else "✗"


def multilingual_table(out, peak, peak_note):
    """The multilingual phase (OUT/multilingual): the seed's workload on the
    full-size stand-in of paraphrase-multilingual-MiniLM-L12-v2, one table with
    its own targets. None when the phase did not run."""
    ml = os.path.join(out, "multilingual")
    if not os.path.isdir(ml) or not os.path.exists(os.path.join(ml, "config.json")):
        return None
    with open(os.path.join(ml, "config.json")) as f:
        cfg = json.load(f)
    meta = load(ml, "meta.json") or {}
    prec, py, seed = load(ml, "precision.json"), load(ml, "python.json"), load(ml, "seed.json")
    callers = {p: load(ml, f"java_callers_{p}.json") for p in ("fp32", "bf16", "int8")}
    rss = {p: load(ml, f"java_rss_{p}.json") for p in ("fp32", "bf16", "int8")}
    tokens = (py or {}).get("tokens_per_text")
    flops_mean = statistics.mean(flops_per_text(t, cfg) for t in tokens) if tokens else None
    gf_rate = lambda rate: rate * flops_mean / 1e9 if flops_mean and rate else None
    gf_lat = lambda us: flops_mean / (us * 1e-6) / 1e9 if flops_mean and us else None
    ms = lambda us: f"{us / 1e3:.2f} ms"
    ms0 = lambda us: f"{us / 1e3:.2f}"
    r0 = lambda x: f"{x:.0f}"
    py = py or {}
    ort_lat = med(py["ort"]["single"]["p50_us"]) if "ort" in py and "single" in py["ort"] else None
    ortq_lat = med(py["ortq"]["single"]["p50_us"]) if "ortq" in py and "single" in py["ortq"] else None
    ort_b32 = med(py["ort"]["batch"]["32"]["sent_per_s"]) if "ort" in py else None
    ortq_b32 = med(py["ortq"]["batch"]["32"]["sent_per_s"]) if "ortq" in py else None
    t = Table()
    # % of the peak of the instructions each system's kernel runs (the
    # auto path's for sbert4j from Java; ONNX Runtime int8 on its own kind).
    narrow = narrow_peaks(out)
    auto = (prec or {}).get("path") or auto_path(out)
    peaks = {name: kernel_peak(narrow, auto, name, peak) for name in ("fp32", "bf16", "int8", "ort-int8")}
    peak_of = lambda name: peaks[name][0]
    peak_labels = {name: label for name, (_, label) in peaks.items() if label}

    # Single-text latency p50: target ≤ 0.6× ONNX Runtime's (fp32).
    def lat_target(us, name):
        if not ort_lat:
            return "≤ 0.6× ONNX Runtime fp32"
        note = f"≤ 0.6× ONNX Runtime fp32 {check(us <= 0.6 * ort_lat)} ({us / ort_lat:.2f}×)"
        if name == "int8" and ortq_lat:
            note += f"; {us / ortq_lat:.2f}× ONNX Runtime int8's"
        return note
    if prec:
        for p in ("fp32", "bf16", "int8"):
            if p in prec:
                us = prec[p]["single_ms_p50"] * 1e3
                t.add("1-text latency p50", f"sbert4j Rust core, {p.upper()}", ms(us), "",
                      f"{us / ort_lat:.2f}×" if ort_lat else "", gf_lat(us), peak_of(p),
                      lat_target(us, p) + f"; p90 {prec[p]['single_ms_p90']:.2f} ms; {prec['path']} path, {prec['threads']} threads")
    for p, c in callers.items():
        if c and "single" in c:
            us = med(c["single"]["p50_us"])
            t.add("1-text latency p50", f"sbert4j encode(String), Java, {p.upper()}", ms(us), "",
                  f"{us / ort_lat:.2f}×" if ort_lat else "", gf_lat(us), peak_of(p), lat_target(us, p) + "; one pass")
    for key, label in (("ort", "ONNX Runtime fp32 (Python)"), ("ortq", "ONNX Runtime int8 (Python), quantize_dynamic"),
                       ("st", "sentence-transformers")):
        if key in py and "single" in py[key]:
            d = py[key]["single"]
            us = med(d["p50_us"])
            t.add("1-text latency p50", label, ms(us), spread(d["p50_us"], ms0), f"{us / ort_lat:.2f}×" if ort_lat else "",
                  gf_lat(med(d["mean_us"])), peak_of("ort-int8") if key == "ortq" else peak, "reference" if key == "ort" else "")

    # Batch 32: target ≥ 1.5× ONNX Runtime's (fp32).
    def rate_target(rate, name):
        if not ort_b32:
            return "≥ 1.5× ONNX Runtime fp32"
        note = f"≥ 1.5× ONNX Runtime fp32 {check(rate >= 1.5 * ort_b32)} ({rate / ort_b32:.2f}×)"
        if name == "int8" and ortq_b32:
            note += f"; {rate / ortq_b32:.2f}× ONNX Runtime int8's"
        return note
    if prec:
        for p in ("fp32", "bf16", "int8"):
            if p in prec:
                rates = prec[p]["batch32_sent_per_s"]
                t.add("batch 32, sent/s", f"sbert4j Rust core, {p.upper()}", r0(med(rates)), spread(rates, r0),
                      f"{med(rates) / ort_b32:.2f}×" if ort_b32 else "", gf_rate(med(rates)), peak_of(p), rate_target(med(rates), p))
    for p, c in callers.items():
        if c:
            rates = c["batch32"]["sent_per_s"]
            t.add("batch 32, sent/s", f"sbert4j encodeBatch, Java, {p.upper()}", r0(med(rates)), spread(rates, r0),
                  f"{med(rates) / ort_b32:.2f}×" if ort_b32 else "", gf_rate(med(rates)), peak_of(p),
                  rate_target(med(rates), p) + "; alternating with the 16 callers below")
    for key, label in (("ort", "ONNX Runtime fp32 (Python)"), ("ortq", "ONNX Runtime int8 (Python), quantize_dynamic"),
                       ("st", "sentence-transformers")):
        if key in py and "32" in py[key].get("batch", {}):
            rates = py[key]["batch"]["32"]["sent_per_s"]
            t.add("batch 32, sent/s", label, r0(med(rates)), spread(rates, r0),
                  f"{med(rates) / ort_b32:.2f}×" if ort_b32 else "", gf_rate(med(rates)), peak_of("ort-int8") if key == "ortq" else peak,
                  "reference" if key == "ort" else "")

    # 16 callers: target ≥ 0.95× batch 32 (same encoder, alternating pairs).
    for p, c in callers.items():
        if c:
            rates, ratios = c["callers"]["sent_per_s"], c["callers_over_batch32"]
            ratio = med(ratios)
            note = (f"≥ 0.95× its batch 32 {check(ratio >= 0.95)} ({ratio:.2f}×, median of {len(ratios)} alternating pairs"
                    f"{', ' + spread(ratios, lambda x: f'{x:.2f}') if len(ratios) > 1 else ''})")
            if "mean_texts_per_pass" in c["callers"]:
                note += f"; micro-batching, {c['callers']['mean_texts_per_pass']:.1f} texts a pass"
            note += f"; p50 per call {ms(med(c['callers']['p50_us']))}"
            t.add(f"{c['callers']['callers']} callers, encode(String), texts/s", f"sbert4j, Java threads, {p.upper()}",
                  r0(med(rates)), spread(rates, r0), f"{med(rates) / ort_b32:.2f}×" if ort_b32 else "",
                  gf_rate(med(rates)), peak_of(p), note)
    if "ortq" in py and "callers" in py["ortq"]:
        rates = py["ortq"]["callers"]["sent_per_s"]
        t.add(f"{py['ortq']['callers']['callers']} callers, texts/s", "ONNX Runtime int8 (Python threads)", r0(med(rates)),
              spread(rates, r0), f"{med(rates) / ort_b32:.2f}×" if ort_b32 else "", gf_rate(med(rates)), peak_of("ort-int8"),
              "one text a call")
    if seed:
        for variant, label in (("plain", "seed FastAPI, plain def"), ("async", "seed FastAPI, async + sync_to_async")):
            runs = seed.get(variant) or []
            if runs:
                rates = [r["requests"] / (r["duration_us"] / 1e6) for r in runs]
                errors = sum(r["errors_status"] + r["errors_timeout"] + r["errors_connect"] + r["errors_read"] for r in runs)
                note = f"wrk -t2 -c32, Chinese corpus; p50 {ms(med([r['p50_us'] for r in runs]))}"
                note += f"; {errors} errors" if errors else ""
                fp32 = callers.get("fp32")
                if fp32:
                    note += f"; sbert4j FP32 16 callers {med(fp32['callers']['sent_per_s']) / med(rates):.1f}× this"
                t.add("HTTP service, req/s", label, r0(med(rates)), spread(rates, r0),
                      f"{med(rates) / ort_b32:.2f}×" if ort_b32 else "", gf_rate(med(rates)), peak, note)

    # Memory: RSS growth of the JVM after opening and K encodes, target ≤ 200 MiB.
    for p, r in rss.items():
        if not r:
            continue
        mib = lambda kib: kib / 1024
        growth = mib(r["rss_after_calls_kib"] - r["rss_before_load_kib"])
        target = f"≤ 200 MiB {check(growth <= 200)}" if r["calls"] >= 10000 else \
            f"(target ≤ 200 MiB after 10,000: {'under' if growth <= 200 else 'over'} it after {r['calls']:,})"
        t.add(f"RSS growth, open + {r['calls']:,} encodes", f"sbert4j, Java, {p.upper()}", f"+{growth:.0f} MiB", "", "",
              None, None,
              f"{target}; after open +{mib(r['rss_after_open_kib'] - r['rss_before_load_kib']):.0f}, after 1 encode "
              f"+{mib(r['rss_after_first_encode_kib'] - r['rss_before_load_kib']):.0f}, after a pass over the corpus "
              f"+{mib(r['rss_after_warmup_kib'] - r['rss_before_load_kib']):.0f} MiB; weights file "
              f"{r['weights_bytes'] / 2**20:.0f} MiB; {r['calls_per_s']:.0f} calls/s")

    # Same work: the vectors against sentence-transformers'.
    st_path = os.path.join(ml, "st.npy")
    if os.path.exists(st_path):
        st = read_npy(st_path)
        dim = len(st[0])
        largest = max(abs(x) for v in st for x in v)
        others = [(f"sbert4j {p.upper()}", os.path.join(ml, f"sbert4j_{p}.f32"), p) for p in ("fp32", "bf16", "int8")]
        others += [("ONNX Runtime fp32", os.path.join(ml, "ort.npy"), "ort"), ("ONNX Runtime int8", os.path.join(ml, "ortq.npy"), "ortq")]
        for name, path, key in others:
            if not os.path.exists(path):
                continue
            vecs = read_f32(path, dim) if path.endswith(".f32") else read_npy(path)
            k, cos, diff = agreement(vecs, st)
            # The model has no Normalize: vectors are not unit length, so the difference is
            # also given relative to the largest component of sentence-transformers' vectors.
            rel = diff / largest if largest else float("inf")
            note = f"min cosine {cos:.7f} over {k} texts; max abs diff / largest component {rel:.1e}"
            if key == "fp32":
                note += f"; parity ≤ 1e-5 relative {check(rel <= 1e-5 and cos >= 0.99999)}"
            if key == "ortq" and "quality_vs_st" in py.get("ortq", {}):
                note += f"; 10-nearest-neighbour overlap {100 * py['ortq']['quality_vs_st']['neighbour_overlap']:.1f}%"
            t.add("vectors vs sentence-transformers", name, f"max abs diff {diff:.1e}", "", "", None, None, note)

    lines = ["", "## The seed's workload (phase multilingual)", ""]
    lines.append(f"- model: a full-size random-weight stand-in of paraphrase-multilingual-MiniLM-L12-v2 "
                 f"(bench/make_multilingual_standin.py: {cfg['architectures'][0]}, {cfg['num_hidden_layers']} layers, "
                 f"hidden {cfg['hidden_size']}, {cfg['num_attention_heads']} heads, intermediate {cfg['intermediate_size']}, "
                 f"{cfg['vocab_size']:,} embedding rows, a 250,002-piece XLM-R style Unigram tokenizer, mean pooling, "
                 f"max_seq_length {py.get('max_seq_length', 128)})")
    if tokens:
        lines.append(f"- corpus: first {len(tokens)} lines of bench/zh_corpus.txt (generated short Chinese customer-service "
                     f"phrases); tokens per text median {med(tokens):.0f}, mean {statistics.mean(tokens):.1f}, max {max(tokens)}; "
                     f"{flops_per_text(1, cfg) / 1e6:.1f} MFLOP/token, {flops_mean / 1e6:.0f} MFLOP per text on average")
    others = "; ".join(f"{name.upper().replace('ORT-INT8', 'ONNX Runtime int8')}: of the {label} ({peak_of(name):.0f} GOP/s)"
                       for name, label in peak_labels.items())
    lines.append(f"- repetitions: {meta.get('reps', '?')}; % peak: of the peak of the instructions each kernel runs: fp32, of the "
                 f"fp32 FMA peak {peak:.0f} GFLOP/s ({peak_note})" + (f"; {others}" if others else "; every precision here"))
    lines.append("")
    lines.append(t.markdown())
    lines.append("")
    lines.append("Targets (issue #17, the seed's workload): single-text p50 ≤ 0.6× ONNX Runtime's, batch 32 ≥ 1.5×, "
                 "16 callers ≥ 0.95× batch 32, RSS growth after opening and 10,000 encodes ≤ 200 MiB. "
                 "\"vs ONNX Runtime\": against ONNX Runtime fp32's matching figure (for the callers and the service: "
                 "its batch 32).")
    return lines


def rerank_rows(t, out):
    """Phase rerank (OUT/rerank/): one query against 32 documents on the stand-in of
    cross-encoder/ms-marco-MiniLM-L6-v2, ms per rerank (lower is better): the Rust core,
    sbert4j and LangChain4j's OnnxScoringModel through LangChain4j's ScoringModel, ONNX
    Runtime and sentence-transformers. Targets: >= 2x LangChain4j, >= 1.5x ONNX Runtime."""
    d = os.path.join(out, "rerank")
    core, java, py = load(d, "core.json"), load(d, "java.json"), load(d, "python.json")
    if not (core or java or py):
        return
    fig = "rerank 1 query x 32 docs, ms"
    systems = {}
    if core:
        systems["sbert4j Rust core"] = core["mean_ms"]
    for name, r in ((java or {}).get("systems") or {}).items():
        systems[name] = r["mean_ms"]
    for name, r in ((py or {}).get("systems") or {}).items():
        systems[name + " (Python)"] = r["mean_ms"]
    ort = med(systems["ONNX Runtime (Python)"]) if "ONNX Runtime (Python)" in systems else None
    lc = med(systems["LangChain4j OnnxScoringModel"]) if "LangChain4j OnnxScoringModel" in systems else None
    for name, ms in systems.items():
        m = med(ms)
        note = ""
        if name.startswith("sbert4j") and ort:
            note += f"≥ 1.5× ONNX Runtime {check(ort / m >= 1.5)} ({ort / m:.2f}×)"
        if name.startswith("sbert4j (LangChain4j") and lc:
            note += f"; ≥ 2× LangChain4j {check(lc / m >= 2)} ({lc / m:.2f}×)"
        t.add(fig, name, f"{m:.2f}", spread(ms, lambda x: f"{x:.2f}"), f"{ort / m:.2f}×" if ort else "", None, None, note)


def main():
    out, model_dir = sys.argv[1], sys.argv[2]
    meta = load(out, "meta.json") or {}
    fma = load(out, "fma.json")
    jp, jr = load(out, "java_perf.json"), load(out, "java_rss.json")
    core, py, seed = load(out, "core.json"), load(out, "python.json"), load(out, "seed.json")
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)

    peak = meta.get("peak_gflops")
    peak_note = meta.get("peak_source", "")
    if peak is None:
        peak = fma["gflops_best"] if fma else 540.0
        peak_note = "measured" if fma else "default"

    tokens = py["tokens_per_text"] if py else None
    if not tokens:  # without the Python phase: the token counts the CPU-paths phase wrote
        tokens = next((d["tokens_per_text"] for d in (load(out, f"path_{p}.json") for p in ("avx512", "avx2", "portable"))
                       if d and d.get("tokens_per_text")), None)
    n = len(tokens) if tokens else (jp or {}).get("texts", 0)
    flops_mean = statistics.mean(flops_per_text(t, cfg) for t in tokens) if tokens else None
    per_token = flops_per_text(1, cfg)  # the n^2 term is negligible at n = 1
    gf_rate = lambda rate: rate * flops_mean / 1e9 if flops_mean and rate else None
    gf_lat = lambda us: flops_mean / (us * 1e-6) / 1e9 if flops_mean and us else None

    t = Table()
    ms = lambda us: f"{us / 1e3:.2f} ms"
    ms0 = lambda us: f"{us / 1e3:.2f}"
    r0 = lambda x: f"{x:.0f}"

    # Single-text latency.
    ort_lat = med(py["ort"]["single"]["p50_us"]) if py and "ort" in py else None
    ort_mean = med(py["ort"]["single"]["mean_us"]) if py and "ort" in py else None
    lat_rows = []
    if jp:
        lat_rows.append(("sbert4j encode(String), Java", jp["single"], "java"))
    if core:
        lat_rows.append(("sbert4j Rust core, no JNI", {"p50_us": core["p50_us"], "mean_us": core["mean_us"]}, "core"))
    if py and "ort" in py:
        lat_rows.append(("ONNX Runtime (Python)", py["ort"]["single"], "ort"))
    if py and "st" in py:
        lat_rows.append(("sentence-transformers", py["st"]["single"], "st"))
    for name, d, key in lat_rows:
        p50 = med(d["p50_us"])
        ratio = f"{p50 / ort_lat:.2f}×" if ort_lat else ""
        target = ""
        if key == "java":
            p90 = med(d.get("p90_us", []))
            target = f"≤ 0.75× ONNX {check(ort_lat and p50 <= 0.75 * ort_lat)}" if ort_lat else "≤ 0.75× ONNX"
            target += f"; p90 {ms(p90)}" if p90 else ""
        elif key == "ort":
            target = "reference"
        t.add("1-text latency p50", name, ms(p50), spread(d["p50_us"], ms0), ratio, gf_lat(med(d["mean_us"])), peak, target)

    # Batch throughput.
    for bs in ("1", "8", "32", "128"):
        ort_rate = med(py["ort"]["batch"][bs]["sent_per_s"]) if py and "ort" in py else None
        systems = []
        if jp:
            systems.append(("sbert4j encodeBatch, Java", jp["batch"][bs]["sent_per_s"], "java"))
        if py and "ort" in py:
            systems.append(("ONNX Runtime (Python)", py["ort"]["batch"][bs]["sent_per_s"], "ort"))
        if py and "st" in py:
            systems.append(("sentence-transformers", py["st"]["batch"][bs]["sent_per_s"], "st"))
        for name, rates, key in systems:
            rate = med(rates)
            ratio = f"{rate / ort_rate:.2f}×" if ort_rate else ""
            target = ""
            if key == "java":
                need = 1.2 if bs == "32" else 1.0
                target = f"≥ {need}× ONNX {check(ort_rate and rate >= need * ort_rate)}" if ort_rate else f"≥ {need}× ONNX"
            elif key == "ort":
                target = "reference"
            t.add(f"batch {bs}, sent/s", name, r0(rate), spread(rates, r0), ratio, gf_rate(rate), peak, target)

    # Many callers: sbert4j 16 threads vs the seed service.
    ort_b1 = med(py["ort"]["batch"]["1"]["sent_per_s"]) if py and "ort" in py else None
    seed_rates = {}
    if seed:
        for variant in ("plain", "async"):
            reps = seed.get(variant) or []
            if reps:
                seed_rates[variant] = [r["requests"] / (r["duration_us"] / 1e6) for r in reps]
    best_seed = max((med(v) for v in seed_rates.values()), default=None)
    if jp:
        rates = jp["threads16"]["sent_per_s"]
        rate = med(rates)
        target = "≥ 10× seed service"
        if best_seed:
            target += f" {check(rate >= 10 * best_seed)} ({rate / best_seed:.1f}×)"
        target += f"; p50 per call {ms(med(jp['threads16']['p50_us']))}"
        t.add("16 callers, encode(String), texts/s", "sbert4j, 16 Java threads", r0(rate), spread(rates, r0),
              f"{rate / ort_b1:.2f}× ONNX b1" if ort_b1 else "", gf_rate(rate), peak, target)
    for variant, label in (("plain", "seed FastAPI, plain def"), ("async", "seed FastAPI, async + sync_to_async")):
        if variant in seed_rates:
            rates = seed_rates[variant]
            rate = med(rates)
            p50 = med([r["p50_us"] for r in seed[variant]])
            errors = sum(r["errors_status"] + r["errors_timeout"] + r["errors_connect"] + r["errors_read"] for r in seed[variant])
            note = f"wrk -t2 -c32; p50 {ms(p50)}"
            note += f"; {errors} errors" if errors else ""
            if variant == "async" and seed.get("async_via"):
                note += f"; via {seed['async_via']}"
            t.add("HTTP service, req/s", label, r0(rate), spread(rates, r0),
                  f"{rate / ort_b1:.2f}× ONNX b1" if ort_b1 else "", gf_rate(rate), peak, note)

    # JNI overhead. Measured per call: the Java-side time of encode(String)
    # minus the Rust core's own time inside that same call (which the
    # bridge reports through SentenceEncoder.lastEncodeCoreNanos()). Also,
    # as a cross-check from two separate processes: per text, the fastest
    # Java call minus the fastest call of bench/rust/bench_core.rs.
    if jp and "bridge_us" in jp["single"]:
        b50, bmean, b10, b90 = jp["single"]["bridge_us"]
        note = f"≤ 5 µs {check(b50 <= 5)}; per call, Java-side time − the core's own time in the same call; mean {bmean:.1f} µs, p10–p90 {b10:.1f}–{b90:.1f} µs"
        if core:
            diffs = [a - b for a, b in zip(jp["single"]["min_us_per_text"], core["min_us_per_text"])]
            note += (f"; cross-check against the separate core run (fastest Java − fastest core call per text, "
                     f"two processes, so it carries their noise): mean {statistics.mean(diffs):.1f} µs, median {med(diffs):.1f} µs")
        tiny = jp.get("bridge_tiny_model")
        if tiny:
            # The same figure with a tiny model: the bridge's own cost. The
            # difference is the caches a full model's pass sweeps (its weights
            # stream through them), which the code after the pass refills.
            t50, tmean, t10, t90 = tiny["bridge_us"]
            t.add("JNI bridge's own cost, µs/call (p50)", f"sbert4j Java − Rust core, tiny model ({tiny['model']})",
                  f"{t50:.1f} µs", f"{t10:.1f}–{t90:.1f} (p10–p90)", "", None, None,
                  f"≤ 5 µs {check(t50 <= 5)}; as below, with a test fixture whose pass leaves the caches warm; "
                  f"the full model's figure below adds the refill of the caches its pass swept")
            note = note.replace(f"≤ 5 µs {check(b50 <= 5)}; ", "")
        t.add("JNI overhead, µs/call (p50)", "sbert4j Java − Rust core", f"{b50:.1f} µs", f"{b10:.1f}–{b90:.1f} (p10–p90)", "", None, None, note)
    elif jp and core:
        diffs = [a - b for a, b in zip(jp["single"]["min_us_per_text"], core["min_us_per_text"])]
        mean_diff = statistics.mean(diffs)
        t.add("JNI overhead, µs/call", "sbert4j Java − Rust core", f"{mean_diff:.1f} µs", "", "", None, None,
              f"≤ 5 µs {check(mean_diff <= 5)}; mean over texts of (fastest Java call − fastest core call)")

    # Memory.
    if jr:
        mib = lambda kib: kib / 1024
        weights = jr["weights_bytes"] / 2**20
        loaded = mib(jr["rss_after_first_encode_kib"])
        own = loaded - mib(jr["rss_before_load_kib"])
        # The JVM runs with its heap committed and touched up front (-Xms = -Xmx,
        # AlwaysPreTouch), so RSS growth after that is native memory, not heap sizing.
        t.add("RSS after loading + 1 encode", "sbert4j (growth of the JVM's RSS)", f"+{own:.0f} MiB", "", "", None, None,
              f"≤ weights {weights:.0f} + 64 MiB {check(own <= weights + 64)}; whole JVM {loaded:.0f} MiB, of which "
              f"{mib(jr['rss_before_load_kib']):.0f} MiB before loading (heap of {jr['max_heap_bytes'] / 2**20:.0f} MiB "
              f"committed and touched up front), after open {mib(jr['rss_after_open_kib']):.0f} MiB")
        samples = [mib(s) for s in jr["rss_samples_kib"]]
        # Flat: from the first tenth of the calls (allocator and JIT settled) to the last.
        growth = samples[-1] - samples[0]
        since_warmup = mib(jr["rss_after_calls_kib"] - jr["rss_after_warmup_kib"])
        t.add(f"RSS after {jr['calls']:,} encode(String)", "sbert4j (whole JVM)", f"{samples[-1]:.0f} MiB",
              f"{min(samples):.0f}–{max(samples):.0f} MiB", "", None, None,
              f"flat: {growth:+.1f} MiB from 10% to 100% of the calls {check(growth <= 8)} (≤ 8 MiB); "
              f"{since_warmup:+.1f} MiB since the warm-up pass; {jr['calls_per_s']:.0f} calls/s")

    # Micro-batching.
    if jp:
        if not jp.get("micro_batching_available"):
            t.add("micro-batching", "sbert4j", "n/a", "", "", None, None, "Builder.microBatching(boolean) absent in this build")
        else:
            mb = jp["micro_batching"]
            for callers in ("1", "4", "16", "64"):
                on, off = mb["on"][callers]["sent_per_s"], med(mb["off"][callers]["sent_per_s"])
                t.add(f"micro-batching, {callers} caller(s), texts/s", "sbert4j, micro-batching on", r0(med(on)), spread(on, r0),
                      f"{med(on) / ort_b1:.2f}× ONNX b1" if ort_b1 else "", gf_rate(med(on)), peak,
                      f"off {off:.0f}; gain {med(on) / off:.2f}×")
                run = mb["on"][callers]
                if "encode_batch_at_mean" in run:
                    eb = run["encode_batch_at_mean"]["sent_per_s"]
                    # Alternating repetitions: the median of the pairs' ratios
                    # (older runs measured one after the other: medians' ratio).
                    pairs = run.get("queue_over_batch")
                    ratio = med(pairs) if pairs else med(on) / med(eb)
                    how = (f"median of {len(pairs)} alternating pairs, {min(pairs):.2f}–{max(pairs):.2f}"
                           if pairs else "medians' ratio")
                    goal = f"; ≥ 0.95× {check(ratio >= 0.95)}" if callers in ("16", "64") else ""
                    t.add(f"micro-batching, {callers} callers vs encodeBatch({run['encode_batch_size']})", "sbert4j",
                          r0(med(eb)), spread(eb, r0), "", None, None,
                          f"queue's mean pass {run['mean_texts_per_pass']:.1f} texts; queue/encodeBatch {ratio:.2f}× ({how}){goal}")
            lat_on, lat_off = med(mb["on"]["single"]["p50_us"]), med(mb["off"]["single"]["p50_us"])
            t.add("micro-batching, 1-text latency p50", "sbert4j, micro-batching on", ms(lat_on), spread(mb["on"]["single"]["p50_us"], ms0),
                  f"{lat_on / ort_lat:.2f}×" if ort_lat else "", None, None,
                  f"off {ms(lat_off)}; ≤ +5% {check(lat_on <= 1.05 * lat_off)} ({100 * (lat_on / lat_off - 1):+.1f}%)")

    # Precisions (phase precision): the Rust core at batch 32 and one text at a time.
    prec = load(out, "precision.json")
    narrow = narrow_peaks(out)
    if prec and "fp32" in prec:
        fp32_rate, fp32_lat = med(prec["fp32"]["batch32_sent_per_s"]), prec["fp32"]["single_ms_p50"]
        goals = {"bf16": (1.6, 0.7), "int8": (2.5, None)}
        for name in ("fp32", "bf16", "int8"):
            if name not in prec:
                continue
            rates, lat = prec[name]["batch32_sent_per_s"], prec[name]["single_ms_p50"]
            note = f"{prec['path']} path, {prec['threads']} threads; 1 text p50 {lat:.2f} ms"
            if name != "fp32":
                rate_goal, lat_goal = goals[name]
                note += f"; {med(rates) / fp32_rate:.2f}× FP32 at batch 32 (≥ {rate_goal}× {check(med(rates) / fp32_rate >= rate_goal)})"
                note += f"; latency {lat / fp32_lat:.2f}× FP32's"
                if lat_goal:
                    note += f" (≤ {lat_goal}× {check(lat / fp32_lat <= lat_goal)})"
            own, label = kernel_peak(narrow, prec["path"], name, peak)
            if label:
                note += f"; % of the {label} ({own:.0f} GOP/s)"
            if name == "bf16" and not label:
                note += "; no AVX512_BF16 kernel here: widened to fp32, so the fp32 FMA peak is its ceiling"
            t.add(f"batch 32, sent/s, {name.upper()}", "sbert4j Rust core", r0(med(rates)), spread(rates, r0), "",
                  gf_rate(med(rates)), own, note)

    # ONNX Runtime on the model quantized by quantize_dynamic (per channel), as a user would make it.
    if py and "ortq" in py:
        q = py["ortq"]
        ortq_peak = kernel_peak(narrow, auto_path(out), "ort-int8", peak)[0]
        if "single" in q:
            lat = med(q["single"]["p50_us"])
            t.add("ONNX Runtime int8, 1-text latency p50", "ONNX Runtime (Python), quantize_dynamic", ms(lat),
                  spread(q["single"]["p50_us"], ms0), f"{lat / ort_lat:.2f}×" if ort_lat else "", gf_lat(lat), ortq_peak, "")
        for bs in ("1", "32"):
            if bs in q["batch"]:
                rates = q["batch"][bs]["sent_per_s"]
                t.add(f"ONNX Runtime int8, batch {bs}, sent/s", "ONNX Runtime (Python), quantize_dynamic", r0(med(rates)),
                      spread(rates, r0), "", gf_rate(med(rates)), ortq_peak, "")
        if "callers" in q:
            rates = q["callers"]["sent_per_s"]
            t.add(f"ONNX Runtime int8, {q['callers']['callers']} callers, texts/s", "ONNX Runtime (Python), quantize_dynamic",
                  r0(med(rates)), spread(rates, r0), "", gf_rate(med(rates)), ortq_peak, "Python threads, one text a call")
        if "quality_vs_st" in q:
            g = q["quality_vs_st"]
            t.add("ONNX Runtime int8 against sentence-transformers fp32", "ONNX Runtime (Python), quantize_dynamic",
                  f"min cos {g['min_cosine']:.4f}", "", "", None, None,
                  f"mean cos {g['mean_cosine']:.5f}; 10-nearest-neighbour overlap {100 * g['neighbour_overlap']:.1f}%")

    # LangChain4j's in-process models, through the same EmbeddingModel API (phase peers).
    peers = load(out, "peers.json")
    if peers:
        systems = peers["systems"]
        ours = systems.get("sbert4j")
        theirs = {"langchain4j AllMiniLmL6V2EmbeddingModel": "sbert4j",
                  "langchain4j AllMiniLmL6V2QuantizedEmbeddingModel": "sbert4j int8" if "sbert4j int8" in systems else None}
        kinds = {"sbert4j int8": "int8", "langchain4j AllMiniLmL6V2QuantizedEmbeddingModel": "ort-int8"}
        for name, m in systems.items():
            lat, batch, callers = med(m["latency_p50_us"]), med(m["batch_sent_per_s"]), med(m["callers_sent_per_s"])
            own = kernel_peak(narrow, auto_path(out), kinds.get(name, "fp32"), peak)[0]
            against = theirs.get(name)
            ref = systems.get(against) if against else None
            def vs(ours_value, theirs_value, lower_is_better, goal):
                if not ref:
                    return ""
                ratio = ours_value / theirs_value
                ok = ratio <= goal if lower_is_better else ratio >= goal
                return f"{against}: {ratio:.2f}× ({'≤' if lower_is_better else '≥'} {goal}× {check(ok)})"
            t.add("LangChain4j API, 1-text latency p50", name, ms(lat), spread(m["latency_p50_us"], ms0), "", gf_lat(lat), own,
                  vs(med(ref["latency_p50_us"]), lat, True, 0.5) if ref else "embed(String), each text alone")
            t.add(f"LangChain4j API, embedAll({peers['batch']}), sent/s", name, r0(batch), spread(m["batch_sent_per_s"], r0), "",
                  gf_rate(batch), own, vs(med(ref["batch_sent_per_s"]), batch, False, 2.0) if ref else "")
            t.add(f"LangChain4j API, {peers['callers']} threads embed(), texts/s", name, r0(callers),
                  spread(m["callers_sent_per_s"], r0), "", gf_rate(callers), own,
                  vs(med(ref["callers_sent_per_s"]), callers, False, 2.0) if ref else "")

    # Agreement.
    dim = (jp or {}).get("dimension") or (py or {}).get("dimension")
    vec = {}
    if dim and os.path.exists(os.path.join(out, "sbert4j.f32")):
        vec["sbert4j"] = read_f32(os.path.join(out, "sbert4j.f32"), dim)
    for k in ("st", "ort"):
        p = os.path.join(out, f"{k}.npy")
        if os.path.exists(p):
            vec[k] = read_npy(p)
    names = {"sbert4j": "sbert4j", "st": "sentence-transformers", "ort": "ONNX Runtime"}
    for a, b in (("sbert4j", "st"), ("sbert4j", "ort"), ("ort", "st")):
        if a in vec and b in vec:
            k, cos, diff = agreement(vec[a], vec[b])
            t.add("vector agreement", f"{names[a]} vs {names[b]}", f"max abs diff {diff:.1e}", "", "", None, None,
                  f"min cosine {cos:.7f} over {k} texts; parity ≤ 1e-5 {check(diff <= 1e-5 and cos >= 0.99999)}")

    # Each CPU path of the Rust core at batch 32, against its own peak.
    ort_b32 = med(py["ort"]["batch"]["32"]["sent_per_s"]) if py and "ort" in py and "32" in py["ort"]["batch"] else None
    for path in ("avx512", "avx2", "portable"):
        d = load(out, f"path_{path}.json")
        if not d:
            continue
        own = load(out, f"fma_{path}.json")
        own_peak = own["gflops_best"] if own else None
        rate = med(d["sent_per_s"])
        t.add(f"batch 32, sent/s, {path} path", f"sbert4j Rust core (SBERT4J_CPU={path})", r0(rate), spread(d["sent_per_s"], r0),
              f"{rate / ort_b32:.2f}×" if ort_b32 else "", gf_rate(rate), own_peak,
              f"{d['threads']} threads; % of the {path} path's own peak" + (f" ({own_peak:.0f} GFLOP/s)" if own_peak else " (not measured)")
              + (f"; target ≥ 70% {check(gf_rate(rate) / own_peak >= 0.7)}" if path == "avx2" and own_peak and gf_rate(rate) else ""))

    # all-mpnet-base-v2 at batch 32: the Rust core (auto path) against the peers on the same texts.
    mp_core, mp_py = load(out, "mpnet_core.json"), load(out, "mpnet_python.json")
    mp_cfg_path = os.path.join(os.path.dirname(os.path.abspath(model_dir)), "all-mpnet-base-v2", "config.json")
    if mp_core or mp_py:
        with open(mp_cfg_path) as f:
            mp_cfg = json.load(f)
        mp_tokens = (mp_py or {}).get("tokens_per_text") or mp_core.get("tokens_per_text")
        mp_flops = statistics.mean(flops_per_text(int(x), mp_cfg) for x in mp_tokens) if mp_tokens else None
        mp_gf = lambda rate: rate * mp_flops / 1e9 if mp_flops and rate else None
        mp_ort = med(mp_py["ort"]["batch"]["32"]["sent_per_s"]) if mp_py and "ort" in mp_py else None
        texts = len(mp_tokens) if mp_tokens else "?"
        tok_note = f"{texts} texts, tokens median {med([int(x) for x in mp_tokens]):.0f}" if mp_tokens else ""
        if mp_core:
            rate = med(mp_core["sent_per_s"])
            target = f"≥ 1.2× ONNX Runtime {check(rate >= 1.2 * mp_ort)} ({rate / mp_ort:.2f}×); " if mp_ort else ""
            t.add("all-mpnet-base-v2, batch 32, sent/s", f"sbert4j Rust core ({mp_core['path']} path)", r0(rate),
                  spread(mp_core["sent_per_s"], r0), f"{rate / mp_ort:.2f}×" if mp_ort else "", mp_gf(rate), peak,
                  target + tok_note)
        for k, label in (("ort", "ONNX Runtime"), ("st", "sentence-transformers")):
            if mp_py and k in mp_py:
                rates = mp_py[k]["batch"]["32"]["sent_per_s"]
                t.add("all-mpnet-base-v2, batch 32, sent/s", label, r0(med(rates)), spread(rates, r0),
                      f"{med(rates) / mp_ort:.2f}×" if mp_ort else "", mp_gf(med(rates)), peak, tok_note)

    rerank_rows(t, out)

    for path in ("avx512", "avx2", "portable"):
        f = load(out, f"fma_{path}.json")
        if f:
            t.add(f"FMA peak ({path}, {f['threads']} threads)", "bench/fma_peak.c", f"{f['gflops_median']:.0f} GFLOP/s",
                  f"{f['gflops_min']:.0f}–{f['gflops_best']:.0f}", "", None, None, "best of reps: that path's % peak denominator")
    for kind, what in (("int8", "exact AVX2 int8 (sbert4j's kernel)"), ("int8-saturating", "saturating AVX2 int8 (ONNX Runtime's kind)"),
                       ("vnni-256", "AVX-VNNI int8"), ("vnni-512", "AVX512-VNNI int8"), ("bf16-512", "AVX512_BF16 dot")):
        f = narrow.get(kind)
        if f and f.get("supported"):
            ratio = f" = {f['gops_best'] / fma['gflops_best']:.2f}× the fp32 FMA peak" if fma else ""
            t.add(f"{what} peak ({f['threads']} threads)", "bench/fma_peak.c", f"{f['gops_median']:.0f} GOP/s",
                  f"{f['gops_min']:.0f}–{f['gops_best']:.0f}", "", None, None, f"best of reps{ratio}")
        elif f:
            t.add(f"{what} peak", "bench/fma_peak.c", "not on this CPU", "", "", None, None, "")
    if fma and not any(load(out, f"fma_{p}.json") for p in ("avx512", "avx2", "portable")):
        t.add("FMA peak (2 threads)", "bench/fma_peak.c", f"{fma['gflops_median']:.0f} GFLOP/s",
              f"{fma['gflops_min']:.0f}–{fma['gflops_best']:.0f}", "", None, None, "best of reps is the % peak denominator" if peak_note == "measured" else "")

    lines = []
    lines.append(f"# sbert4j benchmark ({meta.get('mode', '?')} mode, {meta.get('date', '')})")
    lines.append("")
    lines.append(f"- machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores; every system on {meta.get('threads', 2)} threads; "
                 f"sbert4j {meta.get('commit', '?')}")
    if tokens:
        lines.append(f"- corpus: first {n} lines of bench/sentences.txt; tokens per text median {med(tokens):.0f}, "
                     f"mean {statistics.mean(tokens):.1f}, max {max(tokens)} (max_seq_length {(py or {}).get('max_seq_length', 256)}); "
                     f"{per_token / 1e6:.1f} MFLOP/token, {flops_mean / 1e6:.0f} MFLOP per text on average")
    if meta.get("load_at_start", 0) > 0.5:
        lines.append(f"- **warning**: load average {meta['load_at_start']} at the start: the machine was busy, figures are low and noisy")
    lines.append(f"- repetitions: {meta.get('reps', '?')} (median, min–max); FMA peak {peak:.0f} GFLOP/s ({peak_note})")
    java_version = (jp or jr or {}).get("java_version") or meta.get("java_version", "?")
    if not py:  # the Python peers of the multilingual phase, when only it ran
        py_ml = load(os.path.join(out, "multilingual"), "python.json")
        if py_ml:
            v = py_ml["versions"]
            lines.append(f"- peers: torch {v['torch']}, sentence-transformers {v['sentence_transformers']}, "
                         f"onnxruntime {v['onnxruntime']}, Python {v['python']}; Java {java_version}")
    if py:
        v = py["versions"]
        lines.append(f"- peers: torch {v['torch']}, sentence-transformers {v['sentence_transformers']}, "
                     f"onnxruntime {v['onnxruntime']}, Python {v['python']}; Java {java_version}")
    lines.append("")
    lines.append(t.markdown())
    lines.append("")
    lines.append("vs ONNX Runtime: the figure over ONNX Runtime's matching one (latency: lower is better; rates: higher; "
                 "\"ONNX b1\" = its batch-1 rate, one text per call). Effective GFLOP/s: useful flops of the texts "
                 "(real tokens, no padding) per second (latency rows: per mean call time). "
                 "% peak: of the measured peak of the instructions the system's kernel runs (the fp32 FMA peak, "
                 "unless the note or the kernel says AVX512_BF16 or AVX512-VNNI, int8 on AVX2 the exact sequence). "
                 "Spread: min–max over repetitions.")
    lines += multilingual_table(out, peak, peak_note) or []
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
