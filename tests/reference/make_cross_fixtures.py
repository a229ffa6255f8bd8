#!/usr/bin/env python3
"""Random-weight CrossEncoder directories and their reference scores from
sentence-transformers 6.x, for sbert4j's CrossEncoder. Run by hand (not in
CI), from the repository root, in an environment with sentence-transformers
6.x and sentencepiece (no network):

    python tests/reference/make_cross_fixtures.py

Each model is a transformers `*ForSequenceClassification` (2 layers, hidden
32) with make_test_models.py's tokenizers. Two saved formats:
  - 6.x format (`-st6`): transformers' save_pretrained into a scratch folder,
    then sentence-transformers' own `CrossEncoder(folder, ...).save(out)`
    (modules.json, sentence_bert_config.json with transformer_task
    "sequence-classification", config_sentence_transformers.json with
    activation_fn, prompts); nothing is written by hand.
  - the older format (`-legacy`), as cross-encoder/ms-marco-MiniLM-L6-v2 and
    BAAI/bge-reranker-base are laid out: no modules.json, just transformers'
    save_pretrained of model and tokenizer. Releases 4 and 5 of
    sentence-transformers wrote their activation into config.json as
    `sentence_transformers: {activation_fn, version}` (they set
    `model.config.sentence_transformers` before `save_pretrained`), which is
    what is done here; releases before 4 wrote
    `sbert_ce_default_activation_function`; bge-reranker-base has neither
    (the default, Sigmoid for one label).

    ce-bert-st6             BERT (pooler + classifier), 1 label, Sigmoid (default),
                            max_length 64, prompts {"query", "short"} (no default)
    ce-xlm-roberta-st6      XLM-R (<s> a </s></s> b </s>, dense + tanh + out_proj), 1 label, 128
    ce-distilbert-st6       DistilBERT (pre_classifier + ReLU + classifier), 3 labels (Identity), 64
    ce-mpnet-st6            MPNet (dense + tanh + out_proj), 1 label, default prompt "query", 96
    ce-roberta-st6          RoBERTa with byte-level BPE, 2 labels, activation Tanh saved, 64
    ce-modernbert-st6       ModernBERT (head dense + gelu + norm, classifier_pooling mean,
                            sliding window 8), 1 label, 128
    ce-bert-legacy          BERT, older format, config.json sentence_transformers.activation_fn
                            Identity (raw logits), tokenizer model_max_length 48
    ce-xlm-roberta-legacy   XLM-R, older format with no activation at all (bge-reranker-base's
                            layout): Sigmoid; model_max_length 512
    ce-distilbert-legacy    DistilBERT, sbert_ce_default_activation_function Sigmoid (< 4.0), 1 label

The pairs include long documents (truncation: longest-first over the pair),
long queries, empty texts and literal special tokens. For each fixture the
reference JSON holds, per case, the pairs, `predict`'s scores (all labels,
after the activation) and the input ids `preprocess` gives, and for one-label
models `rank`'s order.
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from sentence_transformers import CrossEncoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_arch_fixtures as arch  # noqa: E402
import make_st6_fixtures as st6  # noqa: E402
import make_test_models as base  # noqa: E402

SCRIPT = "tests/reference/make_cross_fixtures.py"

LONG_DOC = " ".join(["The parcel arrived late again and the customer asked for a refund, 包裹又迟到了。"] * 30)
LONG_QUERY = " ".join(["where is my order number 12345 and why is it late"] * 12)
QUERY = "Where is my parcel?"
DOCS = [
    "The parcel arrived late again.",
    "Your order has shipped and will arrive tomorrow.",
    "包裹又迟到了，客户要求退款。",
    "The weather is nice today.",
    LONG_DOC,
    "",
    "[SEP] [CLS] </s> <s> [MASK] <pad> literal special tokens [SEP]",
    "Refunds are processed within five business days.",
]
PAIRS = [[QUERY, d] for d in DOCS] + [
    [LONG_QUERY, "short document"],
    [LONG_QUERY, LONG_DOC],
    ["", "an empty query"],
    ["[CLS] query with [SEP] inside </s></s>", "and a document"],
    ["  spaced   query\t", "\ndocument\n with lines "],
    ["¿Dónde está mi paquete?", "Le colis est arrivé en retard."],
]


def spread(model, seed):
    if "ModernBert" in type(model).__name__:
        arch.spread_modernbert(model, seed)
    else:
        base.spread_weights(model, seed)
    # The head: classifier weights N(0, 4 / fan_in) so the logits spread out.
    gen = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("classifier", "pre_classifier", "head.dense", "bert.pooler")) and name.endswith("weight") and p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 2.0 / p.shape[1] ** 0.5)


def bert_cls(vocab, labels):
    cfg = transformers.BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=64, max_position_embeddings=512, type_vocab_size=2,
                                  hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0, num_labels=labels)
    return transformers.BertForSequenceClassification(cfg)


def xlmr_cls(vocab, labels):
    cfg = transformers.XLMRobertaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=64, max_position_embeddings=514, type_vocab_size=1,
                                        hidden_act="gelu", layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
                                        eos_token_id=2, num_labels=labels)
    return transformers.XLMRobertaForSequenceClassification(cfg)


def roberta_cls(vocab, labels):
    cfg = transformers.RobertaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, max_position_embeddings=514, type_vocab_size=1,
                                     hidden_act="gelu", layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
                                     eos_token_id=2, num_labels=labels)
    return transformers.RobertaForSequenceClassification(cfg)


def distilbert_cls(vocab, labels):
    cfg = transformers.DistilBertConfig(vocab_size=vocab, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                                        max_position_embeddings=512, activation="gelu", pad_token_id=0,
                                        num_labels=labels)
    return transformers.DistilBertForSequenceClassification(cfg)


def mpnet_cls(vocab, labels):
    cfg = transformers.MPNetConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                   intermediate_size=64, max_position_embeddings=514, hidden_act="gelu",
                                   layer_norm_eps=1e-5, relative_attention_num_buckets=32, pad_token_id=1,
                                   bos_token_id=0, eos_token_id=2, num_labels=labels)
    return transformers.MPNetForSequenceClassification(cfg)


def modernbert_cls(tok, labels):
    ids = {t: tok.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")}
    cfg = transformers.ModernBertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                                        num_attention_heads=4, intermediate_size=48, hidden_activation="gelu",
                                        global_attn_every_n_layers=2, local_attention=8, global_rope_theta=1000.0,
                                        local_rope_theta=100.0, norm_eps=1e-5, pad_token_id=ids["[PAD]"],
                                        bos_token_id=ids["[CLS]"], cls_token_id=ids["[CLS]"],
                                        eos_token_id=ids["[SEP]"], sep_token_id=ids["[SEP]"], num_labels=labels,
                                        classifier_pooling="mean", classifier_activation="gelu",
                                        classifier_bias=True)
    return transformers.ModernBertForSequenceClassification(cfg)


def save_st6(out: Path, hf_model, hf_tokenizer, **kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        hf_model.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        model = CrossEncoder(tmp, device="cpu", **kwargs)
        if out.exists():
            shutil.rmtree(out)
        model.save(str(out))
    (out / "README.md").unlink(missing_ok=True)


def save_legacy(out: Path, hf_model, hf_tokenizer, st_key=None):
    if out.exists():
        shutil.rmtree(out)
    if st_key is not None:
        key, value = st_key
        setattr(hf_model.config, key, value)
    hf_model.save_pretrained(str(out))
    hf_tokenizer.save_pretrained(str(out))


def reference(name: str, out: Path, failures: list):
    model = CrossEncoder(str(out), device="cpu")
    labels = model.num_labels
    cases = []

    def case(title, pairs, **kwargs):
        scores = model.predict(pairs, convert_to_numpy=True, **kwargs)
        prompt = model._resolve_prompt(kwargs.get("prompt"), kwargs.get("prompt_name"))
        ids = []
        for p in pairs:
            f = model.preprocess([p], prompt=prompt)
            ids.append(f["input_ids"][0].tolist())
        c = {"name": title, "pairs": pairs, "scores": scores.reshape(len(pairs), labels).tolist(), "input_ids": ids}
        c.update({k: v for k, v in kwargs.items()})
        cases.append(c)

    case("as shipped", PAIRS)
    if model.prompts:
        for prompt_name in sorted(model.prompts):
            case(f"prompt_name {prompt_name}", PAIRS[:4], prompt_name=prompt_name)
        case("literal prompt", PAIRS[:4], prompt="Question: ")
        case("empty prompt", PAIRS[:4], prompt="")
    ranked = None
    if labels == 1:
        ranked = [{"corpus_id": int(r["corpus_id"]), "score": float(r["score"])} for r in model.rank(QUERY, DOCS)]
    lengths = [len(i) for i in cases[0]["input_ids"]]
    if max(lengths) != model.max_seq_length:
        failures.append(f"{name}: no pair reaches max_length {model.max_seq_length}")
    flat = [s for c in cases for row in c["scores"] for s in row]
    if len(set(round(s, 4) for s in flat)) < len(flat) // 2:
        failures.append(f"{name}: scores do not spread")
    size = base.dir_size(out)
    if size > base.MAX_DIR_BYTES:
        failures.append(f"{name}: {size} bytes")
    doc = {
        "generated_by": SCRIPT,
        "sentence_transformers": __import__("sentence_transformers").__version__,
        "transformers": transformers.__version__,
        "model": name,
        "num_labels": labels,
        "activation_fn": type(model.activation_fn).__name__,
        "max_length": model.max_seq_length,
        "default_prompt_name": model.default_prompt_name,
        "prompts": model.prompts,
        "cases": cases,
        "rank": {"query": QUERY, "documents": DOCS, "ranked": ranked},
    }
    path = base.FIXTURES / f"{name}.reference.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    print(f"{name}: {labels} labels, {type(model.activation_fn).__name__}, max_length {model.max_seq_length}, "
          f"{size} bytes, scores {min(flat):.3f}..{max(flat):.3f}")


def main():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    uncased = base.wordpiece_tokenizer(lowercase=True, vocab_size=2000)
    unigram = base.unigram_tokenizer()
    bpe = st6.bpe_tokenizer()
    mp = arch.mpnet_tokenizer()
    mb = arch.modernbert_tokenizer()
    bert_kw = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")

    def bert_tok(max_len=512):
        return transformers.BertTokenizerFast(tokenizer_object=uncased, do_lower_case=True, model_max_length=max_len, **bert_kw)

    def distil_tok(max_len=512):
        return transformers.DistilBertTokenizerFast(tokenizer_object=uncased, do_lower_case=True, model_max_length=max_len, **bert_kw)

    def xlmr_tok():
        return transformers.XLMRobertaTokenizerFast(tokenizer_object=unigram, model_max_length=512)

    def roberta_tok():
        return transformers.RobertaTokenizerFast(tokenizer_object=bpe, model_max_length=512, bos_token="<s>",
                                                 eos_token="</s>", sep_token="</s>", cls_token="<s>",
                                                 unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")

    def mpnet_tok():
        return transformers.MPNetTokenizerFast(tokenizer_object=mp, do_lower_case=True, model_max_length=512,
                                               bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                                               unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")

    def modernbert_tok():
        return transformers.PreTrainedTokenizerFast(tokenizer_object=mb, model_max_length=8192, cls_token="[CLS]",
                                                    sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]",
                                                    unk_token="<unk>")

    nu, nx, nb, nm = uncased.get_vocab_size(), unigram.get_vocab_size(), bpe.get_vocab_size(), mp.get_vocab_size()
    st6_specs = [
        ("ce-bert-st6", lambda: bert_cls(nu, 1), bert_tok, 31,
         dict(max_length=64, prompts={"query": "query: ", "short": "Q "})),
        ("ce-xlm-roberta-st6", lambda: xlmr_cls(nx, 1), xlmr_tok, 32, dict(max_length=128)),
        ("ce-distilbert-st6", lambda: distilbert_cls(nu, 3), distil_tok, 33, dict(max_length=64)),
        ("ce-mpnet-st6", lambda: mpnet_cls(nm, 1), mpnet_tok, 34,
         dict(max_length=96, prompts={"query": "query: "}, default_prompt_name="query")),
        ("ce-roberta-st6", lambda: roberta_cls(nb, 2), roberta_tok, 35,
         dict(max_length=64, activation_fn=torch.nn.Tanh())),
        ("ce-modernbert-st6", lambda: modernbert_cls(mb, 1), modernbert_tok, 36, dict(max_length=128)),
    ]
    legacy_specs = [
        ("ce-bert-legacy", lambda: bert_cls(nu, 1), lambda: bert_tok(48), 41,
         ("sentence_transformers", {"activation_fn": "torch.nn.modules.linear.Identity", "version": "4.1.0"})),
        ("ce-xlm-roberta-legacy", lambda: xlmr_cls(nx, 1), xlmr_tok, 42, None),
        ("ce-distilbert-legacy", lambda: distilbert_cls(nu, 1), lambda: distil_tok(64), 43,
         ("sbert_ce_default_activation_function", "torch.nn.modules.activation.Sigmoid")),
    ]
    failures = []
    for name, make_model, make_tok, seed, kwargs in st6_specs:
        model = make_model().eval()
        spread(model, seed)
        out = base.MODELS / name
        save_st6(out, model, make_tok(), **kwargs)
        reference(name, out, failures)
    for name, make_model, make_tok, seed, key in legacy_specs:
        model = make_model().eval()
        spread(model, seed)
        out = base.MODELS / name
        save_legacy(out, model, make_tok(), key)
        assert not (out / "modules.json").exists()
        reference(name, out, failures)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
