"""Features of real data (reference = train split, floor = test split), cached on disk.

Cached by dataset key, split, extractor weights hash, count and seed, so periodic evaluation
during training and repeated `gankit eval` calls embed the real data only once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import torch
from safetensors.torch import load_file
from torch import Tensor

from gankit import data, files
from gankit.config import DataConfig
from gankit.metrics.cache import cache_root


class Extractor(Protocol):
    name: str
    sha256: str

    def embed(self, images: Tensor) -> tuple[Tensor, Tensor]: ...


@dataclass
class RealFeatures:
    features: Tensor
    probs: Tensor
    labels: Tensor | None


def select(n_items: int, n: int, seed: int) -> Tensor:
    """The first n of a seeded permutation: the same real items for the same (n, seed)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n_items, generator=g)[: min(n, n_items)]


def real_features(
    extractor: Extractor, cfg: DataConfig, key: str, split: str, n: int, seed: int
) -> RealFeatures:
    # Inception's tag also names the resize and the classifier: same trunk, other features/probs
    tag = getattr(extractor, "cache_tag", extractor.sha256[:16])
    first = f"-first{cfg.limit}" if cfg.limit is not None else ""  # data.limit: another set
    path = cache_root() / "features" / f"{key}{first}-{split}-{tag}-n{n}-s{seed}.st"
    if path.exists():
        t = load_file(str(path))
        return RealFeatures(t["features"], t["probs"], t.get("labels"))
    ds = data.build(cfg, split)
    idx = select(len(ds), n, seed)
    features, probs = extractor.embed(ds.x[idx])
    labels = ds.y[idx] if ds.y is not None else None
    tensors = {"features": features.contiguous(), "probs": probs.contiguous()}
    if labels is not None:
        tensors["labels"] = labels.contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".part{os.getpid()}")  # concurrent writers never collide
    files.save_tensors(tensors, tmp)
    tmp.replace(path)
    return RealFeatures(features, probs, labels)
