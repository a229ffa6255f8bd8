#!/usr/bin/env python3
"""Builds the seed's model as a full-size stand-in, for bench/run.sh's
"multilingual" phase: random weights with the exact shapes of
sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2, an XLM-R style
Unigram tokenizer of 250,002 pieces, saved by sentence-transformers' own
save(). Prints the directory on stdout (the last line).

    python bench/make_multilingual_standin.py [--corpus bench/zh_corpus.txt] [--cache DIR]

The directory is DIR/multilingual-standin-v1 (DIR: $SBERT4J_BENCH_CACHE, else
~/.cache/sbert4j-bench), never in git (about 470 MB). A second run finds it
(a .complete marker is written last) and builds nothing. Deterministic: the
same files from the same corpus and library versions.

Model (as the real one's config.json): BertModel, 12 layers, hidden 384, 12
heads, intermediate 1536, gelu, layer_norm_eps 1e-12, max_position_embeddings
512, type_vocab_size 2, pad_token_id 0, an embedding matrix of 250,037 rows
for a tokenizer of 250,002 tokens, tokenizer_class XLMRobertaTokenizer; mean
pooling, no Normalize, max_seq_length 128. (The real model is a BERT with
XLM-R's tokenizer: Microsoft's Multilingual-MiniLM-L12-H384, not an
XLMRobertaModel; tests/fixtures/models/seed-standin mirrors it the same way
at a tiny size.) Weights: spread_weights of tests/reference/make_test_models.py
(word embeddings N(0, 1), linear weights N(0, g^2/fan_in), ...), so that
texts' vectors differ.

Tokenizer: built as tests/reference/make_test_models.py builds the fixtures'
(a SentencePiece Unigram model with the nmt_nfkc normalization turned into a
tokenizer.json: Precompiled normalizer, Metaspace, <s> $A </s>; <s>=0 <pad>=1
</s>=2 <unk>=3, <mask> last = 250001), at full size: the pieces of a
SentencePiece Unigram model trained on the Chinese corpus (pieces of at most
3 characters, about the token count per character of XLM-R's own vocabulary
on such text), placed at ids drawn at random over the whole range 4..250000
(as in XLM-R's vocabulary, where a text's pieces lie all over the table; the
memory figure must not be helped by the used rows being contiguous); the
other ids are filler pieces of private-use characters that no text contains,
scored below every real piece.

Checks, failing the script when they do not hold: tokenizer.json (read by
the `tokenizers` library, as sbert4j's core reads it) gives the ids
sentence-transformers gives for every corpus text; no corpus text has <unk>;
the used ids span the table; the vectors of different texts differ (max
pairwise cosine over 300 texts < 0.95).
"""
import argparse
import json
import os
import random
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parents[1]
VERSION = "v1"  # change it when what is built changes: a new cache directory
VOCAB = 250_002
EMBEDDING_ROWS = 250_037
SEED = 17
MAX_SEQ_LENGTH = 128


def log(msg):
    print(f"  standin: {msg}", file=sys.stderr, flush=True)


