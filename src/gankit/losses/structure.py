"""MIND, the modality independent neighbourhood descriptor (Heinrich et al. 2012): a content term.

Structure-constrained CycleGAN (Yang et al. 2018) keeps anatomy through unpaired MR -> CT
translation by asking MIND of the output to match MIND of the input. At each pixel, MIND compares
the 3x3 patch there with the patches one pixel up, down, left and right: exp(-distance / local
variance), scaled to a maximum of 1. An inversion or a shift of brightness leaves it unchanged, a
change of contrast nearly so (eps); a texture drawn where the input was flat, or an item moved,
does not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_SHIFTS = ((0, 1), (1, 0), (0, -1), (-1, 0))


def mind(x: Tensor, eps: float = 1e-2) -> Tensor:
    """(N, C, H, W) images -> (N, 4, H, W) descriptors, one per neighbour, each in (0, 1].

    eps keeps flat regions flat: without it, faint noise on a flat background would be scaled up
    by its own tiny variance.
    """
    grey = x.mean(1, keepdim=True)
    padded = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    h, w = grey.shape[-2:]
    distances = torch.cat(
        [
            F.avg_pool2d(
                (grey - padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]) ** 2,
                3,
                stride=1,
                padding=1,
                count_include_pad=False,
            )
            for dy, dx in _SHIFTS
        ],
        dim=1,
    )
    variance = distances.mean(1, keepdim=True) + eps
    descriptor = torch.exp(-distances / variance)
    return descriptor / descriptor.amax(1, keepdim=True)


def structure_loss(output: Tensor, source: Tensor) -> Tensor:
    """Mean |MIND(output) - MIND(source)|; the source's side is a fixed target."""
    return (mind(output) - mind(source).detach()).abs().mean()
