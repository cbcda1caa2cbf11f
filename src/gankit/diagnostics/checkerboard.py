"""Checkerboard artifacts, measured: the share of an image set's spectral energy that sits at the
frequencies stride-2 upsampling leaves its marks at (Odena et al. 2016, "Deconvolution and
checkerboard artifacts").

A layer that upsamples by 2 with uneven kernel overlap (a transposed convolution with kernel 4,
stride 2) stamps a pattern with period 2 onto its output; one layer earlier, the next upsampling
magnifies that into period 4, and so on. A pattern of period p along an axis of N pixels puts its
energy at the frequency indices k = m N / p (m = 1 .. p - 1). The metric is

    share = sum of power at those bins (either axis on the lattice, DC excluded) / total power

with each image's mean removed first, power averaged over images and channels. Natural images
have little energy there (their spectra fall off with frequency), so real data gives the floor.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def as_float(images: Tensor | np.ndarray) -> Tensor:
    """(N, C, H, W) images as float64; uint8 0..255 and floats in [-1, 1] are both fine."""
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, Tensor) else images)
    if x.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(x.shape)}")
    return x.to(torch.float64)


def power_spectrum(images: Tensor | np.ndarray) -> Tensor:
    """Mean |FFT|^2 over images and channels, (H, W), of the images with their means removed."""
    x = as_float(images)
    x = x - x.mean((2, 3), keepdim=True)
    return torch.fft.fft2(x).abs().pow(2).mean((0, 1))


def upsampling_bins(h: int, w: int, periods: tuple[int, ...] = (2, 4)) -> Tensor:
    """Boolean (H, W) mask of the frequency lattice {k = m N / p} for each period p, minus DC."""
    mask = torch.zeros(h, w, dtype=torch.bool)
    for p in periods:
        if h % p or w % p:
            continue  # no whole-pixel pattern of that period on this side
        rows = torch.arange(0, h, h // p)
        cols = torch.arange(0, w, w // p)
        mask[rows[:, None], cols[None, :]] = True
    mask[0, 0] = False
    return mask


def checkerboard_share(images: Tensor | np.ndarray, periods: tuple[int, ...] = (2, 4)) -> float:
    """Share of spectral energy at the upsampling frequencies (0..1; higher: more artifacts)."""
    power = power_spectrum(images)
    mask = upsampling_bins(*power.shape, periods)
    return float(power[mask].sum() / power.sum().clamp_min(1e-12))
