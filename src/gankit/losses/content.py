"""Content terms of the translation recipes: how far an output is from a target image."""

from __future__ import annotations

from torch import Tensor


def l1_loss(output: Tensor, target: Tensor) -> Tensor:
    """Mean |output - target|: pix2pix's L1 term, CycleGAN's cycle and identity terms, StarGAN's
    reconstruction."""
    return (output - target).abs().mean()
