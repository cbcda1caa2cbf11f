"""Distribution distances on feature tensors: FID, KID, Inception Score. Pure functions.

They work on features already extracted (and cached, for the reference), which is why they are
written here rather than by feeding images to torchmetrics' metric objects; the tests check them
against torchmetrics' FrechetInceptionDistance and KernelInceptionDistance on the same features.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.errors import BadInput


def fid(real: Tensor, fake: Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D), in float64.

    Needs more samples than feature dimensions in each set: with n <= D the covariance is
    singular and the matrix square root (so the score) depends on rounding, not on the samples.
    """
    for name, x in (("reference", real), ("generated", fake)):
        if len(x) < x.shape[1] + 1:
            raise BadInput(
                f"FID needs more samples than feature dimensions: {len(x)} {name} samples for "
                f"{x.shape[1]}-d features; use --n {x.shape[1] + 1} or more (or drop fid)."
            )
    return frechet_distance(*_mean_cov(real), *_mean_cov(fake))


def frechet_distance(mu1: Tensor, s1: Tensor, mu2: Tensor, s2: Tensor) -> float:
    """|mu1 - mu2|^2 + tr(s1 + s2 - 2 sqrt(s1 s2)) of two Gaussians, in float64."""
    mu1, s1, mu2, s2 = (t.double() for t in (mu1, s1, mu2, s2))
    # tr sqrt(s1 s2) = sum of sqrt of the eigenvalues of s1 s2 (real, >= 0 up to rounding).
    eig = torch.linalg.eigvals(s1 @ s2).real.clamp_min(0)
    value = (mu1 - mu2).square().sum() + s1.trace() + s2.trace() - 2 * eig.sqrt().sum()
    return float(value.clamp_min(0))


def _mean_cov(x: Tensor) -> tuple[Tensor, Tensor]:
    x = x.double()
    mu = x.mean(0)
    d = x - mu
    return mu, d.T @ d / (len(x) - 1)


def kid(
    real: Tensor, fake: Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: unbiased MMD^2 with k(x,y) = (x.y/d + 1)^3; (mean, std).

    The std is over `subsets` random subsets of `subset_size` from each set (Binkowski et al.).
    Several subsets as large as the smaller set would all hold all of it (std 0 by
    construction), so they are then halved: the estimate stays unbiased and its spread is real.
    """
    smaller = min(len(real), len(fake))
    size = smaller // 2 if subsets > 1 and subset_size >= smaller else min(subset_size, smaller)
    if size < 2:
        raise BadInput(f"KID needs at least 2 samples in each set, got {len(real)}/{len(fake)}.")
    g = torch.Generator().manual_seed(seed)
    real, fake = real.double(), fake.double()
    values = []
    for _ in range(subsets):
        r = real[torch.randperm(len(real), generator=g)[:size]]
        f = fake[torch.randperm(len(fake), generator=g)[:size]]
        values.append(_mmd2_unbiased(r, f))
    v = torch.stack(values)
    return float(v.mean()), float(v.std(unbiased=False)) if len(v) > 1 else 0.0


def _mmd2_unbiased(x: Tensor, y: Tensor) -> Tensor:
    d, m = x.shape[1], len(x)

    def k(a: Tensor, b: Tensor) -> Tensor:
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    off = m * (m - 1)
    return (
        (kxx.sum() - kxx.diagonal().sum()) / off
        + (kyy.sum() - kyy.diagonal().sum()) / off
        - 2 * kxy.mean()
    )


def inception_score(probs: Tensor, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) over `splits` chunks of probabilities (N, K): (mean, std)."""
    if len(probs) < splits:
        splits = 1
    scores = []
    for chunk in probs.double().chunk(splits):
        p_y = chunk.mean(0, keepdim=True)
        kl = (chunk * (chunk.clamp_min(1e-12).log() - p_y.clamp_min(1e-12).log())).sum(1)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False)) if len(s) > 1 else 0.0
