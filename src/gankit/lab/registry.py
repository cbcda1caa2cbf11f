"""The lab registry and the runner that checks settings, times the lab and writes its JSON."""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from typing import Any

import torch

from gankit.errors import BadInput, closest
from gankit.registry import Registry

LABS = Registry("lab")


def settings_of(name: str) -> dict[str, Any]:
    """A lab's settings with their defaults."""
    params = inspect.signature(LABS.get(name)).parameters.values()
    return {p.name: p.default for p in params if p.kind == p.KEYWORD_ONLY}


def run(name: str, out: str | Path, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run lab `name` into folder `out`; returns its numbers (also in out/NAME.json)."""
    settings = dict(settings or {})
    known = settings_of(name)
    for key in settings:
        if key not in known:
            raise BadInput(
                f'lab "{name}" has no setting "{key}".{closest(key, known)} '
                f"Its settings: {', '.join(known) or 'none'}."
            )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # labs seed themselves; the caller's state is kept
        numbers = LABS.get(name)(out, **settings)
    numbers = {
        "lab": name,
        "settings": known | settings,
        "seconds": round(time.perf_counter() - start, 1),
    } | numbers
    (out / f"{name}.json").write_text(json.dumps(numbers, indent=2, default=float) + "\n")
    return numbers
