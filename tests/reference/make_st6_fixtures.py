#!/usr/bin/env python3
"""Model directories in sentence-transformers 6's own format, and their
reference vectors and token facts, for the sentence-transformers 6 contract.
Run by hand (not in CI), from the repository root, in an environment with
sentence-transformers 6.x and sentencepiece; no network access is needed:

    python3 tests/reference/make_st6_fixtures.py

Every directory here is written by `SentenceTransformer(modules=[...]).save()`
from the constructors a user calls (Transformer, Pooling, Normalize), as it
comes out (only the model card README.md is dropped): no configuration file
is written or edited by hand. That is what a model fine-tuned today looks like:
`sentence_bert_config.json` holds `transformer_task`, `modality_config` and
`module_output_name` but no `max_seq_length`; the limit is the tokenizer's
`model_max_length`, or, when that is unset, `config.json`'s
`max_position_embeddings`.

Writes tests/fixtures/models/NAME/ and tests/fixtures/NAME.reference.json for:
    seed-standin-st6        the seed's structure (make_test_models.py), max_seq_length 128 set
                            through Transformer(max_seq_length=128): no legacy key anywhere
    xlm-roberta-cls-st6     XLM-R, CLS pooling + Normalize, max_seq_length 512
    distilbert-max-st6      DistilBERT, max pooling, max_seq_length 128
    bert-pytorch-bin-st6    the bert-pytorch-bin family (cased WordPiece, mean + Normalize, 64) as 6.x
                            saves it: transformers 5 writes model.safetensors only, so the
                            pytorch_model.bin format stays covered by the legacy fixture
    bert-mean-sqrt-len-st6  BERT, mean_sqrt_len pooling + Normalize (unnormalized, a 512-token text's
                            components reach 25, beyond float32's 1e-5), tokenizer without
                            model_max_length (transformers' "very large" sentinel):
                            max_position_embeddings, 512, rules
    roberta-bpe-st6         RobertaModel with a byte-level BPE tokenizer (whitespace is a token),
                            mean pooling + Normalize, 64
    metaspace-lower-st6     BERT with a Metaspace Unigram tokenizer under the generic
                            PreTrainedTokenizerFast class (no XLM-R rebuild: whitespace runs are
                            tokens) and do_lower_case=True, mean pooling, 48
    prompts-st6             BERT with prompts ({"query", "passage", "empty"}, default "query"),
                            Pooling over cls, max, mean, weightedmean, lasttoken with
                            include_prompt=False, + Normalize, 40; cases for the default prompt,
                            a named one, a literal one, no prompt, truncate_dim, and truncate_dim
                            with normalize_embeddings

The texts: make_test_models.py's, plus whitespace-only and padded texts, tabs,
newlines, and texts longer than every limit. For each text a case records the
vector (`SentenceTransformer.encode`, one text at a time), the tokens that went
through the model (`preprocess`), the token count before truncation (the
`tokenizers` library: the backend tokenizer sentence-transformers loaded,
truncation off) and whether the text was truncated.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer  # noqa: E402
from tokenizers import Tokenizer, decoders, pre_tokenizers, processors  # noqa: E402
from tokenizers.models import BPE  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_test_models as base  # noqa: E402
from multilingual_texts import CORPUS, TEXTS  # noqa: E402

SCRIPT = "tests/reference/make_st6_fixtures.py"

# Whitespace as sentence-transformers 6 sees it: nothing is stripped any more.
WHITESPACE_TEXTS = [
    "",
    " ",
    "   ",
    "\t\n",
    "  two leading spaces",
    "trailing spaces   ",
    " both sides ",
    "inner   runs\tof\n\nwhitespace",
    "\ttabbed\tline\t",
    "line one\nline two\r\n",
    " 客户 投诉 物流 ",
    "\u3000全角空格\u3000",
]
# Longer than 512 tokens for every tokenizer here: the limit resolved from
# max_position_embeddings is exercised too.
LONGEST = " ".join(["The parcel arrived late again, 包裹又迟到了。"] * 120)
ALL_TEXTS = TEXTS + WHITESPACE_TEXTS + [LONGEST]


def bpe_tokenizer() -> Tokenizer:
    """A RoBERTa/GPT-2 style byte-level BPE tokenizer.json: <s>=0 <pad>=1
    </s>=2 <unk>=3, ByteLevel pre-tokenizer (no prefix space), RobertaProcessing.
    The merges come from SentencePiece BPE trained on the corpus mapped to
    byte-level characters (deterministic, unlike the `tokenizers` trainers)."""
    to_bytes = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    words = [" ".join(w for w, _ in to_bytes.pre_tokenize_str(line)) for line in CORPUS]
    proto = base.train_sentencepiece(words, 1500, model_type="bpe", normalization_rule_name="identity",
                                     split_by_whitespace=True)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    pieces = [p.lstrip("▁") for p, _ in base._sentencepiece_vocab(proto)[3:]]
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(specials + sorted(alphabet) + [p for p in pieces if p]))}
    # Merges that build every multi-character piece from two pieces already in the vocabulary.
    merges = []
    for piece in vocab:
        if piece in specials or len(piece) < 2:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab and vocab[left] < vocab[piece] and vocab[right] < vocab[piece]:
                merges.append((left, right))
                break
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    tok.add_special_tokens(specials + ["<mask>"])
    return tok


def roberta(vocab_len: int):
    from transformers import RobertaConfig, RobertaModel

    cfg = RobertaConfig(vocab_size=vocab_len, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=514, type_vocab_size=1, hidden_act="gelu",
                        layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    cfg.architectures = ["RobertaModel"]
    return RobertaModel(cfg)


def save_st6(out: Path, hf_model, hf_tokenizer, *, pooling, normalize: bool, max_seq_length,
             include_prompt: bool = True, do_lower_case: bool = False, prompts=None, default_prompt_name=None) -> None:
    """transformers' save_pretrained into a scratch folder (what a user's
    checkpoint is), then sentence-transformers' own constructors and save()."""
    with tempfile.TemporaryDirectory() as tmp:
        hf_model.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        kwargs = {"do_lower_case": do_lower_case}
        if max_seq_length is not None:
            kwargs["max_seq_length"] = max_seq_length
        transformer = Transformer(tmp, **kwargs)
        dim = transformer.get_embedding_dimension()
        modules = [transformer, Pooling(dim, pooling_mode=pooling, include_prompt=include_prompt)]
        if normalize:
            modules.append(Normalize())
        st = SentenceTransformer(modules=modules, device="cpu", prompts=prompts,
                                 default_prompt_name=default_prompt_name)
        if out.exists():
            shutil.rmtree(out)
        st.save(str(out))
    (out / "README.md").unlink(missing_ok=True)  # the model card: carries run details, changes nothing


