"""uint8 images of any size -> the FID Inception's input (N, 3, 299, 299) in [-1, 1], three ways.

The resize moves FID by more than many papers' differences, so it is part of the protocol record:
- `torch`: F.interpolate bilinear, no antialias, on x / 255, then 2x - 1 (pytorch-fid).
- `tf1`: TensorFlow 1's resize_bilinear (align_corners=False, no half-pixel centres: the source
  coordinate of output pixel i is i * in / out), then (x - 128) / 128, as the TF graph scales
  its input (the original TTUR code, torch-fidelity).
- `clean`: PIL bicubic with antialias, each channel as a float image, clipped to 0..255, then
  (x - 128) / 128 (clean-fid).
Grey images are repeated to RGB first.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import BadInput

MODES = ("torch", "tf1", "clean")
SIZE = 299


def prepare(images: Tensor, mode: str) -> Tensor:
    if mode not in MODES:
        raise BadInput(f'unknown resize "{mode}": use {", ".join(MODES)}.')
    x = images.float()
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    if mode == "torch":
        x = F.interpolate(x / 255, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        return 2 * x - 1
    if mode == "tf1":
        x = _tf1_axis(_tf1_axis(x, 2), 3)
    else:
        x = _pil_bicubic(x).to(images.device)
    return (x - 128) / 128


def _tf1_axis(x: Tensor, dim: int) -> Tensor:
    """TF1 bilinear along one axis: lerp between floor(src) and the next pixel (clamped)."""
    n = x.shape[dim]
    scale = torch.tensor(n / SIZE, dtype=torch.float32)  # TF works in float32
    src = torch.arange(SIZE, dtype=torch.float32) * scale
    lo = src.floor().long().clamp(max=n - 1)
    hi = (lo + 1).clamp(max=n - 1)
    shape = [1] * x.ndim
    shape[dim] = SIZE
    w = (src - lo).view(shape).to(x.device)
    a, b = x.index_select(dim, lo.to(x.device)), x.index_select(dim, hi.to(x.device))
    return a + (b - a) * w


def _pil_bicubic(x: Tensor) -> Tensor:
    from PIL import Image

    arr = x.cpu().numpy()
    out = np.empty((*arr.shape[:2], SIZE, SIZE), np.float32)
    for i, image in enumerate(arr):
        for c, channel in enumerate(image):
            pil = Image.fromarray(channel, mode="F").resize((SIZE, SIZE), Image.BICUBIC)
            out[i, c] = np.asarray(pil).clip(0, 255)
    return torch.from_numpy(out)
