#!/usr/bin/env python3
"""Make small random-weight sentence-transformers model directories, as test
fixtures, and their reference vectors computed by sentence-transformers itself.
Run by hand (not in CI), from the repository root, in an environment with
sentence-transformers and sentencepiece (pip install sentence-transformers
sentencepiece); no network access is needed:

    python3 tests/reference/make_test_models.py

Writes, for each model NAME below:
    tests/fixtures/models/NAME/          a sentence-transformers directory (< 5 MB)
    tests/fixtures/NAME.reference.json   reference vectors, same format as
                                         tests/fixtures/all-MiniLM-L6-v2.reference.json
The texts (and the tokenizer training corpus) are in multilingual_texts.py.

Models (tiny, float32, weights drawn from fixed seeds; deterministic):
    seed-standin        BertModel, 12 layers, with an XLM-R style SentencePiece Unigram
                        tokenizer: mirrors paraphrase-multilingual-MiniLM-L12-v2
                        (mean pooling, no Normalize, max_seq_length 128).
    xlm-roberta-cls     XLMRobertaModel (position ids start at padding_idx + 1 = 2),
                        same tokenizer, CLS pooling + Normalize, max_seq_length 512.
    distilbert-max      DistilBertModel (no token_type_ids), uncased WordPiece, max pooling.
    bert-pytorch-bin    BertModel saved as pytorch_model.bin only, cased WordPiece,
                        mean pooling + Normalize.
    bert-mean-sqrt-len  BertModel, uncased WordPiece, mean_sqrt_len_tokens pooling.

The Unigram tokenizer is made the way XLM-R's was: a SentencePiece model
(trained here on the corpus, with SentencePiece's nmt_nfkc normalization)
converted to a tokenizer.json with a "Precompiled" normalizer (the nmt_nfkc
charsmap: NFKC plus SentencePiece's own mappings), Metaspace pre-tokenizer and
a <s> $A </s> template. A plain NFKC normalizer would not do: transformers 5
rebuilds an XLMRobertaTokenizer from the vocabulary and keeps only a
Precompiled normalizer, so sentence-transformers would tokenize differently
from tokenizer.json. The WordPiece tokenizers are trained with `tokenizers`.

The sentence-transformers files (modules.json, sentence_bert_config.json,
1_Pooling/config.json) are rewritten in the classic format the published models
use; sentence-transformers 6 writes a newer format of its own and reads both.

Checks, failing the script when they do not hold:
  * tokenizer.json, loaded with tokenizers.Tokenizer.from_file, gives the ids
    sentence-transformers gives, for every text (Python-stripped, truncated);
  * the longest texts reach max_seq_length (truncation is exercised);
  * reference vectors of different texts differ (pairwise cosine < 0.95);
  * each directory is under 5 MB.
It also prints how far float32 is from float64 on each model: a floor for the
tolerance a parity test can ask for.
"""
import hashlib
import io
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
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors  # noqa: E402
from tokenizers.models import Unigram, WordPiece  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from multilingual_texts import CORPUS, TEXTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MODELS = FIXTURES / "models"
SCRIPT = "tests/reference/make_test_models.py"
MAX_DIR_BYTES = 5 * 1024 * 1024
MAX_COSINE = 0.95

TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
POOLING_KEYS = ["cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens"]
ST_POOLING_MODE = {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max",
                   "mean_sqrt_len_tokens": "mean_sqrt_len_tokens"}


# --------------------------------------------------------------------------- tokenizers

def train_sentencepiece(lines, vocab_size: int, **options) -> bytes:
    """A SentencePiece model trained on `lines`, serialized (a ModelProto).
    Single-threaded SentencePiece training is deterministic (the `tokenizers`
    trainers are not: Unigram piece scores and WordPiece vocabularies vary from
    run to run)."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=buf, vocab_size=vocab_size, character_coverage=1.0,
        hard_vocab_limit=False, num_threads=1, minloglevel=2, **options)
    return buf.getvalue()


def _protobuf_fields(data: bytes, number: int):
    """The length-delimited fields `number` of a serialized protobuf message, in
    order (enough to read the charsmap without the protobuf package)."""
    def varint(i):
        shift = value = 0
        while True:
            b = data[i]
            value |= (b & 0x7F) << shift
            i += 1
            shift += 7
            if not b & 0x80:
                return value, i

    i = 0
    while i < len(data):
        key, i = varint(i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(i)
            if field == number:
                yield data[i:i + n]
            i += n
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")


def _sentencepiece_vocab(proto: bytes):
    """(piece, score) for every piece of a serialized SentencePiece model."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=proto)
    return [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]


