"""File helpers shared by checkpoints, caches and logs: crash-safe writes and content hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace `path`'s content with `text`; readers see the old file or the new, never a mix
    (a temporary file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def follow_umask(path: str | Path) -> None:
    """Give a file the permissions a plain open() would (0666 less the umask): writers such as
    safetensors create 0600 files, which other users of a shared model folder cannot read."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
