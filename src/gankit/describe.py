"""A run's description follows the data it actually trains on.

A config's `description` is written for the data in its file. A run that swaps the data by an
override (an image folder, another dataset, another size) would otherwise carry the file's claim
into its config.yaml and report: "on Fashion-MNIST at 28x28" above pictures of someone's photos.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from gankit.config import Config, DataConfig

COMPARED = ("name", "size", "channels", "options")  # what changes the data itself
NO_SIDE = ("ring", "grid", "gaussians-1d", "swiss-roll", "table", "grammar")  # points, rows, text


def file_data(path: Path) -> dict[str, Any]:
    """The data section of a YAML config as written (no defaults, no overrides)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    data = raw.get("data") if isinstance(raw, dict) else None
    return data if isinstance(data, dict) else {}


def follow_data(cfg: Config, written: dict[str, Any], source: str) -> Config:
    """cfg, its description replaced by one of the data used when that is not the data the
    description was `written` for (the config's data section before overrides)."""
    before = dataclasses.asdict(DataConfig()) | written
    now = dataclasses.asdict(cfg.data)
    keys = COMPARED + (("root",) if "image-folder" in (before["name"], now["name"]) else ())
    if all(before[k] == now[k] for k in keys):
        return cfg
    n = cfg.nets
    text = (
        f"Recipe {cfg.recipe} (G {n.g}, D {n.d}, {cfg.loss.name} loss) from {source}, "
        f"trained on {data_phrase(cfg.data)} instead of the data its description was for."
    )
    return dataclasses.replace(cfg, description=text)


def data_phrase(data: DataConfig) -> str:
    """'image-folder ~/photos at 64x64, 3 channels', 'mnist at 32x32', 'ring'."""
    text = data.name + (f" {data.root}" if data.name == "image-folder" and data.root else "")
    if data.name not in NO_SIDE:
        text += f" at {data.size}x{data.size}"
    if data.channels:
        text += f", {data.channels} channel{'s' if data.channels > 1 else ''}"
    if data.options:
        text += ", options " + ", ".join(f"{k} {v}" for k, v in sorted(data.options.items()))
    return text
