"""The Laplacian pyramid LAPGAN generates (Denton et al. 2015), and its exact inverse.

An image I_0 is taken down by 2x2 average pooling, I_{k+1} = down(I_k); level k keeps the
band-pass residual h_k = I_k - up(I_{k+1}), and the coarsest level keeps I_K itself. Collapsing
goes the other way, I_k = up(I_{k+1}) + h_k, so the pyramid is an exact change of
representation (up to float rounding): whatever a GAN generates at one level, the others add to.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def down(x: Tensor) -> Tensor:
    """Half the side, each pixel the mean of a 2x2 block."""
    return F.avg_pool2d(x, 2)


def up(x: Tensor) -> Tensor:
    """Twice the side, bilinear: the smooth prediction a residual corrects."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def pyramid(x: Tensor, levels: int) -> list[Tensor]:
    """[h_0, ..., h_{K-1}, I_K]: residuals from the finest down, then the coarsest image."""
    bands = []
    for _ in range(levels - 1):
        coarse = down(x)
        bands.append(x - up(coarse))
        x = coarse
    return bands + [x]


def collapse(bands: list[Tensor]) -> Tensor:
    """The image a pyramid (as `pyramid` returns it) stands for."""
    x = bands[-1]
    for residual in reversed(bands[:-1]):
        x = up(x) + residual
    return x


def sides(side: int, levels: int) -> list[int]:
    """The side at each level, finest first; BadInput-worthy ValueError if it does not halve."""
    if side % 2 ** (levels - 1):
        raise ValueError(
            f"{levels} pyramid levels need a side divisible by {2 ** (levels - 1)}, not {side}"
        )
    return [side // 2**k for k in range(levels)]
