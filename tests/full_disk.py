"""A real full disk for tests: a small tmpfs where the test may mount one, else a file-size limit.

Both make the kernel itself refuse the write (ENOSPC from the tmpfs, EFBIG from RLIMIT_FSIZE;
Python ignores SIGXFSZ, so the limit surfaces as an OSError), so the code under test sees exactly
what a full disk gives it: nothing is monkeypatched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

FILLER = ".filler"


class Disk:
    """A folder whose free space a test can squeeze to `free` bytes and release again."""

    def __init__(self, root: Path, mounted: bool) -> None:
        self.root, self.mounted = root, mounted
        self.errno = errno.ENOSPC if mounted else errno.EFBIG
        self.reason = "No space left on device" if mounted else "File too large"

    @contextlib.contextmanager
    def full(self, free: int) -> Iterator[None]:
        """Writes beyond `free` more bytes fail (tmpfs: in all; file-size limit: per file)."""
        if self.mounted:
            filler = self.root / FILLER
            stat = os.statvfs(self.root)
            with open(filler, "wb") as f:
                block = b"\0" * (1 << 16)
                left = stat.f_bavail * stat.f_frsize - free
                while left > 0:
                    left -= f.write(block[: min(len(block), left)])
            try:
                yield
            finally:
                filler.unlink()
        else:
            soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
            resource.setrlimit(resource.RLIMIT_FSIZE, (free, hard))
            try:
                yield
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    def limit_for_child(self, free: int):
        """preexec_fn for a subprocess that must see the same full disk (file-size mode)."""
        if self.mounted:
            return None
        return lambda: resource.setrlimit(
            resource.RLIMIT_FSIZE, (free, resource.getrlimit(resource.RLIMIT_FSIZE)[1])
        )


@contextlib.contextmanager
def small_disk(where: Path, size: int) -> Iterator[Disk]:
    """A `size`-byte tmpfs mounted at `where` (root with mount rights), else a plain folder whose
    fullness is simulated by the kernel's per-file size limit."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        yield Disk(where, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], check=False)
