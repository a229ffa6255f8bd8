#!/usr/bin/env python3
"""Static-embedding model directories (sentence-transformers' StaticEmbedding
module, an embedding bag: the mean of the text's token vectors, no special
tokens, no transformer) and their reference vectors from
sentence-transformers 6. Run by hand (not in CI) from the repository root,
with sentence-transformers 6.x; no network access is needed:

    /work/venv-st/bin/python tests/reference/make_static_fixtures.py

Writes tests/fixtures/models/NAME/ and tests/fixtures/NAME.reference.json for:
    static-st6          StaticEmbedding (WordPiece tokenizer trained on the corpus, not the test
                        texts, with its own truncation at 48 tokens) + Normalize, saved by
                        `SentenceTransformer(modules=[...]).save()`, with prompts
                        ({"query": "query: "}, no default); cases as shipped, with a prompt, with
                        truncate_dim
    static-model2vec    the same modules.json, but the module folder in model2vec's weight format
                        (`embeddings` of fewer rows, a `mapping` from token id to row and per-token
                        `weights`, as vocabulary-quantized model2vec models ship), which
                        sentence-transformers 6's StaticEmbedding.load folds into one row per
                        token; no truncation in its tokenizer; no Normalize

For each text a case records the vector (`SentenceTransformer.encode`, one
text at a time), the tokens that went into the bag (the module's tokenizer,
no special tokens, its own truncation) and the count before truncation.
"""
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_test_models as base  # noqa: E402
from make_st6_fixtures import ALL_TEXTS, LONGEST, TEXTS, finish  # noqa: E402
import sentence_transformers  # noqa: E402
import transformers  # noqa: E402

SCRIPT = "tests/reference/make_static_fixtures.py"
# Special tokens written in the text: the tokenizer still matches them as
# added tokens (add_special_tokens=False only stops the template's [CLS]/[SEP]).
SPECIAL_TEXTS = ["[CLS] literal [SEP] special [MASK] tokens [PAD]", "[UNK]"]
STATIC_TEXTS = ALL_TEXTS + SPECIAL_TEXTS


def static_case(model, name, texts, **encode_kwargs):
    vecs = [model.encode([t], convert_to_numpy=True, **encode_kwargs)[0] for t in texts]
    prompt = model._resolve_prompt(encode_kwargs.get("prompt"), encode_kwargs.get("prompt_name")) or ""
    tok = model[0].tokenizer
    full = Tokenizer.from_str(tok.to_str())
    full.no_truncation()
    used = [len(tok.encode(prompt + t, add_special_tokens=False).ids) for t in texts]
    counts = [len(full.encode(prompt + t, add_special_tokens=False).ids) for t in texts]
    return {"name": name, "files": {}, "options": dict(encode_kwargs), "texts": texts, "tokens": used,
            "token_counts": counts, "truncated": [c > u for u, c in zip(used, counts)],
            "vectors": [[float(x) for x in v] for v in vecs]}


def write_fixture(name, out, model, cases, failures, script):
    """Checks the first case's vectors are spread apart (texts without
    tokens give the zero vector, as an empty bag does, and are left out of
    the check) and the directory is small; writes the reference file."""
    # Texts that differ only in whitespace make the same bag: one row each.
    m = np.unique(np.array([v for v in cases[0]["vectors"] if np.any(v)], dtype=np.float64), axis=0)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    cos = m @ m.T
    np.fill_diagonal(cos, -1)
    print(f"  {name}: max pairwise cosine {cos.max():.4f}")
    if cos.max() >= base.MAX_COSINE:
        failures.append(f"{name}: reference vectors too alike")
    zeros = sum(1 for v in cases[0]["vectors"] if not np.any(v))
    size = base.dir_size(out)
    print(f"  {name}: {size / 1e6:.2f} MB; {zeros} zero vectors; tokens {cases[0]['tokens']}")
    if size > base.MAX_DIR_BYTES:
        failures.append(f"{name}: directory is {size} bytes")
    doc = {
        "model": f"{name} (random weights, saved by sentence-transformers' save(), made by {script})",
        "generated_by": f"{script}, sentence-transformers {sentence_transformers.__version__}, "
                        f"transformers {transformers.__version__}, torch {torch.__version__}",
        "max_seq_length": None,
        "cases": cases,
    }
    (base.FIXTURES / f"{name}.reference.json").write_text(json.dumps(doc, ensure_ascii=False) + "\n")


def main():
    torch.manual_seed(0)
    failures = []
    tok = base.wordpiece_tokenizer(lowercase=True)
    n = tok.get_vocab_size()

    # static-st6: what StaticEmbedding(tokenizer, embedding_dim=...) + save() writes.
    name = "static-st6"
    truncating = Tokenizer.from_str(tok.to_str())
    truncating.enable_truncation(48)
    module = StaticEmbedding(truncating, embedding_dim=32)
    with torch.no_grad():
        module.embedding.weight.copy_(torch.randn(n, 32, generator=torch.Generator().manual_seed(31)))
    model = SentenceTransformer(modules=[module, Normalize()], prompts={"query": "query: "}, device="cpu")
    out = base.MODELS / name
    shutil.rmtree(out, ignore_errors=True)
    model.save(str(out))
    (out / "README.md").unlink(missing_ok=True)
    model = SentenceTransformer(str(out), device="cpu")
    short = TEXTS[:8] + SPECIAL_TEXTS + [LONGEST, ""]
    cases = [static_case(model, "as shipped", STATIC_TEXTS),
             static_case(model, "prompt_name query", short, prompt_name="query"),
             static_case(model, "truncate_dim 8", short, truncate_dim=8),
             static_case(model, "truncate_dim 8, normalize_embeddings", short, truncate_dim=8,
                         normalize_embeddings=True)]
    if max(cases[0]["tokens"]) != 48:
        failures.append(f"{name}: no text reaches the tokenizer's truncation")
    write_fixture(name, out, model, cases, failures, SCRIPT)

    # static-model2vec: model2vec's weight format under the same modules.json.
    name = "static-model2vec"
    out = base.MODELS / name
    shutil.rmtree(out, ignore_errors=True)
    plain = SentenceTransformer(modules=[StaticEmbedding(tok, embedding_dim=24)], device="cpu")
    plain.save(str(out))
    (out / "README.md").unlink(missing_ok=True)
    rows = n // 2
    g = torch.Generator().manual_seed(32)
    module_dir = out / json.loads((out / "modules.json").read_text())[0]["path"]
    save_file({"embeddings": torch.randn(rows, 24, generator=g),
               "mapping": torch.randint(0, rows, (n,), generator=g, dtype=torch.int64),
               "weights": torch.rand(n, generator=g) + 0.5},
              str(module_dir / "model.safetensors"))
    model = SentenceTransformer(str(out), device="cpu")
    cases = [static_case(model, "as shipped", STATIC_TEXTS)]
    write_fixture(name, out, model, cases, failures, SCRIPT)
    finish(failures)


if __name__ == "__main__":
    main()
