#!/usr/bin/env python3
"""Small random-weight stand-ins of Qwen3-Embedding and EmbeddingGemma, laid
out as the real model directories are, and their reference vectors from
sentence-transformers 6.2. Run by hand (not in CI), from the repository
root, in an environment with sentence-transformers 6.x and sentencepiece (no
network):

    python tests/reference/make_decoder_fixtures.py

As in make_st6_fixtures.py (whose helpers, texts and checks this reuses),
every directory is written by `SentenceTransformer(modules=[...]).save()`
from the constructors a user calls; no configuration file is written by hand.
The tokenizers are trained on multilingual_texts.CORPUS, not on the texts
the references are computed on.

    qwen3-lasttoken-st6   Qwen3Model: 2 layers, hidden 64, 4 query / 2 key-value heads of 24
                          (heads x head_dim != hidden, as in the real 0.6B), intermediate 96,
                          rope_theta 1000; a Qwen2Tokenizer (NFC, Qwen's split regex,
                          byte-level BPE, "$A <|endoftext|>", <|im_start|> / <|im_end|>
                          specials), padding_side left, model_max_length 64; lasttoken
                          pooling + Normalize; Qwen3-Embedding's prompts ("query":
                          "Instruct: ...\\nQuery:", "document": "")
    gemma3-mean-dense-st6 Gemma3TextModel with use_bidirectional_attention: 3 layers
                          (sliding, full, sliding), sliding_window 8 (two-sided reach 4),
                          hidden 64, 4 query / 2 key-value heads of 24,
                          query_pre_attn_scalar 20, rope thetas 1000 (global) / 100 (local),
                          intermediate 96; a GemmaTokenizer-shaped BPE with byte fallback
                          ("<bos> $A <eos>"), model_max_length 96; mean pooling, Dense
                          64 -> 256 -> 64 (no bias, Identity) + Normalize, as EmbeddingGemma;
                          its prompts ("query": "task: search result | query: ",
                          "document": "title: none | text: ")

Cases per model: every text one at a time ("as shipped"), the same texts in
one batch of 16 (mixed lengths: left padding for Qwen3), the query and
document prompts, truncate_dim 24, and texts typing the special tokens.
"""
import json
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_st6_fixtures as st6  # noqa: E402
import make_test_models as base  # noqa: E402
from multilingual_texts import CORPUS, TEXTS  # noqa: E402

SCRIPT = "tests/reference/make_decoder_fixtures.py"

QWEN_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
              r"""\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN_PROMPTS = {"query": "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:",
                "document": ""}
GEMMA_PROMPTS = {"query": "task: search result | query: ", "document": "title: none | text: ",
                 "Clustering": "task: clustering | query: "}

SPECIAL_TEXTS = {
    "qwen3-lasttoken-st6": ["before <|endoftext|> after", "<|im_start|>user\n今天天气很好<|im_end|>",
                            "<|endoftext|>", "tail <|im_end|>"],
    "gemma3-mean-dense-st6": ["<bos> starts again", "the end <eos> and more", "<pad><pad> padded by hand",
                              "<start_of_turn>user 你好<end_of_turn>"],
}


def merges_for(vocab: dict, specials) -> list:
    """Merges that build every multi-character piece from two pieces already
    in the vocabulary (as make_st6_fixtures.bpe_tokenizer)."""
    merges = []
    for piece in vocab:
        if piece in specials or len(piece) < 2:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab and vocab[left] < vocab[piece] and vocab[right] < vocab[piece]:
                merges.append((left, right))
                break
    return merges


def qwen_tokenizer() -> Tokenizer:
    """Qwen2's tokenizer.json shape on the byte-level BPE vocabulary of
    make_st6_fixtures: NFC, Qwen's split regex then ByteLevel (no regex),
    specials appended after the vocabulary, "$A <|endoftext|>"."""
    model = json.loads(st6.bpe_tokenizer().to_str())["model"]
    old = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    pieces = [p for p, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]) if p not in old]
    vocab = {p: i for i, p in enumerate(pieces)}
    tok = Tokenizer(BPE(vocab=vocab, merges=merges_for(vocab, ()), fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    eot = tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(single="$A:0 <|endoftext|>:0",
                                                       pair="$A:0 <|endoftext|>:0 $B:1 <|endoftext|>:1",
                                                       special_tokens=[("<|endoftext|>", eot)])
    return tok


def gemma_tokenizer() -> Tokenizer:
    """GemmaTokenizer's shape: <pad>=0 <eos>=1 <bos>=2 <unk>=3 <mask>=4, byte
    tokens <0x00>..<0xFF>, then SentencePiece BPE pieces ("▁" for spaces,
    spaces replaced by the normalizer), byte fallback, "<bos> $A <eos>"."""
    proto = base.train_sentencepiece(CORPUS, 2400, model_type="bpe", normalization_rule_name="identity",
                                     split_by_whitespace=True, byte_fallback=True)
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    pieces = [p for p, _ in base._sentencepiece_vocab(proto)]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(specials + byte_tokens + [p for p in pieces if p not in specials
                                                                                and not p.startswith("<")]))}
    tok = Tokenizer(BPE(vocab=vocab, merges=merges_for(vocab, set(specials) | set(byte_tokens)), fuse_unk=True,
                        unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="merged_with_previous", invert=False)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.add_special_tokens(specials + ["<start_of_turn>", "<end_of_turn>"])
    bos, eos = tok.token_to_id("<bos>"), tok.token_to_id("<eos>")
    tok.post_processor = processors.TemplateProcessing(single="<bos>:0 $A:0 <eos>:0",
                                                       pair="<bos>:0 $A:0 <eos>:0 $B:1 <eos>:1",
                                                       special_tokens=[("<bos>", bos), ("<eos>", eos)])
    return tok


def spread(model, seed: int, norm_center: float, gain: float) -> None:
    """Embeddings N(0, 1); RMS norm weights norm_center +- 0.2 (1 for Qwen3's
    `weight`, 0 for Gemma's `1 + weight`); biases +- 0.1; linear
    N(0, g^2 / fan_in), g = 2 for q and k, `gain` otherwise."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("bias"):
                new = (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1
            elif "norm" in name:
                new = norm_center + (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.2
            elif "embed_tokens" in name:
                new = torch.randn(p.shape, generator=gen)
            else:
                g = 2.0 if ("q_proj" in name or "k_proj" in name) else gain
                new = torch.randn(p.shape, generator=gen) * g / p.shape[1] ** 0.5
            p.copy_(new)


def qwen3(tok: Tokenizer):
    from transformers import Qwen3Config, Qwen3Model

    eot = tok.token_to_id("<|endoftext|>")
    cfg = Qwen3Config(vocab_size=tok.get_vocab_size(), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=24, intermediate_size=96, max_position_embeddings=2048,
                      rope_theta=1000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
                      bos_token_id=eot, eos_token_id=tok.token_to_id("<|im_end|>"), pad_token_id=eot)
    cfg.architectures = ["Qwen3Model"]
    return Qwen3Model(cfg)


def gemma3(tok: Tokenizer):
    from transformers import Gemma3TextConfig, Gemma3TextModel

    cfg = Gemma3TextConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, num_hidden_layers=3,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=24, intermediate_size=96,
                           max_position_embeddings=2048, query_pre_attn_scalar=20, sliding_window=8,
                           layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                           rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1000.0},
                                            "sliding_attention": {"rope_type": "default", "rope_theta": 100.0}},
                           use_bidirectional_attention=True, rms_norm_eps=1e-6,
                           hidden_activation="gelu_pytorch_tanh", pad_token_id=0, eos_token_id=1, bos_token_id=2)
    cfg.architectures = ["Gemma3TextModel"]
    return Gemma3TextModel(cfg)


