"""Toy distributions generated in code: the mixtures and manifolds GAN papers test mode coverage on.

The ring and grid follow the PacGAN protocol (ring: 8 Gaussians on the unit circle, std 0.01;
grid: 25 Gaussians at {-4,-2,0,2,4}^2, std 0.05), so `metrics.modes` can score them.
"""

from __future__ import annotations

import math

import torch

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset


def ring_means(modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    """Means at angles 2 pi i / modes: all `modes` distinct (linspace(0, 2 pi, n) repeats one)."""
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float64) / modes
    return radius * torch.stack([angles.cos(), angles.sin()], 1).float()


def grid_means(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    return torch.cartesian_prod(axis, axis)


def _generator(split: str, seed: int) -> torch.Generator:
    # The test split is drawn with another seed, so held-out points are new points.
    return torch.Generator().manual_seed(seed + (1 if split == "test" else 0) * 1_000_003)


def _mixture(
    means: torch.Tensor, std: float, n: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.randint(len(means), (n,), generator=g)
    points = means[labels] + std * torch.randn(n, means.shape[1], generator=g)
    return points, labels


@DATASETS.register("ring")
def ring(
    cfg: DataConfig,
    split: str,
    *,
    n: int = 50_000,
    modes: int = 8,
    radius: float = 1.0,
    std: float = 0.01,
    seed: int = 0,
) -> Dataset:
    """2D ring of 8 Gaussians (PacGAN: unit circle, std 0.01)."""
    points, labels = _mixture(ring_means(modes, radius), std, n, _generator(split, seed))
    return Dataset("ring", points, "points", labels, [f"mode {i}" for i in range(modes)])


@DATASETS.register("grid")
def grid(
    cfg: DataConfig,
    split: str,
    *,
    n: int = 50_000,
    side: int = 5,
    spacing: float = 2.0,
    std: float = 0.05,
    seed: int = 0,
) -> Dataset:
    """2D grid of 25 Gaussians (PacGAN: means {-4,-2,0,2,4}^2, std 0.05)."""
    points, labels = _mixture(grid_means(side, spacing), std, n, _generator(split, seed))
    return Dataset("grid", points, "points", labels, [f"mode {i}" for i in range(side * side)])


@DATASETS.register("gaussians-1d")
def gaussians_1d(
    cfg: DataConfig,
    split: str,
    *,
    n: int = 50_000,
    means: tuple[float, ...] = (-2.0, 2.0),
    std: float = 0.5,
    seed: int = 0,
) -> Dataset:
    """1D mixture of Gaussians (default: two modes at -2 and 2, std 0.5)."""
    centres = torch.tensor(list(means), dtype=torch.float32).view(-1, 1)
    points, labels = _mixture(centres, std, n, _generator(split, seed))
    return Dataset(
        "gaussians-1d", points, "points", labels, [f"mode {i}" for i in range(len(centres))]
    )


@DATASETS.register("swiss-roll")
def swiss_roll(
    cfg: DataConfig, split: str, *, n: int = 50_000, noise: float = 0.05, seed: int = 0
) -> Dataset:
    """2D swiss roll (a spiral manifold), scaled to about [-1, 1]."""
    g = _generator(split, seed)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))
    points = torch.stack([t * t.cos(), t * t.sin()], 1) / 15.0
    points = points + noise * torch.randn(n, 2, generator=g)
    return Dataset("swiss-roll", points.float(), "points")
