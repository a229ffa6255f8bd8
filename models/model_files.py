"""What the model fetch scripts share: file checksums, unpacking members of
a zip archive into a staging folder, and moving a verified folder into
place. (Imported by fetch_*.py, which Python runs with this folder on its
path.)"""
import hashlib
import os
import shutil
import zipfile
from pathlib import Path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def problems(d: Path, expected: dict) -> list:
    """What is wrong with folder `d` against {relative path: SHA-256}; empty if nothing."""
    out = []
    for name, want in expected.items():
        if not (d / name).is_file():
            out.append(f"{name} is missing")
        else:
            got = sha256(d / name)
            if got != want:
                out.append(f"{name}: SHA-256 {got}, expected {want}")
    return out


def unpack(zf: zipfile.ZipFile, members: dict, staged: Path) -> None:
    """Writes each archive member {name: relative path} under `staged`,
    refusing paths that would leave it."""
    for name, rel in members.items():
        rel = Path(rel)
        if rel.is_absolute() or ".." in rel.parts:
            raise SystemExit(f"unsafe path in archive: {name}")
        dest = staged / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(name) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def install(staged: Path, target: Path) -> None:
    """Moves the verified `staged` folder to `target`, replacing what is there."""
    if target.exists():
        shutil.rmtree(target)
    os.replace(staged, target)
