#!/usr/bin/env python3
"""The reranking benchmark's model and its Python peers (bench/run.sh, phase
`rerank`): one query against 32 documents, the rerank step of a retrieval
pipeline.

    python bench/rerank_peers.py standin --base models/all-MiniLM-L6-v2 --out DIR
        A stand-in of cross-encoder/ms-marco-MiniLM-L6-v2 (no reranker weights can be
        downloaded here): the same shape (BERT, 6 layers, hidden 384, uncased WordPiece
        vocabulary, one label, Sigmoid), its encoder all-MiniLM-L6-v2's weights, its
        pooler and classifier random; saved by sentence-transformers' CrossEncoder.save()
        with max_length 512. Prints the directory. Speed does not depend on the weights.

    python bench/rerank_peers.py run --model DIR --corpus FILE --queries N --reps R --threads T \\
            --onnx FILE.onnx --out OUT.json
        Exports the model (BertForSequenceClassification, logits out) to ONNX, then times
        sentence-transformers' CrossEncoder.rank and ONNX Runtime (the HF fast tokenizer,
        pairs padded to the longest, one session.run per rerank, sigmoid) on the same
        jobs as bench/rust/rerank_speed.rs: query = a corpus line, documents = the next 32.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import time
import warnings

DOCS = 32


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def standin(base, out):
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertForSequenceClassification

    if os.path.isfile(os.path.join(out, "model.safetensors")):
        print(out)
        return
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(base, num_labels=1)
    tok = AutoTokenizer.from_pretrained(base)
    tmp = out + ".tmp"
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    CrossEncoder(tmp, max_length=512, device="cpu").save(out)
    shutil.rmtree(tmp)
    print(out)


def jobs(corpus, n):
    lines = [l for l in open(corpus, encoding="utf-8").read().splitlines() if l]
    out = []
    for q in range(n):
        start = (q * (DOCS + 1)) % (len(lines) - DOCS)
        out.append((lines[start], lines[start + 1:start + 1 + DOCS]))
    return out


def timed(fn, work, reps):
    for query, docs in work:
        fn(query, docs)  # warm-up
    p50, mean = [], []
    for _ in range(reps):
        ms = []
        for query, docs in work:
            t = time.perf_counter()
            fn(query, docs)
            ms.append((time.perf_counter() - t) * 1e3)
        p50.append(statistics.median(ms))
        mean.append(statistics.fmean(ms))
    return {"p50_ms": p50, "mean_ms": mean, "pairs_per_s": DOCS * 1e3 / min(mean)}


def export(model_dir, path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    names = [n for n in ["input_ids", "attention_mask", "token_type_ids"] if n in tok.model_input_names]
    x = tok(["a query", "another query"], ["a document to trace", "a second, longer document with more words"],
            padding=True, truncation=True, return_tensors="pt")

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *inputs):
            return self.m(**dict(zip(names, inputs))).logits

    axes = {n: {0: "batch", 1: "seq"} for n in names}
    axes["logits"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logits(model), tuple(x[n] for n in names), path, input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, do_constant_folding=True,
                          dynamo=False)
    return names


def run(args):
    import numpy as np
    import onnxruntime as ort
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    work = jobs(args.corpus, args.queries)
    results = {"queries": args.queries, "documents": DOCS, "reps": args.reps, "threads": args.threads, "systems": {}}

    st = CrossEncoder(args.model, device="cpu")
    log("sentence-transformers CrossEncoder.rank")
    results["systems"]["sentence-transformers"] = timed(lambda q, d: st.rank(q, d, batch_size=DOCS), work, args.reps)

    names = export(args.model, args.onnx)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(args.onnx, opts, providers=["CPUExecutionProvider"])
    tok = AutoTokenizer.from_pretrained(args.model)

    def ort_rank(query, docs):
        x = tok([query] * len(docs), docs, padding=True, truncation="longest_first", max_length=st.max_seq_length,
                return_tensors="np")
        logits = session.run(["logits"], {n: x[n].astype(np.int64) for n in names})[0][:, 0]
        scores = 1 / (1 + np.exp(-logits))
        return np.argsort(-scores)

    # The same scores as sentence-transformers (the export is right).
    q, d = work[0]
    x = tok([q] * len(d), d, padding=True, truncation="longest_first", max_length=st.max_seq_length, return_tensors="np")
    got = 1 / (1 + np.exp(-session.run(["logits"], {n: x[n].astype(np.int64) for n in names})[0][:, 0]))
    want = st.predict([(q, doc) for doc in d])
    assert np.abs(got - want).max() < 1e-4, np.abs(got - want).max()
    log("ONNX Runtime")
    results["systems"]["ONNX Runtime"] = timed(ort_rank, work, args.reps)
    json.dump(results, open(args.out, "w"), indent=1)
    print(json.dumps(results))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("standin")
    s.add_argument("--base", required=True)
    s.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", required=True)
    r.add_argument("--corpus", required=True)
    r.add_argument("--queries", type=int, default=100)
    r.add_argument("--reps", type=int, default=3)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--onnx", required=True)
    r.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.cmd == "standin":
        standin(args.base, args.out)
    else:
        run(args)


if __name__ == "__main__":
    main()
