#!/usr/bin/env python3
"""Small random-weight model directories for the architectures and modules
added after the sentence-transformers 6 contract fixtures, and their
reference vectors. Run by hand (not in CI), from the repository root, in an
environment with sentence-transformers 6.x and sentencepiece (no network):

    python tests/reference/make_arch_fixtures.py

As in make_st6_fixtures.py (whose helpers, texts and checks this reuses),
every directory is written by `SentenceTransformer(modules=[...]).save()` from
the constructors a user calls; no configuration file is written by hand:
    mpnet-mean-st6                MPNetModel (relative position bias, positions from
                                  padding_idx + 1, no token types) with an MPNet-style
                                  WordPiece tokenizer (<s> $A </s>, <pad> = 1), mean pooling
                                  + Normalize, max_seq_length 128
    distilbert-dense-tanh-st6     the distiluse shape: DistilBERT, mean pooling, Dense
                                  (32 -> 24, tanh), no Normalize; saved with
                                  safe_serialization=False, so the Dense weights are in
                                  2_Dense/pytorch_model.bin as older releases wrote them
    bert-dense-normalize-st6      the LaBSE shape: BERT, CLS pooling, Dense (32 -> 32,
                                  tanh), then a second Dense (32 -> 24, no bias, Identity),
                                  then Normalize
    modernbert-mean-st6           ModernBertModel (rotary positions, pre-norm, GeGLU, no biases),
                                  4 layers alternating global / sliding-window attention
                                  (global_attn_every_n_layers 2, local_attention 8, so texts
                                  longer than 5 tokens meet the window), a ModernBERT-style
                                  byte-level BPE tokenizer ([CLS] $A [SEP]), mean pooling +
                                  Normalize, max_seq_length 128
    modernbert-cls-bias-st6       the same with every bias on (attention_bias, mlp_bias,
                                  norm_bias), hidden_activation gelu_pytorch_tanh, 3 layers
                                  (global_attn_every_n_layers 3), local_attention 16, CLS pooling
"""
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer
from tokenizers import Tokenizer, processors
from tokenizers.models import WordPiece

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_st6_fixtures as st6  # noqa: E402
import make_test_models as base  # noqa: E402
from multilingual_texts import TEXTS  # noqa: E402

SCRIPT = "tests/reference/make_arch_fixtures.py"