def token_facts(model: SentenceTransformer, texts, prompt=None):
    """Per text: tokens used (sentence-transformers' preprocess), the count
    before truncation (the `tokenizers` library, the backend tokenizer as
    sentence-transformers loaded it, truncation off), truncated or not."""
    backend = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())
    backend.no_truncation()
    backend.no_padding()
    used, counts = [], []
    for t in texts:
        features = model[0].preprocess([t], prompt=prompt)
        used.append(int(features["input_ids"].shape[-1]))
        counts.append(len(backend.encode((prompt or "") + t).ids))
    return used, counts, [c > u for u, c in zip(used, counts)]


def case(model, name, texts, files=None, **encode_kwargs):
    vecs = [model.encode([t], convert_to_numpy=True, **encode_kwargs)[0] for t in texts]  # one at a time
    prompt = model._resolve_prompt(encode_kwargs.get("prompt"), encode_kwargs.get("prompt_name"))
    used, counts, truncated = token_facts(model, texts, prompt)
    options = {k: v for k, v in encode_kwargs.items()}
    return {"name": name, "files": files or {}, "options": options, "texts": texts, "tokens": used,
            "token_counts": counts, "truncated": truncated, "vectors": [[float(x) for x in v] for v in vecs]}


def write_fixture(name: str, out: Path, model, cases: list, failures: list, script: str) -> None:
    """Checks a fixture model's first case (vectors spread apart, precise enough,
    directory small enough) and writes its reference file."""
    if not base.check_spread(name, [np.array(v) for v in cases[0]["vectors"][: len(TEXTS)]]):
        failures.append(f"{name}: reference vectors too alike")
    base.check_precision(name, out, [np.array(v, dtype=np.float32) for v in cases[0]["vectors"][: len(TEXTS)]])
    size = base.dir_size(out)
    print(f"  {name}: {size / 1e6:.2f} MB; tokens {cases[0]['tokens']}")
    if size > base.MAX_DIR_BYTES:
        failures.append(f"{name}: directory is {size} bytes")
    doc = {
        "model": f"{name} (random weights, saved by sentence-transformers' save(), made by {script})",
        "generated_by": f"{script}, sentence-transformers {sentence_transformers.__version__}, "
                        f"transformers {transformers.__version__}, torch {torch.__version__}",
        "max_seq_length": model.max_seq_length,
        "cases": cases,
    }
    (base.FIXTURES / f"{name}.reference.json").write_text(json.dumps(doc, ensure_ascii=False) + "\n")


def finish(failures: list) -> None:
    """Exits non-zero, listing them, if any check failed."""
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


