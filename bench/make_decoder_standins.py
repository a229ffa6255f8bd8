#!/usr/bin/env python3
"""Full-size random-weight stand-ins of Qwen3-Embedding-0.6B and
EmbeddingGemma-300m for the benchmark (their real weights cannot be
downloaded here), saved by sentence-transformers' own save() with the
tokenizers, modules and prompts of the test fixtures
(tests/fixtures/models/qwen3-lasttoken-st6, gemma3-mean-dense-st6) and the
real models' shapes:

    qwen3-0.6b-standin     Qwen3Model: 28 layers, hidden 1024, 16 query / 8 key-value heads of 128,
                           intermediate 3072, vocabulary 151,669 (the embedding table is 620 MB in
                           float32), rope_theta 1e6, 32,768 positions; lasttoken + Normalize
    embeddinggemma-standin Gemma3TextModel, bidirectional: 24 layers (5 sliding : 1 global),
                           hidden 768, 3 query / 1 key-value heads of 256, intermediate 1152,
                           vocabulary 262,144, sliding_window 512, query_pre_attn_scalar 256,
                           2,048 positions; mean pooling, Dense 768 -> 3072 -> 768, Normalize

The tokenizers are the fixtures' small ones: token ids stay below their
vocabulary, so the rows read are few, as with short real texts; the table's
size (the RSS figure: read where it lies, not copied) is the real one.
With --onnx the Qwen3 stand-in is also exported with torch.onnx (the Hugging
Face model, last hidden state), for ONNX Runtime beside it. EmbeddingGemma is
not exported yet: torch 2.15's TorchScript exporter fails on transformers 5's
bidirectional sliding mask (IndexError: unordered_map::at, in vmap), and the
dynamo exporter needs onnxscript, which the benchmark's environment lacks.

    python bench/make_decoder_standins.py --out DIR [--tiny] [--onnx]

--tiny: the same structure, 2 layers and small widths (checks the script
and the benchmark wiring in seconds; no figures).
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "models"

QWEN = dict(hidden_size=1024, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
            intermediate_size=3072, vocab_size=151669, max_position_embeddings=32768, rope_theta=1_000_000.0)
GEMMA = dict(hidden_size=768, num_hidden_layers=24, num_attention_heads=3, num_key_value_heads=1, head_dim=256,
             intermediate_size=1152, vocab_size=262144, max_position_embeddings=2048, sliding_window=512,
             query_pre_attn_scalar=256)
TINY = dict(hidden_size=64, num_hidden_layers=2, intermediate_size=96, vocab_size=4096)


def spread(model, seed, norm_center):
    """As the fixtures: embeddings N(0, 1), norms around their centre,
    linear N(0, g^2 / fan_in)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "norm" in name:
                p.copy_(norm_center + (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.2)
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                g = 2.0 if ("q_proj" in name or "k_proj" in name) else 0.7
                p.copy_(torch.randn(p.shape, generator=gen) * g / p.shape[1] ** 0.5)


def build(kind: str, out: Path, tiny: bool):
    fixture = FIXTURES / ("qwen3-lasttoken-st6" if kind == "qwen3" else "gemma3-mean-dense-st6")
    tokenizer = transformers.AutoTokenizer.from_pretrained(fixture)
    if kind == "qwen3":
        shape = dict(QWEN, **TINY, num_attention_heads=4, num_key_value_heads=2, head_dim=16) if tiny else QWEN
        cfg = transformers.Qwen3Config(**shape, rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=True)
        model, center = transformers.Qwen3Model(cfg), 1.0
    else:
        shape = dict(GEMMA, **TINY, num_attention_heads=4, num_key_value_heads=2, head_dim=32, sliding_window=8, query_pre_attn_scalar=32) if tiny else GEMMA
        layers = shape["num_hidden_layers"]
        cfg = transformers.Gemma3TextConfig(**shape, use_bidirectional_attention=True, rms_norm_eps=1e-6,
                                            layer_types=["full_attention" if (i + 1) % 6 == 0 else "sliding_attention"
                                                         for i in range(layers)],
                                            pad_token_id=0, eos_token_id=1, bos_token_id=2)
        model, center = transformers.Gemma3TextModel(cfg), 0.0
    cfg.architectures = [type(model).__name__]
    spread(model.eval(), 7, center)
    src = SentenceTransformer(str(fixture), device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp)
        dim = transformer.get_embedding_dimension()
        if kind == "qwen3":
            after = [Normalize()]
            pooling = "lasttoken"
        else:
            after = [Dense(dim, 4 * dim, bias=False, activation_function=torch.nn.Identity()),
                     Dense(4 * dim, dim, bias=False, activation_function=torch.nn.Identity()), Normalize()]
            pooling = "mean"
        st = SentenceTransformer(modules=[transformer, Pooling(dim, pooling_mode=pooling)] + after, device="cpu",
                                 prompts=src.prompts)
        if out.exists():
            shutil.rmtree(out)
        st.save(str(out))
    return out


def export_onnx(model_dir: Path, path: Path):
    """The Hugging Face model (last hidden state) with torch.onnx, dynamic
    batch and sequence axes, for ONNX Runtime beside sbert4j on the same weights."""
    model = transformers.AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    x = tok(["an example text", "another one, a little longer than the first"], padding=True, return_tensors="pt")

    class Hidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(Hidden(model), (x["input_ids"], x["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--onnx", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(0)
    for kind, name in [("qwen3", "qwen3-0.6b-standin"), ("gemma3", "embeddinggemma-standin")]:
        out = build(kind, Path(args.out) / name, args.tiny)
        print(f"{name}: {out}", file=sys.stderr)
        if args.onnx and kind == "qwen3":
            export_onnx(out, out / "model.onnx")
            print(f"{name}: {out / 'model.onnx'}", file=sys.stderr)


if __name__ == "__main__":
    main()