def build_tokenizer(lines):
    from make_test_models import _sentencepiece_vocab, train_sentencepiece, xlmr_unigram

    proto = train_sentencepiece(lines, 8000, model_type="unigram", normalization_rule_name="nmt_nfkc",
                                max_sentencepiece_length=3)
    spm_vocab = _sentencepiece_vocab(proto)
    assert [p for p, _ in spm_vocab[:3]] == ["<unk>", "<s>", "</s>"], spm_vocab[:3]
    real = spm_vocab[3:]
    floor = min(s for _, s in real) - 10.0
    rng = random.Random(SEED)
    slots = rng.sample(range(4, VOCAB - 1), len(real))  # where each real piece goes
    vocab = [None] * VOCAB
    for i, p in enumerate(["<s>", "<pad>", "</s>", "<unk>"]):
        vocab[i] = (p, 0.0)
    vocab[VOCAB - 1] = ("<mask>", 0.0)
    for slot, piece in zip(slots, real):
        vocab[slot] = piece
    filler = 0
    for i in range(VOCAB):
        if vocab[i] is None:
            # Two private-use characters (U+E000..U+F8FF): in no text, and unchanged by NFKC.
            vocab[i] = ("▁" + chr(0xE000 + filler // 6400) + chr(0xE000 + filler % 6400), floor - (filler % 997) / 997)
            filler += 1
    tok = xlmr_unigram(vocab, proto)
    assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
    log(f"tokenizer: {len(real)} pieces trained on the corpus, spread over ids 4..{VOCAB - 2}; {filler} filler pieces")
    return tok


def build_model():
    from transformers import BertConfig, BertModel

    cfg = BertConfig(vocab_size=EMBEDDING_ROWS, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                     layer_norm_eps=1e-12, pad_token_id=0, tokenizer_class="XLMRobertaTokenizer")
    cfg.architectures = ["BertModel"]
    return BertModel(cfg).eval()


def check(out: Path, lines):
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer, pre_tokenizers

    model = SentenceTransformer(str(out), device="cpu")
    assert model.max_seq_length == MAX_SEQ_LENGTH, model.max_seq_length
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    # transformers 5 rebuilds XLMRobertaTokenizer with a WhitespaceSplit before the Metaspace;
    # sbert4j's core does the same (see tests/reference/make_test_models.py).
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.enable_truncation(MAX_SEQ_LENGTH)
    failures, used, counts = [], set(), []
    for start in range(0, len(lines), 256):
        chunk = lines[start:start + 256]
        want = model.preprocess(chunk)
        got = tok.encode_batch([t.strip() for t in chunk])
        for i, (t, e) in enumerate(zip(chunk, got)):
            n = int(want["attention_mask"][i].sum())
            ids = want["input_ids"][i][:n].tolist()
            if ids != e.ids:
                failures.append(f"ids differ for {t!r}: sentence-transformers {ids}, tokenizer.json {e.ids}")
            if 3 in ids:
                failures.append(f"<unk> in {t!r}: {ids}")
            used.update(ids)
            counts.append(n)
    counts.sort()
    real_used = sorted(i for i in used if 3 < i < VOCAB - 1)
    log(f"tokens per text: median {counts[len(counts) // 2]}, max {counts[-1]}; {len(real_used)} distinct ids, "
        f"{real_used[0]}..{real_used[-1]}")
    if real_used[-1] - real_used[0] < VOCAB // 2:
        failures.append(f"the used ids do not span the table: {real_used[0]}..{real_used[-1]}")
    vecs = model.encode(lines[:300], batch_size=32, convert_to_numpy=True).astype(np.float64)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    cos = vecs @ vecs.T
    np.fill_diagonal(cos, -1)
    log(f"vectors: max pairwise cosine {cos.max():.4f}, mean {cos[np.triu_indices(len(vecs), 1)].mean():.4f} "
        f"(300 texts)")
    if cos.max() >= 0.95:
        failures.append(f"vectors too alike: max pairwise cosine {cos.max():.4f}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT / "bench" / "zh_corpus.txt"))
    ap.add_argument("--cache", default=os.environ.get("SBERT4J_BENCH_CACHE",
                                                       os.path.expanduser("~/.cache/sbert4j-bench")))
    args = ap.parse_args()
    out = Path(args.cache) / f"multilingual-standin-{VERSION}"
    if (out / ".complete").exists():
        log(f"found {out}")
        print(out)
        return

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    import torch
    from make_test_models import build_directory, spread_weights, xlmr_hf_tokenizer

    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    with open(args.corpus, encoding="utf-8") as f:
        lines = f.read().splitlines()
    log(f"building {out} (about 470 MB) from {args.corpus}")
    tok = build_tokenizer(lines)
    model = build_model()
    spread_weights(model, SEED)
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    build_directory(tmp, model, xlmr_hf_tokenizer(tok), specials, pooling="mean_tokens", normalize=False,
                    max_seq_length=MAX_SEQ_LENGTH)
    del model
    failures = check(tmp, lines)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:20]), file=sys.stderr)
        sys.exit(1)
    (tmp / ".complete").write_text(json.dumps({"version": VERSION, "corpus": os.path.basename(args.corpus)}) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log(f"built {out}")
    print(out)


if __name__ == "__main__":
    main()
