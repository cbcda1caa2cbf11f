"""Size limits checked before anything is allocated, so a hostile or mistyped size ends in one
clear line (exit 2) instead of a MemoryError, a swapping machine or an allocator traceback.

The memory budget is the smaller of half the machine's RAM and the memory available now, unless
GANKIT_MAX_MEMORY (bytes, or with a K/M/G/T suffix) says otherwise for the process.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gankit.errors import BadInput

ENV = "GANKIT_MAX_MEMORY"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_budget() -> int:
    """Bytes one allocation plan may take: GANKIT_MAX_MEMORY, else min(RAM / 2, available)."""
    text = os.environ.get(ENV, "").strip().upper().removesuffix("B")
    if text:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)I?", text)
        if not match:
            raise BadInput(f"{ENV}={os.environ[ENV]!r} is not a size: use e.g. 8G or 500M.")
        return int(float(match[1]) * _UNITS[match[2]])
    half = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    return min(half, _available())


def _available() -> int:
    """MemAvailable from /proc/meminfo (what can be had without swapping); no limit elsewhere."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 2**63


def check_memory(what: str, nbytes: float, fix: str) -> None:
    """Refuse `what` when it would need more than the memory budget; `fix` says what to change."""
    budget = memory_budget()
    if nbytes > budget:
        raise BadInput(
            f"{what} would need {human(nbytes)}, over the memory limit of {human(budget)}: "
            f"{fix} (or raise the limit with {ENV}=...)."
        )


def human(nbytes: float) -> str:
    """1536 -> '1.5 KB'."""
    unit = "B"
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1024 or unit == "PB":
            break
        nbytes /= 1024
    return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
