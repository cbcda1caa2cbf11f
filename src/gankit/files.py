"""File helpers shared by checkpoints, caches and logs: crash-safe writes, content hashes, and
reading the .npz files users hand in."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gankit.errors import BadInput

FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)  # no room: the disk, a file-size limit, a quota


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace `path`'s content with `text`; readers see the old file or the new, never a mix
    (a temporary file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with writing(path):
        try:
            with open(tmp, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise


def fix_for(code: int | None) -> str:
    """What to do about a failed write, by its errno."""
    if code in FULL:
        return "free disk space"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make it writable"
    return "fix that"


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Re-raise an OSError of the block as one naming `path` and the fix: a full disk reports
    only its errno, and "No space left on device" alone does not say which file was lost."""
    try:
        yield
    except OSError as e:
        if getattr(e, "named", False):  # already says which file
            raise
        error = OSError(
            f"could not write {path} ({e.strerror or e}): {fix_for(e.errno)} and retry."
        )
        error.errno, error.named = e.errno, True
        raise error from e


def follow_umask(path: str | Path) -> None:
    """Give a file the permissions a plain open() would (0666 less the umask): writers such as
    safetensors create 0600 files, which other users of a shared model folder cannot read."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def save_tensors(tensors: dict, path: str | Path) -> None:
    """safetensors' save_file, then the user's umask on the file (save_file writes 0600)."""
    from safetensors.torch import save_file

    save_file(tensors, str(path))
    follow_umask(path)


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_npz(path: str | Path, what: str, keys: tuple[str, ...] = ("images",)) -> dict[str, Any]:
    """Every array of an .npz, read without unpickling (the file may come from anyone). A file
    numpy cannot read (not a zip, torn, object arrays), or holding none of `keys`, is one
    BadInput saying it is not `what`."""
    import zipfile

    import numpy as np

    if not zipfile.is_zipfile(path):  # numpy would try it as a pickle, and say so
        raise BadInput(f"{path} is not {what}: it is not a whole .npz (zip) archive.")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # zipfile, pickle and numpy each raise their own kind
        why = "a pickled object array" if "allow_pickle" in str(e) else type(e).__name__
        raise BadInput(f"{path} is not {what}: numpy cannot read it ({why}).") from None
    if not set(keys) & set(arrays):
        names = " or ".join(f"`{k}`" for k in keys)
        raise BadInput(f"{path} has no {names} array: it is not {what}.")
    return arrays
