"""Colourisation measures: colourfulness (Hasler and Suesstrunk 2003) and L1 in CIELAB.

Colourfulness of an RGB image (0..255): with rg = R - G and yb = (R + G) / 2 - B over its pixels,
    M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)
(population std); 0 for a grey image, about 33 "moderately" and 59 "highly" colourful in the
paper's scale. A colouriser that plays safe with brownish averages scores low.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from gankit.errors import BadInput


def colourfulness(images: Tensor) -> Tensor:
    """uint8 or float (N, 3, H, W) in 0..255 -> (N,) Hasler-Suesstrunk colourfulness."""
    x = images.double()
    r, g, b = x[:, 0].flatten(1), x[:, 1].flatten(1), x[:, 2].flatten(1)
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = (rg.var(1, unbiased=False) + yb.var(1, unbiased=False)).sqrt()
    mean = (rg.mean(1).pow(2) + yb.mean(1).pow(2)).sqrt()
    return spread + 0.3 * mean


def lab_l1(fake: Tensor, real: Tensor) -> float:
    """Mean |Lab(fake) - Lab(real)| over pixels and the L, a, b channels; uint8 (N, 3, H, W)."""
    try:
        from skimage.color import rgb2lab
    except ImportError:
        raise BadInput("L1 in Lab needs scikit-image: pip install 'gankit[colour]'.") from None

    def lab(x: Tensor) -> np.ndarray:
        return rgb2lab(x.permute(0, 2, 3, 1).numpy().astype(np.float64) / 255.0, channel_axis=-1)

    return float(np.abs(lab(fake) - lab(real)).mean())
