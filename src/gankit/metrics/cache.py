"""Where gankit keeps what it computes once: evaluators and reference features."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_root() -> Path:
    """$GANKIT_CACHE, else ~/.cache/gankit."""
    return Path(os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
