"""k-NN manifold metrics on features: precision/recall (Kynkaanniemi et al. 2019, k=3) and
density/coverage (Naeem et al. 2020, k=5). Distances are computed in chunks, never as one N x N
matrix held at once beyond what a chunk needs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.errors import BadInput

_CHUNK = 2048


def knn_radius(x: Tensor, k: int) -> Tensor:
    """Distance of each row of x to its k-th nearest other row (the row itself excluded)."""
    if len(x) <= k:
        raise BadInput(f"k-NN metrics with k={k} need more than {k} samples, got {len(x)}.")
    x = x.float()
    radii = [torch.cdist(c, x).kthvalue(k + 1, dim=1).values for c in x.split(_CHUNK)]
    return torch.cat(radii)


def _inside_count(points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """For each point, how many balls B(centre, radius) contain it."""
    points, centres = points.float(), centres.float()
    counts = [(torch.cdist(c, centres) <= radii).sum(1) for c in points.split(_CHUNK)]
    return torch.cat(counts)


def precision_recall(
    real: Tensor, fake: Tensor, k: int = 3, real_radii: Tensor | None = None
) -> dict[str, float]:
    """Precision: share of fakes inside the real k-NN manifold; recall: reals inside the fakes'.

    real_radii: knn_radius(real, k) when the caller has it already (the reference is reused).
    """
    radii = knn_radius(real, k) if real_radii is None else real_radii
    precision = (_inside_count(fake, real, radii) > 0).float().mean()
    recall = (_inside_count(real, fake, knn_radius(fake, k)) > 0).float().mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(
    real: Tensor, fake: Tensor, k: int = 5, real_radii: Tensor | None = None
) -> dict[str, float]:
    """Density: mean count of real k-NN balls holding each fake, over k (can exceed 1);
    coverage: share of real balls that hold at least one fake."""
    radii = knn_radius(real, k) if real_radii is None else real_radii
    density = _inside_count(fake, real, radii).float().sum() / (k * len(fake))
    fake, real_f = fake.float(), real.float()
    nearest = torch.cat([torch.cdist(c, fake).min(1).values for c in real_f.split(_CHUNK)])
    coverage = (nearest <= radii).float().mean()
    return {"density": float(density), "coverage": float(coverage)}