def unigram_tokenizer() -> Tokenizer:
    """An XLM-R style tokenizer.json, built from a SentencePiece model the way
    transformers' XLMRobertaConverter built XLM-R's: <s>=0 <pad>=1 </s>=2 <unk>=3
    (fairseq's order), SentencePiece's pieces from its 4th on, <mask> last (also
    in the Unigram vocabulary). Precompiled nmt_nfkc normalizer, Metaspace("▁",
    prepend always), <s> $A </s> template."""
    proto = train_sentencepiece(CORPUS, 3000, model_type="unigram", normalization_rule_name="nmt_nfkc")
    spm_vocab = _sentencepiece_vocab(proto)
    assert [p for p, _ in spm_vocab[:3]] == ["<unk>", "<s>", "</s>"], spm_vocab[:3]
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = [(p, 0.0) for p in specials] + spm_vocab[3:] + [("<mask>", 0.0)]
    return xlmr_unigram(vocab, proto)


def xlmr_unigram(vocab, proto: bytes) -> Tokenizer:
    """A Unigram tokenizer over `vocab` ((piece, score) pairs: <s> <pad> </s> <unk> first, <mask> last) with
    XLM-R's pipeline: the precompiled normalizer of the SentencePiece model `proto`, Metaspace (prepend
    always), the <s> $A </s> template."""
    charsmap = next(_protobuf_fields(next(_protobuf_fields(proto, 3)), 2))  # normalizer_spec.precompiled_charsmap
    tok = Tokenizer(Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Precompiled(charsmap)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


def wordpiece_tokenizer(lowercase: bool, vocab_size: int = 4000) -> Tokenizer:
    """A BERT-style WordPiece tokenizer.json: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3
    [MASK]=4, BertNormalizer (uncased: lowercase and strip accents; cased:
    neither), BertPreTokenizer, [CLS] $A [SEP]. The vocabulary: every character
    of the corpus, alone and as a "##" continuation, then the pieces of a
    SentencePiece BPE model trained on the corpus as BERT splits it into words
    ("▁x" becomes "x", "x" becomes "##x")."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                            lowercase=lowercase)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    lines = [" ".join(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)))
             for line in CORPUS]
    proto = train_sentencepiece(lines, vocab_size, model_type="bpe", normalization_rule_name="identity")
    pieces = [p for p, _ in _sentencepiece_vocab(proto)[3:] if p != "▁"]  # after <unk> <s> </s>
    chars = sorted({c for line in lines for c in line if not c.isspace()})
    words = specials + chars + ["##" + c for c in chars] + [p[1:] if p[0] == "▁" else "##" + p for p in pieces]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}

    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tok.add_special_tokens(specials)
    assert [tok.token_to_id(t) for t in specials] == [0, 1, 2, 3, 4]
    return tok


def xlmr_hf_tokenizer(tok: Tokenizer):
    return transformers.XLMRobertaTokenizerFast(tokenizer_object=tok, model_max_length=512)


def bert_hf_tokenizer(cls_name: str, tok: Tokenizer, lowercase: bool):
    cls = getattr(transformers, cls_name)
    return cls(tokenizer_object=tok, do_lower_case=lowercase, model_max_length=512)


# --------------------------------------------------------------------------- models

def spread_weights(model: torch.nn.Module, seed: int, gain: float = 0.7) -> None:
    """Re-initialise with a wide spread. The default init (std 0.02) makes every
    text's vector nearly the same, and parity tests weak. Word embeddings
    N(0, 1) and position/type embeddings N(0, 0.2), so that which tokens a text
    has matters more than its length; linear weights N(0, g^2 / fan_in), g = 2
    for attention queries and keys (sharp, token-specific attention) and 0.7
    for the others (the residual stream keeps each token's identity through
    12 layers); LayerNorm weights 1 +- 0.2; biases +- 0.1."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("bias"):
                new = (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1
            elif "LayerNorm" in name or "layer_norm" in name:
                new = 1 + (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.2
            elif "word_embeddings" in name:
                new = torch.randn(p.shape, generator=gen)
            elif "embeddings" in name:
                new = torch.randn(p.shape, generator=gen) * 0.2
            else:
                g = 2.0 if any(k in name for k in ("query", "key", "q_lin", "k_lin")) else gain
                new = torch.randn(p.shape, generator=gen) * g / p.shape[1] ** 0.5
            p.copy_(new.to(p.dtype))


def seed_standin(vocab_len: int):
    from transformers import BertConfig, BertModel

    # paraphrase-multilingual-MiniLM-L12-v2: BertModel, 12 layers (hidden 384, 12 heads there),
    # max_position_embeddings 512, type_vocab_size 2, pad_token_id 0 while the tokenizer pads
    # with <pad> = 1, and an embedding matrix larger than the tokenizer (250037 rows, 250002 tokens).
    cfg = BertConfig(vocab_size=vocab_len + 35, hidden_size=32, num_hidden_layers=12, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                     layer_norm_eps=1e-12, pad_token_id=0, tokenizer_class="XLMRobertaTokenizer")
    cfg.architectures = ["BertModel"]
    return BertModel(cfg)


def xlm_roberta(vocab_len: int):
    from transformers import XLMRobertaConfig, XLMRobertaModel

    cfg = XLMRobertaConfig(vocab_size=vocab_len, hidden_size=48, num_hidden_layers=3, num_attention_heads=6,
                           intermediate_size=96, max_position_embeddings=514, type_vocab_size=1, hidden_act="gelu",
                           layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    cfg.architectures = ["XLMRobertaModel"]
    return XLMRobertaModel(cfg)


def distilbert(vocab_len: int):
    from transformers import DistilBertConfig, DistilBertModel

    cfg = DistilBertConfig(vocab_size=vocab_len, dim=32, n_layers=3, n_heads=4, hidden_dim=64,
                           max_position_embeddings=512, activation="gelu", pad_token_id=0)
    cfg.architectures = ["DistilBertModel"]
    return DistilBertModel(cfg)


def bert(vocab_len: int, hidden: int, heads: int, intermediate: int, layers: int):
    from transformers import BertConfig, BertModel

    cfg = BertConfig(vocab_size=vocab_len, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                     intermediate_size=intermediate, max_position_embeddings=512, type_vocab_size=2,
                     hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0)
    cfg.architectures = ["BertModel"]
    return BertModel(cfg)


# --------------------------------------------------------------------------- directories

def pooling_config(dim: int, mode: str) -> dict:
    cfg = {"word_embedding_dimension": dim}
    for m in POOLING_KEYS:
        cfg[f"pooling_mode_{m}"] = m == mode
    return cfg


def write_json(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")


def build_directory(out: Path, hf_model, hf_tokenizer, special_tokens: dict, *, pooling: str,
                    normalize: bool, max_seq_length: int, pytorch_bin: bool = False) -> None:
    """Save through sentence-transformers (SentenceTransformer(modules=...).save),
    then put the sentence-transformers configs in the classic format."""
    with tempfile.TemporaryDirectory() as tmp:
        hf_model.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp)
        dim = hf_model.config.hidden_size if hasattr(hf_model.config, "hidden_size") else hf_model.config.dim
        modules = [transformer, Pooling(dim, pooling_mode=ST_POOLING_MODE[pooling])]
        if normalize:
            modules.append(Normalize())
        st = SentenceTransformer(modules=modules, device="cpu")
        if out.exists():
            shutil.rmtree(out)
        st.save(str(out))

    (out / "README.md").unlink(missing_ok=True)  # model card: not needed, and carries run details
    # The tokenizer as transformers saves it (the copy sentence-transformers loaded and saved
    # again adds its loading options, "is_local" and "local_files_only", to tokenizer_config.json).
    hf_tokenizer.save_pretrained(str(out))
    write_json(out / "modules.json", [TRANSFORMER, POOLING] + ([NORMALIZE] if normalize else []))
    write_json(out / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    write_json(out / "1_Pooling" / "config.json", pooling_config(dim, pooling))
    # Normalize has no files of its own; git keeps no empty folder (nor does all-MiniLM-L6-v2 as fetched).
    shutil.rmtree(out / "2_Normalize", ignore_errors=True)
    write_json(out / "special_tokens_map.json", special_tokens)

    if pytorch_bin:
        state = {k: v.detach().clone().contiguous() for k, v in hf_model.state_dict().items()}
        # Checkpoints saved by transformers 4.x before 4.31 carry this int64 buffer; the loader must skip it.
        state["embeddings.position_ids"] = torch.arange(hf_model.config.max_position_embeddings).unsqueeze(0)
        for f in out.glob("*.safetensors*"):
            f.unlink()
        torch.save(dict(sorted(state.items())), out / "pytorch_model.bin")


# --------------------------------------------------------------------------- references and checks

def encode(model: SentenceTransformer, texts):
    vecs = [model.encode([t], convert_to_numpy=True)[0] for t in texts]  # one at a time: no padding
    tokens = [len(model.preprocess([t])["input_ids"][0]) for t in texts]
    return vecs, tokens


def check_tokenizer_file(name: str, out: Path, model: SentenceTransformer, max_seq_length: int) -> bool:
    """tokenizer.json as the Rust side reads it (tokenizers' own loader, plus
    the one change transformers 5 makes, below) against sentence-transformers'
    tokenization, on Python-stripped text, truncated."""
    assert model.max_seq_length == max_seq_length, (model.max_seq_length, max_seq_length)
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert tok.padding is None, f"{name}: tokenizer.json has padding {tok.padding}"
    assert tok.truncation is None, f"{name}: tokenizer.json has truncation {tok.truncation}"
    config = json.loads((out / "tokenizer_config.json").read_text())
    if config.get("tokenizer_class") in ("XLMRobertaTokenizer", "XLMRobertaTokenizerFast"):
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁",
                                     prepend_scheme="always" if config.get("add_prefix_space", True) else "never"),
        ])
    tok.enable_truncation(max_seq_length)
    ok = True
    strip_matters = []
    for t in TEXTS + WHITESPACE_PROBES:
        want = model.preprocess([t])["input_ids"][0].tolist()
        got = tok.encode(t.strip()).ids
        if got != want:
            ok = False
            print(f"  MISMATCH {name} {t[:40]!r}\n    sentence-transformers {want}\n    tokenizer.json        {got}")
        if model.preprocess([t.strip()])["input_ids"][0].tolist() != want:
            strip_matters.append(t)
    if strip_matters:
        print(f"  note: for {name}, stripping the text changes sentence-transformers' ids for {strip_matters!r}")
    return ok


# Whitespace inside a text. transformers 5 rebuilds an XLMRobertaTokenizer with a
# WhitespaceSplit before the Metaspace, so runs of whitespace count as one space
# for sentence-transformers, where tokenizer.json alone (Metaspace, as XLM-R's)
# makes a "▁" token of each extra one. The Rust side makes the same change
# (src/core/tokenize.rs); the last of TEXTS and these probes check it.
WHITESPACE_PROBES = ["a  b", "a\tb", "a\nb", "a \u3000b", "a\u200bb"]


def check_spread(name: str, vecs) -> bool:
    m = np.stack(vecs).astype(np.float64)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    cos = m @ m.T
    np.fill_diagonal(cos, -1)
    i, j = np.unravel_index(np.argmax(cos), cos.shape)
    print(f"  {name}: max pairwise cosine {cos[i, j]:.4f} ({TEXTS[i][:20]!r} vs {TEXTS[j][:20]!r}), "
          f"mean {cos[np.triu_indices(len(vecs), 1)].mean():.4f}")
    return cos[i, j] < MAX_COSINE


def check_precision(name: str, out: Path, vecs) -> None:
    """How far float32 is from float64 on these weights: a floor for the parity tolerance."""
    m64 = SentenceTransformer(str(out), device="cpu").to(torch.float64)
    worst = 0.0
    for t, v in zip(TEXTS, vecs):
        v64 = m64.encode([t], convert_to_numpy=True)[0]
        worst = max(worst, float(np.abs(v64 - v.astype(np.float64)).max()))
    print(f"  {name}: float32 vs float64 max |difference| {worst:.2e}, "
          f"max |component| {max(float(np.abs(v).max()) for v in vecs):.3f}")


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main():
    torch.manual_seed(0)
    torch.set_num_threads(min(2, torch.get_num_threads()))

    unigram = unigram_tokenizer()
    uncased = wordpiece_tokenizer(lowercase=True)
    cased = wordpiece_tokenizer(lowercase=False)
    n_unigram, n_uncased, n_cased = (t.get_vocab_size() for t in (unigram, uncased, cased))
    print(f"tokenizers: Unigram {n_unigram}, WordPiece uncased {n_uncased}, cased {n_cased} tokens")
    xlmr_specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                     "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    bert_specials = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                     "mask_token": "[MASK]"}

    specs = [
        # name, model, seed (or seed and gain), tokenizer, special tokens, pooling, normalize, max_seq_length, pytorch_model.bin
        ("seed-standin", lambda: seed_standin(n_unigram), 1, lambda: xlmr_hf_tokenizer(unigram), xlmr_specials,
         "mean_tokens", False, 128, False),
        ("xlm-roberta-cls", lambda: xlm_roberta(n_unigram), 2, lambda: xlmr_hf_tokenizer(unigram), xlmr_specials,
         "cls_token", True, 512, False),
        ("distilbert-max", lambda: distilbert(n_uncased), (7, 1.0),
         lambda: bert_hf_tokenizer("DistilBertTokenizerFast", uncased, True), bert_specials,
         "max_tokens", False, 128, False),
        ("bert-pytorch-bin", lambda: bert(n_cased, 32, 2, 80, 2), 4,
         lambda: bert_hf_tokenizer("BertTokenizerFast", cased, False), bert_specials,
         "mean_tokens", True, 64, True),
        ("bert-mean-sqrt-len", lambda: bert(n_uncased, 24, 3, 48, 2), 6,
         lambda: bert_hf_tokenizer("BertTokenizerFast", uncased, True), bert_specials,
         "mean_sqrt_len_tokens", False, 256, False),
    ]

    failures = []
    MODELS.mkdir(parents=True, exist_ok=True)
    for name, make_model, seed, make_tokenizer, specials, pooling, normalize, max_len, pt_bin in specs:
        print(f"{name}:")
        hf_model = make_model().eval()
        spread_weights(hf_model, *(seed if isinstance(seed, tuple) else (seed,)))
        out = MODELS / name
        build_directory(out, hf_model, make_tokenizer(), specials, pooling=pooling, normalize=normalize,
                        max_seq_length=max_len, pytorch_bin=pt_bin)

        model = SentenceTransformer(str(out), device="cpu")
        if not check_tokenizer_file(name, out, model, max_len):
            failures.append(f"{name}: tokenizer.json disagrees with sentence-transformers")
        vecs, tokens = encode(model, TEXTS)
        if max(tokens) != max_len:
            failures.append(f"{name}: no text reaches max_seq_length {max_len} (longest {max(tokens)})")
        if not check_spread(name, vecs):
            failures.append(f"{name}: reference vectors too alike (cosine >= {MAX_COSINE})")
        check_precision(name, out, vecs)
        size = dir_size(out)
        print(f"  {name}: {size / 1e6:.2f} MB, tokens per text {tokens}")
        if size > MAX_DIR_BYTES:
            failures.append(f"{name}: directory is {size} bytes, over {MAX_DIR_BYTES}")

        doc = {
            "model": f"{name} (random weights, made by {SCRIPT})",
            "generated_by": f"{SCRIPT}, sentence-transformers {sentence_transformers.__version__}, "
                            f"torch {torch.__version__}",
            "cases": [{"name": "as shipped", "files": {}, "texts": TEXTS, "tokens": tokens,
                       "vectors": [[float(x) for x in v] for v in vecs]}],
        }
        (FIXTURES / f"{name}.reference.json").write_text(json.dumps(doc, ensure_ascii=False) + "\n")

    print("\nfiles:")
    for f in sorted(MODELS.rglob("*")):
        if f.is_file():
            print(f"  {f.relative_to(ROOT)}  {f.stat().st_size}  {hashlib.sha256(f.read_bytes()).hexdigest()[:16]}")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