def dense(i, o, seed):
    d = Dense(i, o, bias=False, activation_function=torch.nn.Identity())
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = d.linear.weight
        w.copy_(torch.randn(w.shape, generator=gen) / w.shape[1] ** 0.5)
    return d


def save(out: Path, hf_model, hf_tokenizer, *, pooling, after_pooling, prompts):
    with tempfile.TemporaryDirectory() as tmp:
        hf_model.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp)
        dim = transformer.get_embedding_dimension()
        modules = [transformer, Pooling(dim, pooling_mode=pooling)] + after_pooling(dim)
        st = SentenceTransformer(modules=modules, device="cpu", prompts=prompts)
        if out.exists():
            import shutil
            shutil.rmtree(out)
        st.save(str(out))
    (out / "README.md").unlink(missing_ok=True)


def batched_case(model, texts):
    """The texts as one batch of 16: padded (left for Qwen3) and masked."""
    vecs = model.encode(texts, batch_size=16, convert_to_numpy=True)
    used, counts, truncated = st6.token_facts(model, texts, None)
    return {"name": "batched", "files": {}, "options": {}, "texts": texts, "tokens": used, "token_counts": counts,
            "truncated": truncated, "vectors": [[float(x) for x in v] for v in vecs]}


def main():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    qt, gt = qwen_tokenizer(), gemma_tokenizer()
    specs = [
        ("qwen3-lasttoken-st6", lambda: qwen3(qt), 31,
         lambda: transformers.Qwen2Tokenizer(tokenizer_object=qt, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                             unk_token=None, padding_side="left", model_max_length=64),
         dict(pooling="lasttoken", after_pooling=lambda dim: [Normalize()], prompts=QWEN_PROMPTS), 1.0, 1.2),
        ("gemma3-mean-dense-st6", lambda: gemma3(gt), 32,
         lambda: transformers.GemmaTokenizer(tokenizer_object=gt, padding_side="right", model_max_length=96),
         dict(pooling="mean", after_pooling=lambda dim: [dense(dim, 256, 33), dense(256, dim, 34), Normalize()],
              prompts=GEMMA_PROMPTS), 0.0, 0.7),
    ]
    failures = []
    for name, make_model, seed, make_tokenizer, options, norm_center, gain in specs:
        print(f"{name}:")
        hf_model = make_model().eval()
        spread(hf_model, seed, norm_center, gain)
        out = base.MODELS / name
        save(out, hf_model, make_tokenizer(), **options)
        model = SentenceTransformer(str(out), device="cpu")
        print(f"  modules {[type(m).__name__ for m in model]}, max_seq_length {model.max_seq_length}, "
              f"padding {model.tokenizer.padding_side}, prompts {list(model.prompts)}")
        texts = st6.ALL_TEXTS
        mixed = [t for t in texts if t.strip()][:16]
        cases = [
            st6.case(model, "as shipped", texts),
            batched_case(model, mixed),
            st6.case(model, "query prompt", TEXTS[:6], prompt_name="query"),
            st6.case(model, "document prompt", TEXTS[:6], prompt_name="document"),
            st6.case(model, "truncate_dim", TEXTS[:6], truncate_dim=24),
            st6.case(model, "special tokens typed", SPECIAL_TEXTS[name]),
        ]
        if max(cases[0]["tokens"]) != model.max_seq_length:
            failures.append(f"{name}: no text reaches max_seq_length {model.max_seq_length}")
        lengths = sorted(set(cases[1]["tokens"]))
        if len(lengths) < 4:
            failures.append(f"{name}: the batch does not mix lengths: {lengths}")
        st6.write_fixture(name, out, model, cases, failures, SCRIPT)

    st6.finish(failures)


if __name__ == "__main__":
    main()
