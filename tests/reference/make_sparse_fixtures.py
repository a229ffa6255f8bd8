#!/usr/bin/env python3
"""SPLADE model directories (a masked-language-model Transformer,
`transformer_task="fill-mask"`, + SpladePooling) saved by sentence-transformers
6's own `SparseEncoder(modules=[...]).save()`, and their sparse reference
vectors from `SparseEncoder.encode`. Run by hand (not in CI) from the
repository root, with sentence-transformers 6.x; no network access:

    /work/venv-st/bin/python tests/reference/make_sparse_fixtures.py

Writes tests/fixtures/models/NAME/ and tests/fixtures/NAME.reference.json for:
    splade-bert-max         BertForMaskedLM (decoder tied to the word embeddings), WordPiece uncased,
                            SpladePooling max + relu, max_seq_length 64; cases as shipped and with
                            max_active_dims 6
    splade-distilbert-sum   DistilBertForMaskedLM (tied), SpladePooling sum + relu, 48
    splade-xlmr-log1p       XLMRobertaForMaskedLM with an untied decoder (tie_word_embeddings=False:
                            lm_head.decoder.weight is saved), SpladePooling max + log1p_relu, 64

Weights are spread as make_test_models.spread_weights does, and the decoder
bias (the decoder's own when untied) is shifted down by three standard deviations of the logits
on corpus lines (not test texts) so that vectors are sparse as real SPLADE vectors
are. Each case records, per text, the non-zero dimensions (ascending) and
their values, and the tokens that went through the model.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SparseEncoder  # noqa: E402
from sentence_transformers.base.modules import Transformer  # noqa: E402
from sentence_transformers.sparse_encoder.modules import SpladePooling  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_test_models as base  # noqa: E402
from make_st6_fixtures import ALL_TEXTS, LONGEST, TEXTS, finish  # noqa: E402
from multilingual_texts import CORPUS  # noqa: E402

SCRIPT = "tests/reference/make_sparse_fixtures.py"
SPECIAL_TEXTS = ["[CLS] literal [SEP] special [MASK] tokens", "<s> literal </s> <mask> tokens"]
SPARSE_TEXTS = ALL_TEXTS + SPECIAL_TEXTS


def sparse(v) -> dict:
    v = v.to_dense() if v.is_sparse else v
    idx = torch.nonzero(v).flatten()
    return {"indices": [int(i) for i in idx], "values": [float(v[i]) for i in idx]}


def case(model, name, texts, **kw):
    vecs = [model.encode([t], convert_to_tensor=True, **kw)[0] for t in texts]  # one at a time
    used = [int(model[0].preprocess([t])["input_ids"].shape[-1]) for t in texts]
    return {"name": name, "options": dict(kw), "texts": texts, "tokens": used, "vectors": [sparse(v) for v in vecs]}


def build(out: Path, hf_model, hf_tokenizer, *, strategy, activation, max_seq_length):
    with tempfile.TemporaryDirectory() as tmp:
        hf_model.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp, transformer_task="fill-mask", max_seq_length=max_seq_length)
        model = SparseEncoder(modules=[transformer, SpladePooling(strategy, activation)], device="cpu")
        shutil.rmtree(out, ignore_errors=True)
        model.save(str(out))
    (out / "README.md").unlink(missing_ok=True)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    uncased = base.wordpiece_tokenizer(lowercase=True)
    unigram = base.unigram_tokenizer()
    bert_kw = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")

    def hf(cls_name, tok, **kw):
        return getattr(transformers, cls_name)(tokenizer_object=tok, **kw)

    def bert():
        cfg = base.bert(uncased.get_vocab_size(), 32, 4, 64, 2).config
        cfg.architectures = ["BertForMaskedLM"]
        return transformers.BertForMaskedLM(cfg)

    def distilbert():
        cfg = base.distilbert(uncased.get_vocab_size()).config
        cfg.architectures = ["DistilBertForMaskedLM"]
        return transformers.DistilBertForMaskedLM(cfg)

    def xlmr():
        cfg = base.xlm_roberta(unigram.get_vocab_size()).config
        cfg.architectures = ["XLMRobertaForMaskedLM"]
        cfg.tie_word_embeddings = False
        return transformers.XLMRobertaForMaskedLM(cfg)

    specs = [
        ("splade-bert-max", bert, 41, lambda: hf("BertTokenizerFast", uncased, do_lower_case=True,
                                                 model_max_length=512, **bert_kw), ("max", "relu", 64)),
        ("splade-distilbert-sum", distilbert, 42, lambda: hf("DistilBertTokenizerFast", uncased, do_lower_case=True,
                                                             model_max_length=512, **bert_kw), ("sum", "relu", 48)),
        ("splade-xlmr-log1p", xlmr, 43, lambda: hf("XLMRobertaTokenizerFast", unigram, model_max_length=512),
         ("max", "log1p_relu", 64)),
    ]
    failures = []
    for name, make, seed, make_tok, (strategy, activation, max_len) in specs:
        print(f"{name}:")
        hf_model = make().eval()
        base.spread_weights(hf_model, seed)
        tokenizer = make_tok()
        with torch.no_grad():
            # The bias the decoder adds (its own when untied, else the head's, tied to it).
            head_bias = [p for n, p in hf_model.named_parameters()
                         if n in ("cls.predictions.bias", "vocab_projector.bias", "lm_head.decoder.bias")]
            assert len(head_bias) == 1, [n for n, _ in hf_model.named_parameters()][-6:]
            calibration = tokenizer(CORPUS[:4], padding=True, return_tensors="pt")
            logits = hf_model(**calibration).logits
            head_bias[0].sub_(3.0 * float(logits.std()))
        out = base.MODELS / name
        build(out, hf_model, tokenizer, strategy=strategy, activation=activation, max_seq_length=max_len)
        model = SparseEncoder(str(out), device="cpu")
        cases = [case(model, "as shipped", SPARSE_TEXTS)]
        short = TEXTS[:8] + SPECIAL_TEXTS + [LONGEST]
        if name == "splade-bert-max":
            cases.append(case(model, "max_active_dims 6", short, max_active_dims=6))
        active = [len(v["indices"]) for v in cases[0]["vectors"]]
        print(f"  active dims: min {min(active)}, max {max(active)} of {model.get_embedding_dimension()}; "
              f"tokens {cases[0]['tokens']}")
        if max(cases[0]["tokens"]) != model.max_seq_length:
            failures.append(f"{name}: no text reaches max_seq_length")
        if max(active) > model.get_embedding_dimension() // 2 or min(active) == 0:
            failures.append(f"{name}: vectors not sparse, or empty")
        size = base.dir_size(out)
        print(f"  {size / 1e6:.2f} MB; files {sorted(str(p.relative_to(out)) for p in out.rglob('*') if p.is_file())}")
        if size > base.MAX_DIR_BYTES:
            failures.append(f"{name}: directory is {size} bytes")
        doc = {"model": f"{name} (random weights, saved by sentence-transformers' save(), made by {SCRIPT})",
               "generated_by": f"{SCRIPT}, sentence-transformers {sentence_transformers.__version__}, "
                               f"transformers {transformers.__version__}, torch {torch.__version__}",
               "max_seq_length": model.max_seq_length, "dimension": model.get_embedding_dimension(),
               "cases": cases}
        (base.FIXTURES / f"{name}.reference.json").write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    finish(failures)


if __name__ == "__main__":
    main()
