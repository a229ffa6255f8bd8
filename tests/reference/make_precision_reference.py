#!/usr/bin/env python3
"""Reference data for the precision quality tests (tests/precision.rs):
sentence-transformers' float32 output of the default model on

- every text of tests/reference/multilingual_texts.py (TEXTS), as float32
  vectors: tests/fixtures/precision/multilingual.all-MiniLM-L6-v2.json;
- the 1000 sentences of bench/sentences.txt: their vectors as float16
  (little-endian, 1000 × 384, row after row: 768 KB; float16 keeps a unit
  vector's cosine to its float32 self above 0.999999, far finer than the
  tests' 0.99 / 0.999 bounds) in corpus.all-MiniLM-L6-v2.f16, and each
  sentence's 10 nearest neighbours (cosine, itself excluded), computed here
  from the float32 vectors, in corpus.all-MiniLM-L6-v2.neighbours.json.

Run by hand (not in CI), after `python3 models/fetch_default_model.py`:

    /tmp/st/bin/python tests/reference/make_precision_reference.py

Deterministic: the same versions rewrite identical files.
"""
import json
import sys
from pathlib import Path

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from multilingual_texts import TEXTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "all-MiniLM-L6-v2"
OUT = ROOT / "tests" / "fixtures" / "precision"
NEIGHBOURS = 10

torch.manual_seed(0)
model = SentenceTransformer(str(MODEL), device="cpu")
generated_by = f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}, float32"
OUT.mkdir(parents=True, exist_ok=True)

multi = model.encode(TEXTS, batch_size=32, convert_to_numpy=True)
(OUT / "multilingual.all-MiniLM-L6-v2.json").write_text(json.dumps({
    "model": "sentence-transformers/all-MiniLM-L6-v2",
    "generated_by": generated_by,
    "texts": TEXTS,
    "vectors": [[float(v) for v in row] for row in multi],
}, ensure_ascii=False, indent=1) + "\n")

sentences = (ROOT / "bench" / "sentences.txt").read_text(encoding="utf-8").splitlines()
assert len(sentences) == 1000, len(sentences)
corpus = model.encode(sentences, batch_size=32, convert_to_numpy=True).astype(np.float32)
corpus.astype("<f2").tofile(OUT / "corpus.all-MiniLM-L6-v2.f16")
unit = corpus / np.linalg.norm(corpus, axis=1, keepdims=True)
sims = unit @ unit.T
np.fill_diagonal(sims, -np.inf)
order = np.argsort(-sims, axis=1, kind="stable")[:, :NEIGHBOURS]
(OUT / "corpus.all-MiniLM-L6-v2.neighbours.json").write_text(json.dumps({
    "model": "sentence-transformers/all-MiniLM-L6-v2",
    "generated_by": generated_by,
    "sentences": "bench/sentences.txt",
    "dimension": int(corpus.shape[1]),
    "neighbours": [[int(i) for i in row] for row in order],
}) + "\n")
print(f"wrote {OUT}: {len(TEXTS)} multilingual texts, {len(sentences)} corpus sentences")
