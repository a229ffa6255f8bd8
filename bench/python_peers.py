#!/usr/bin/env python3
"""The Python peers of bench/run.sh: sentence-transformers (PyTorch) and
ONNX Runtime on the same model, the same texts and the same 2 threads as
sbert4j, measured the way bench/java/.../JavaBench.java measures sbert4j.

    python bench/python_peers.py --model DIR --corpus FILE --n N --reps R \
        --threads 2 --onnx OUT/model.onnx --out OUT/python.json --vectors-dir OUT

- Token counts: the model's tokenizer with sentence-transformers'
  max_seq_length (256 for all-MiniLM-L6-v2), no padding.
- ONNX: the HF model (BertModel, MPNetModel; eager attention) exported with torch.onnx.export
  (TorchScript exporter, opset 17, dynamic batch and sequence axes), output
  last_hidden_state; tokenization with the `tokenizers` library (truncate at
  max_seq_length, pad to the longest text of the call), mean pooling over the
  attention mask and L2 normalization (when the model has a Normalize module,
  as sentence-transformers does) in numpy. Session: intra_op_num_threads
  = threads, inter_op_num_threads = 1, sequential, ORT_ENABLE_ALL.
- sentence-transformers: SentenceTransformer(dir, device="cpu") with
  torch.set_num_threads(threads); encode(text) for one text,
  encode(chunk, batch_size=len(chunk)) for a batch.

Per system: single-text latency (each of the N texts alone, in order, R
passes after a warm-up pass: p50/p90/mean per pass) and batch throughput at
1/8/32/128 (the N texts in corpus order cut into chunks, one call per chunk,
sentences per second per pass). The vectors of the N texts (batches of 32)
go to VECTORS_DIR/{st,ort}.npy for the agreement check.
"""
import argparse
import json
import os
import sys
import time
import warnings

BATCH_SIZES = (1, 8, 32, 128)


def log(msg):
    print(f"  python: {msg}", file=sys.stderr, flush=True)