def main():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    unigram = base.unigram_tokenizer()
    uncased = base.wordpiece_tokenizer(lowercase=True)
    cased = base.wordpiece_tokenizer(lowercase=False)
    bpe = bpe_tokenizer()
    n_unigram, n_uncased, n_cased, n_bpe = (t.get_vocab_size() for t in (unigram, uncased, cased, bpe))
    print(f"tokenizers: Unigram {n_unigram}, WordPiece uncased {n_uncased}, cased {n_cased}, BPE {n_bpe}")

    def hf(cls_name, tok, **kw):
        return getattr(transformers, cls_name)(tokenizer_object=tok, **kw)

    bert_kw = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    specs = [
        # name, model, seed, tokenizer, save_st6 options
        ("seed-standin-st6", lambda: base.seed_standin(n_unigram), 1,
         lambda: hf("XLMRobertaTokenizerFast", unigram, model_max_length=512),
         dict(pooling="mean", normalize=False, max_seq_length=128)),
        ("xlm-roberta-cls-st6", lambda: base.xlm_roberta(n_unigram), 2,
         lambda: hf("XLMRobertaTokenizerFast", unigram, model_max_length=512),
         dict(pooling="cls", normalize=True, max_seq_length=512)),
        ("distilbert-max-st6", lambda: base.distilbert(n_uncased), (7, 1.0),
         lambda: hf("DistilBertTokenizerFast", uncased, do_lower_case=True, model_max_length=512, **bert_kw),
         dict(pooling="max", normalize=False, max_seq_length=128)),
        ("bert-pytorch-bin-st6", lambda: base.bert(n_cased, 32, 2, 80, 2), 4,
         lambda: hf("BertTokenizerFast", cased, do_lower_case=False, model_max_length=512, **bert_kw),
         dict(pooling="mean", normalize=True, max_seq_length=64)),
        ("bert-mean-sqrt-len-st6", lambda: base.bert(n_uncased, 24, 3, 48, 2), 6,
         lambda: hf("BertTokenizerFast", uncased, do_lower_case=True, **bert_kw),
         dict(pooling="mean_sqrt_len_tokens", normalize=True, max_seq_length=None)),
        ("roberta-bpe-st6", lambda: roberta(n_bpe), 8,
         lambda: hf("RobertaTokenizerFast", bpe, model_max_length=64, bos_token="<s>", eos_token="</s>",
                    sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>"),
         dict(pooling="mean", normalize=True, max_seq_length=None)),
        ("metaspace-lower-st6", lambda: base.bert(n_unigram, 32, 4, 64, 2), 9,
         lambda: hf("PreTrainedTokenizerFast", unigram, model_max_length=48, bos_token="<s>", eos_token="</s>",
                    cls_token="<s>", sep_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>"),
         dict(pooling="mean", normalize=False, max_seq_length=None, do_lower_case=True)),
        ("prompts-st6", lambda: base.bert(n_uncased, 32, 4, 64, 2), 10,
         lambda: hf("BertTokenizerFast", uncased, do_lower_case=True, model_max_length=40, **bert_kw),
         dict(pooling=("cls", "max", "mean", "weightedmean", "lasttoken"), normalize=True, max_seq_length=None,
              include_prompt=False, prompts={"query": "query: ", "passage": "passage: ", "empty": ""},
              default_prompt_name="query")),
    ]

    failures = []
    for name, make_model, seed, make_tokenizer, options in specs:
        print(f"{name}:")
        hf_model = make_model().eval()
        base.spread_weights(hf_model, *(seed if isinstance(seed, tuple) else (seed,)))
        out = base.MODELS / name
        save_st6(out, hf_model, make_tokenizer(), **options)
        sbert = json.loads((out / "sentence_bert_config.json").read_text())
        if "max_seq_length" in sbert:
            failures.append(f"{name}: sentence-transformers wrote the legacy max_seq_length key")

        model = SentenceTransformer(str(out), device="cpu")
        print(f"  max_seq_length {model.max_seq_length}, sentence_bert_config {sbert}")
        cases = [case(model, "as shipped", ALL_TEXTS)]
        if name == "prompts-st6":
            short = TEXTS[:8] + WHITESPACE_TEXTS[:4] + [TEXTS[-1], LONGEST]
            cases += [
                case(model, "prompt_name passage", short, prompt_name="passage"),
                case(model, "prompt_name empty", short, prompt_name="empty"),
                case(model, "literal prompt", short, prompt="Represent this sentence for retrieval: "),
                case(model, "no prompt", short, prompt=""),
                case(model, "truncate_dim 24", short, truncate_dim=24),
                case(model, "truncate_dim 24, normalize_embeddings", short, truncate_dim=24,
                     normalize_embeddings=True),
            ]
        for c in cases:
            if max(c["tokens"]) != model.max_seq_length:
                failures.append(f"{name} / {c['name']}: no text reaches max_seq_length {model.max_seq_length}")
        write_fixture(name, out, model, cases, failures, SCRIPT)

    finish(failures)


if __name__ == "__main__":
    main()
