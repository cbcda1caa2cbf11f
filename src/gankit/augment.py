"""Differentiable augmentation (DiffAugment; Zhao et al. 2020), after the authors' PyTorch code.

Every policy is a differentiable function of the images, so G learns through it when it is applied
to fakes; randomness comes from the caller's torch.Generator, so the same seed gives the same
augmentation (and a resumed run continues exactly). Images are in [-1, 1], shape (B, C, H, W).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _rand(x: Tensor, g: torch.Generator) -> Tensor:
    """One uniform [0, 1) number per image, shaped to broadcast over (C, H, W)."""
    return torch.rand(len(x), 1, 1, 1, device=x.device, dtype=x.dtype, generator=g)


def brightness(x: Tensor, g: torch.Generator) -> Tensor:
    return x + (_rand(x, g) - 0.5)


def saturation(x: Tensor, g: torch.Generator) -> Tensor:
    mean = x.mean(1, keepdim=True)
    return (x - mean) * (_rand(x, g) * 2) + mean


def contrast(x: Tensor, g: torch.Generator) -> Tensor:
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, g) + 0.5) + mean


def _grid(x: Tensor, h: int, w: int) -> tuple[Tensor, Tensor, Tensor]:
    b = torch.arange(len(x), device=x.device)
    return torch.meshgrid(
        b, torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )


def _randint(low: int, high: int, n: int, x: Tensor, g: torch.Generator) -> Tensor:
    return torch.randint(low, high, (n, 1, 1), device=x.device, generator=g)


def translation(x: Tensor, g: torch.Generator, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ratio of its side, filling with zeros."""
    n, _, h, w = x.shape
    sx, sy = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx, ty = _randint(-sx, sx + 1, n, x, g), _randint(-sy, sy + 1, n, x, g)
    gb, gx, gy = _grid(x, h, w)
    gx = (gx + tx + 1).clamp(0, h + 1)
    gy = (gy + ty + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[gb, gx, gy].permute(0, 3, 1, 2)


def cutout(x: Tensor, g: torch.Generator, ratio: float = 0.5) -> Tensor:
    """Zero a square of ratio x the side at a random place in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = _randint(0, h + (1 - ch % 2), n, x, g)
    oy = _randint(0, w + (1 - cw % 2), n, x, g)
    gb, gx, gy = _grid(x, ch, cw)
    gx = (gx + ox - ch // 2).clamp(0, h - 1)
    gy = (gy + oy - cw // 2).clamp(0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


AUGMENTATIONS = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def diff_augment(x: Tensor, policies: list[str], g: torch.Generator) -> Tensor:
    """Apply each named policy in order (color, translation, cutout)."""
    for policy in policies:
        for fn in AUGMENTATIONS[policy]:
            x = fn(x, g)
    return x
