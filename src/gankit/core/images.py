"""The one conversion between the models' range and stored images: [-1, 1] floats <-> uint8."""

from __future__ import annotations

import torch
from torch import Tensor


def to_uint8(x: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 0..255 (rounded; values outside the range clipped)."""
    return ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def from_uint8(x: Tensor) -> Tensor:
    """uint8 0..255 -> float images in [-1, 1]."""
    return x.float().div(127.5).sub(1.0)