def mpnet_tokenizer() -> Tokenizer:
    """The uncased WordPiece tokenizer with MPNet's special tokens: <s>=0
    <pad>=1 </s>=2 <unk>=3 <mask>=4 (MPNet's position ids treat id 1 as
    padding), <s> $A </s> as RobertaProcessing builds it, as in the real
    all-mpnet-base-v2's tokenizer.json."""
    wp = base.wordpiece_tokenizer(lowercase=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {w: i for w, i in wp.get_vocab().items() if i >= len(specials)}
    vocab.update({s: i for i, s in enumerate(specials)})
    tok = Tokenizer(WordPiece(vocab, unk_token="<unk>", max_input_chars_per_word=100))
    tok.normalizer = wp.normalizer
    tok.pre_tokenizer = wp.pre_tokenizer
    tok.decoder = wp.decoder
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    tok.add_special_tokens(specials)
    assert [tok.token_to_id(t) for t in specials] == [0, 1, 2, 3, 4]
    return tok


def mpnet(vocab_len: int):
    from transformers import MPNetConfig, MPNetModel

    cfg = MPNetConfig(vocab_size=vocab_len, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=514, hidden_act="gelu", layer_norm_eps=1e-5,
                      relative_attention_num_buckets=32, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    cfg.architectures = ["MPNetModel"]
    return MPNetModel(cfg)


def modernbert_tokenizer() -> Tokenizer:
    """The byte-level BPE tokenizer of make_st6_fixtures with ModernBERT's
    special tokens ([CLS] [SEP] [PAD] [MASK] appended after the vocabulary,
    as in ModernBERT's tokenizer.json) and its template [CLS] $A [SEP]."""
    tok = st6.bpe_tokenizer()
    specials = ["[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    tok.add_special_tokens(specials)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS]:0 $A:0 [SEP]:0",
                                                       pair="[CLS]:0 $A:0 [SEP]:0 $B:0 [SEP]:0",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


def modernbert(tok: Tokenizer, *, layers: int, every: int, window: int, biases: bool, act: str):
    from transformers import ModernBertConfig, ModernBertModel

    ids = {t: tok.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")}
    cfg = ModernBertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=layers,
                           num_attention_heads=4, intermediate_size=48, hidden_activation=act,
                           global_attn_every_n_layers=every, local_attention=window,
                           global_rope_theta=1000.0, local_rope_theta=100.0, norm_eps=1e-5,
                           attention_bias=biases, mlp_bias=biases, norm_bias=biases,
                           pad_token_id=ids["[PAD]"], bos_token_id=ids["[CLS]"], cls_token_id=ids["[CLS]"],
                           eos_token_id=ids["[SEP]"], sep_token_id=ids["[SEP]"])
    cfg.architectures = ["ModernBertModel"]
    return ModernBertModel(cfg)


def spread_modernbert(model, seed: int) -> None:
    """make_test_models.spread_weights for ModernBERT's names: embeddings
    N(0, 1), norms 1 +- 0.2, biases +- 0.1, linear N(0, g^2 / fan_in) with
    g = 2 for the query and key rows of Wqkv, 0.7 otherwise."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("bias"):
                new = (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1
            elif "norm" in name:
                new = 1 + (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.2
            elif "tok_embeddings" in name:
                new = torch.randn(p.shape, generator=gen)
            else:
                new = torch.randn(p.shape, generator=gen) * 0.7 / p.shape[1] ** 0.5
                if "Wqkv" in name:
                    new[: 2 * p.shape[1]] *= 2.0 / 0.7
            p.copy_(new)


def spread_dense(module: Dense, seed: int, gain: float) -> None:
    """Weights N(0, gain^2 / in_features), biases +- 0.1 (gain 2: tanh well
    away from linear)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = module.linear.weight
        w.copy_(torch.randn(w.shape, generator=gen) * gain / w.shape[1] ** 0.5)
        if module.linear.bias is not None:
            b = module.linear.bias
            b.copy_((torch.rand(b.shape, generator=gen) * 2 - 1) * 0.1)


def save(out: Path, hf_model, hf_tokenizer, *, pooling, max_seq_length, after_pooling, safe_serialization=True):
    """transformers' save_pretrained into a scratch folder, then
    sentence-transformers' constructors and save(); `after_pooling(dim)`
    gives the modules that follow Pooling."""
    with tempfile.TemporaryDirectory() as tmp:
        hf_model.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp, max_seq_length=max_seq_length)
        dim = transformer.get_embedding_dimension()
        modules = [transformer, Pooling(dim, pooling_mode=pooling)] + after_pooling(dim)
        st = SentenceTransformer(modules=modules, device="cpu")
        if out.exists():
            shutil.rmtree(out)
        st.save(str(out), safe_serialization=safe_serialization)
    (out / "README.md").unlink(missing_ok=True)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    uncased = base.wordpiece_tokenizer(lowercase=True)
    mp = mpnet_tokenizer()
    n_uncased, n_mp = uncased.get_vocab_size(), mp.get_vocab_size()
    bert_kw = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")

    def hf(cls_name, tok, **kw):
        return getattr(transformers, cls_name)(tokenizer_object=tok, **kw)

    def dense(i, o, seed, gain=2.0, **kw):
        d = Dense(i, o, **kw)
        spread_dense(d, seed, gain)
        return d

    specs = [
        ("mpnet-mean-st6", lambda: mpnet(n_mp), 11,
         lambda: hf("MPNetTokenizerFast", mp, do_lower_case=True, model_max_length=512, bos_token="<s>",
                    eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
                    mask_token="<mask>"),
         dict(pooling="mean", max_seq_length=128, after_pooling=lambda dim: [Normalize()])),
        ("distilbert-dense-tanh-st6", lambda: base.distilbert(n_uncased), 12,
         lambda: hf("DistilBertTokenizerFast", uncased, do_lower_case=True, model_max_length=512, **bert_kw),
         dict(pooling="mean", max_seq_length=128, safe_serialization=False,
              after_pooling=lambda dim: [dense(dim, 24, 13, activation_function=torch.nn.Tanh())])),
        ("bert-dense-normalize-st6", lambda: base.bert(n_uncased, 32, 4, 64, 4), 20,
         lambda: hf("BertTokenizerFast", uncased, do_lower_case=True, model_max_length=512, **bert_kw),
         dict(pooling="cls", max_seq_length=64,
              after_pooling=lambda dim: [dense(dim, 32, 15, activation_function=torch.nn.Tanh()),
                                         dense(32, 24, 16, gain=1.0, bias=False, activation_function=None), Normalize()])),
    ]

    mb = modernbert_tokenizer()

    def modernbert_hf():
        return hf("PreTrainedTokenizerFast", mb, model_max_length=8192, cls_token="[CLS]", sep_token="[SEP]",
                  pad_token="[PAD]", mask_token="[MASK]", unk_token="<unk>")

    specs += [
        ("modernbert-mean-st6", lambda: modernbert(mb, layers=4, every=2, window=8, biases=False, act="gelu"), 21,
         modernbert_hf, dict(pooling="mean", max_seq_length=128, after_pooling=lambda dim: [Normalize()])),
        ("modernbert-cls-bias-st6",
         lambda: modernbert(mb, layers=3, every=3, window=16, biases=True, act="gelu_pytorch_tanh"), 22,
         modernbert_hf, dict(pooling="cls", max_seq_length=128, after_pooling=lambda dim: [])),
    ]

    failures = []
    for name, make_model, seed, make_tokenizer, options in specs:
        print(f"{name}:")
        hf_model = make_model().eval()
        if name.startswith("modernbert"):
            spread_modernbert(hf_model, seed)
        else:
            base.spread_weights(hf_model, seed)
        if name.startswith("mpnet"):
            # A bias that matters: N(0, 1) per bucket and head.
            gen = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                table = hf_model.encoder.relative_attention_bias.weight
                table.copy_(torch.randn(table.shape, generator=gen))
        out = base.MODELS / name
        save(out, hf_model, make_tokenizer(), **options)
        model = SentenceTransformer(str(out), device="cpu")
        print(f"  modules {[type(m).__name__ for m in model]}, max_seq_length {model.max_seq_length}")
        cases = [st6.case(model, "as shipped", st6.ALL_TEXTS)]
        if max(cases[0]["tokens"]) != model.max_seq_length:
            failures.append(f"{name}: no text reaches max_seq_length {model.max_seq_length}")
        st6.write_fixture(name, out, model, cases, failures, SCRIPT)

    st6.finish(failures)


if __name__ == "__main__":
    main()
