"""A toy table of numeric tuples with known structure, and how far a sample is from it.

Four columns, drawn in code (no download):
  x0  N(0, 1)
  x1  0.8 x0 + 0.6 e1                    N(0, 1), correlation 0.8 with x0
  x2  -0.5 x0 + sqrt(0.75) e2            N(0, 1), correlation -0.5 with x0 (-0.4 with x1)
  x3  exp(0.6 (0.5 x1 + sqrt(0.75) e3))  log-normal: skewed, positive, tied to x1
A tabular GAN must get each marginal right (the skewed one is the hard part) and the joint
structure too, so `compare` reports per-column Wasserstein-1 and Kolmogorov-Smirnov distances and
the largest error in the correlation matrix.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset

COLUMNS = ("x0", "x1", "x2", "x3")


def draw(n: int, seed: int) -> torch.Tensor:
    """n rows (n, 4) float32 of the table's distribution."""
    g = torch.Generator().manual_seed(seed)
    e = torch.randn(n, 4, generator=g, dtype=torch.float64)
    x0 = e[:, 0]
    x1 = 0.8 * x0 + 0.6 * e[:, 1]
    x2 = -0.5 * x0 + math.sqrt(0.75) * e[:, 2]
    x3 = torch.exp(0.6 * (0.5 * x1 + math.sqrt(0.75) * e[:, 3]))
    return torch.stack([x0, x1, x2, x3], 1).float()


@DATASETS.register("table")
def table(cfg: DataConfig, split: str, *, n: int = 20_000, seed: int = 0) -> Dataset:
    """Toy table: 4 numeric columns, correlated Gaussians and a skewed (log-normal) one."""
    # The test split is drawn with another seed, so held-out rows are new rows.
    return Dataset("table", draw(n, seed + (1_000_003 if split == "test" else 0)), "points")


def compare(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Marginal and correlation errors of `fake` rows against `real` rows (both (N, D))."""
    from scipy import stats  # about a second to import: only when a table is scored

    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    cols = range(real.shape[1])
    w1 = [stats.wasserstein_distance(real[:, i], fake[:, i]) for i in cols]
    ks = [stats.ks_2samp(real[:, i], fake[:, i]).statistic for i in cols]
    corr_gap = np.abs(np.corrcoef(real, rowvar=False) - np.corrcoef(fake, rowvar=False))
    out = {f"w1_{COLUMNS[i] if i < len(COLUMNS) else i}": float(w1[i]) for i in cols}
    out |= {f"ks_{COLUMNS[i] if i < len(COLUMNS) else i}": float(ks[i]) for i in cols}
    out |= {
        "w1_mean": float(np.mean(w1)),
        "ks_max": float(np.max(ks)),
        "corr_max_error": float(np.nanmax(corr_gap)),
    }
    return out