def latency(encode_one, texts, reps):
    for t in texts:
        encode_one(t)  # warm-up
    p50, p90, mean = [], [], []
    for _ in range(reps):
        us = []
        for t in texts:
            t0 = time.perf_counter()
            encode_one(t)
            us.append((time.perf_counter() - t0) * 1e6)
        mean.append(sum(us) / len(us))
        us.sort()
        p50.append(us[len(us) // 2])
        p90.append(us[min(len(us) - 1, int(0.9 * len(us)))])
    return {"p50_us": p50, "p90_us": p90, "mean_us": mean}


def throughput(encode_many, texts, reps):
    out = {}
    for bs in BATCH_SIZES:
        chunks = [texts[i:i + bs] for i in range(0, len(texts), bs)]
        for c in chunks[:max(2, 64 // bs)]:
            encode_many(c)  # warm-up
        rates = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for c in chunks:
                encode_many(c)
            rates.append(len(texts) / (time.perf_counter() - t0))
        out[str(bs)] = {"sent_per_s": rates}
        log(f"  batch {bs}: {sorted(rates)[len(rates) // 2]:.0f} sent/s")
    return out


def callers(encode_one, texts, reps, threads=16):
    """`threads` Python threads each embedding the next text alone (ONNX Runtime
    releases the GIL while it runs): texts per second per repetition."""
    import threading
    rates = []
    for rep in range(reps + 1):  # the first is a warm-up
        nxt = iter(range(len(texts)))
        lock = threading.Lock()

        def work():
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                encode_one(texts[i])

        workers = [threading.Thread(target=work) for _ in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if rep:
            rates.append(len(texts) / (time.perf_counter() - t0))
    log(f"  {threads} callers: {sorted(rates)[len(rates) // 2]:.0f} texts/s")
    return {"callers": threads, "sent_per_s": rates}


def quality(vecs, reference):
    """Min cosine against `reference` (sentence-transformers' float32 vectors)
    and the mean overlap of each text's 10 nearest neighbours (cosine)."""
    import numpy as np
    a = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    b = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    cos = (a * b).sum(axis=1)

    def neighbours(x):
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return np.argsort(-sim, axis=1)[:, :10]

    na, nb = neighbours(a), neighbours(b)
    overlap = np.mean([len(set(na[i]) & set(nb[i])) / 10 for i in range(len(a))])
    return {"min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()), "neighbour_overlap": float(overlap)}


def input_names(model_dir):
    """The model's inputs: BERT's three, or two for models without token
    types (MPNet, DistilBERT)."""
    from transformers import AutoTokenizer

    names = ["input_ids", "attention_mask", "token_type_ids"]
    return [n for n in names if n in AutoTokenizer.from_pretrained(model_dir).model_input_names]


def export_onnx(model_dir, path, max_len):
    """HF encoder model (BertModel, MPNetModel, ...) -> ONNX with
    last_hidden_state as the only output."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *inputs):
            return self.m(**dict(zip(names, inputs))).last_hidden_state

    tok = AutoTokenizer.from_pretrained(model_dir)
    x = tok(["an example sentence to trace", "a second, longer one with more words in it"],
            padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    names = input_names(model_dir)
    axes = {n: {0: "batch", 1: "seq"} for n in names + ["last_hidden_state"]}
    tmp = path + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
        torch.onnx.export(Hidden(model), tuple(x[n] for n in names), tmp, input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, do_constant_folding=True, dynamo=False)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vectors-dir", required=True)
    ap.add_argument("--systems", default="st,ort,ortq",
                    help="comma-separated subset of st,ort,ortq (ortq: the ONNX model quantized by "
                         "onnxruntime.quantization.quantize_dynamic, per channel, its other defaults)")
    ap.add_argument("--batch-sizes", default="1,8,32,128", help="batch sizes of the throughput runs")
    ap.add_argument("--no-single", action="store_true", help="skip the single-text latency runs")
    args = ap.parse_args()
    systems = set(args.systems.split(","))
    global BATCH_SIZES
    BATCH_SIZES = tuple(int(b) for b in args.batch_sizes.split(","))

    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    import onnxruntime as ort
    import sentence_transformers
    import transformers
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    with open(args.corpus, encoding="utf-8") as f:
        texts = f.read().splitlines()[:args.n]
    st = SentenceTransformer(args.model, device="cpu")
    max_len = st.max_seq_length
    dim = (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
    normalizes = any(type(m).__name__ == "Normalize" for m in st)  # paraphrase-multilingual-MiniLM-L12-v2 has none
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tok.enable_truncation(max_length=max_len)
    tok.no_padding()
    tokens = [len(e.ids) for e in tok.encode_batch(texts)]
    # The model's own padding token (MPNet's <pad> = 1 matters: its position
    # ids skip it), padded to the longest text of each call.
    pad_token = st.tokenizer.pad_token or "[PAD]"
    pad_id = tok.token_to_id(pad_token) if tok.token_to_id(pad_token) is not None else 0
    tok.enable_padding(pad_id=pad_id, pad_token=pad_token)

    out = {
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "sentence_transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "onnxruntime": ort.__version__,
                     "numpy": np.__version__},
        "threads": args.threads, "torch_threads": torch.get_num_threads(), "texts": len(texts), "reps": args.reps,
        "max_seq_length": max_len, "dimension": dim, "normalizes": normalizes, "tokens_per_text": tokens,
    }
    os.makedirs(args.vectors_dir, exist_ok=True)

    if "st" in systems:
        log(f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}: "
            f"{len(texts)} texts x {args.reps} reps")
        one = lambda t: st.encode(t, convert_to_numpy=True, show_progress_bar=False)
        many = lambda ts: st.encode(ts, batch_size=len(ts), convert_to_numpy=True, show_progress_bar=False)
        res = {}
        if not args.no_single:
            res["single"] = latency(one, texts, args.reps)
            log(f"  single p50 {sorted(res['single']['p50_us'])[args.reps // 2] / 1e3:.2f} ms")
        res["batch"] = throughput(many, texts, args.reps)
        out["st"] = res
        np.save(os.path.join(args.vectors_dir, "st.npy"),
                st.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False).astype(np.float32))

    for system in ("ort", "ortq"):
        if system not in systems:
            continue
        if not os.path.exists(args.onnx):
            log(f"exporting the model to {args.onnx}")
            export_onnx(args.model, args.onnx, max_len)
        path = args.onnx
        if system == "ortq":
            from onnxruntime.quantization import quantize_dynamic
            path = args.onnx + ".int8.onnx"
            if not os.path.exists(path):
                log(f"quantizing {args.onnx} with quantize_dynamic(per_channel=True) to {path}")
                quantize_dynamic(args.onnx, path, per_channel=True)
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        feeds = [i.name for i in sess.get_inputs()]

        def many(ts):
            enc = tok.encode_batch(ts)
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            types = np.array([e.type_ids for e in enc], dtype=np.int64)
            given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            hidden = sess.run(["last_hidden_state"], {n: given[n] for n in feeds})[0]
            m = mask[..., None].astype(np.float32)
            v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) if normalizes else v

        log(f"ONNX Runtime {ort.__version__}{' int8' if system == 'ortq' else ''}: {len(texts)} texts x {args.reps} reps")
        res = {}
        if not args.no_single:
            res["single"] = latency(lambda t: many([t])[0], texts, args.reps)
            log(f"  single p50 {sorted(res['single']['p50_us'])[args.reps // 2] / 1e3:.2f} ms")
        res["batch"] = throughput(many, texts, args.reps)
        if system == "ortq":
            res["callers"] = callers(lambda t: many([t])[0], texts, args.reps)
        vecs = np.concatenate([many(texts[i:i + 32]) for i in range(0, len(texts), 32)]).astype(np.float32)
        np.save(os.path.join(args.vectors_dir, f"{system}.npy"), vecs)
        st_vecs = os.path.join(args.vectors_dir, "st.npy")
        if os.path.exists(st_vecs):
            res["quality_vs_st"] = quality(vecs, np.load(st_vecs))
            log(f"  against sentence-transformers: {res['quality_vs_st']}")
        out[system] = res

    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
