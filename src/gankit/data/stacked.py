"""Stacked three-channel data (Stacked MNIST of VEEGAN / PacGAN): each channel a random item.

label = 100 * c0 + 10 * c1 + c2 over the three channels' classes: 1000 modes. `metrics.modes`
counts them by classifying each channel with the base dataset's evaluator.
"""

from __future__ import annotations

import itertools

import torch

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset, build
from gankit.errors import BadInput

# stacked dataset -> the one-channel dataset its channels are drawn from
BASES = {"stacked-digits": "digits", "stacked-fashion": "fashion-mnist"}


def _stacked(name: str, cfg: DataConfig, split: str, n: int, seed: int) -> Dataset:
    if cfg.channels not in (None, 3):
        raise BadInput(f"dataset {name} has 3 channels: set data.channels to 3 or null.")
    base_cfg = DataConfig(BASES[name], cfg.size, 1, cfg.root, cfg.download)
    base = build(base_cfg, split)
    # The test split draws other triples (from the base's test items) with another seed.
    g = torch.Generator().manual_seed(seed + (1_000_003 if split == "test" else 0))
    idx = torch.randint(len(base), (n, 3), generator=g)
    x = base.x[idx][:, :, 0].contiguous()  # (n, 3, 1, H, W) -> (n, 3, H, W)
    y = (base.y[idx] * torch.tensor([100, 10, 1])).sum(1)
    names = ["".join(map(str, t)) for t in itertools.product(range(10), repeat=3)]
    return Dataset(name, x, "image", y, names)


@DATASETS.register("stacked-digits")
def stacked_digits(cfg: DataConfig, split: str, *, n: int = 30_000, seed: int = 0) -> Dataset:
    """Three random scikit-learn digits as RGB channels: 1000 modes (Stacked MNIST style)."""
    return _stacked("stacked-digits", cfg, split, n, seed)


@DATASETS.register("stacked-fashion")
def stacked_fashion(cfg: DataConfig, split: str, *, n: int = 30_000, seed: int = 0) -> Dataset:
    """Three random Fashion-MNIST items as RGB channels: 1000 modes."""
    return _stacked("stacked-fashion", cfg, split, n, seed)
