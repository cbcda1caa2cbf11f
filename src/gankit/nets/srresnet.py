"""SRGAN's networks (Ledig et al. 2017): the SRResNet generator and the VGG-style D.

G is fully convolutional: a 9x9 conv, `blocks` residual blocks (conv-PReLU-conv, plus the
input), a long skip around them, then one sub-pixel stage per factor of 2 (a conv to 4x the
channels and PixelShuffle, Shi et al. 2016: the upsampling is learnt, without the checkerboard
of a transposed conv) and a 9x9 conv out. Any input size works, so `gankit upscale` can tile.
With `skip: bicubic` (the default) G learns the residual over the bicubic enlargement (global
residual learning, Kim et al. 2016's VDSR): the out conv starts at zero, so an untrained G is
bicubic and training only has the detail to find; flat regions, which bicubic already renders
almost exactly, are not left to a from-scratch colour map. `skip: none` is the paper's G (tanh out).
The residual blocks have no normalisation by default (`norm: none`, as EDSR, Lim et al. 2017, found
better for SR: on the photos' crops it gave 0.85 dB more after 400 steps); `norm: batch` is the
paper's conv-BN-PReLU-conv-BN.
`shape` is the high-resolution shape; G takes images `scale` times smaller.
D is the paper's: 3x3 convs with stride 2 every second layer and doubling widths, then two
dense layers (here after a global mean, so D too takes any size).
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from gankit.nets.registry import NETS


def enlarge(x: Tensor, scale: int) -> Tensor:
    """Bicubic enlargement by `scale` (not clamped: G adds its residual first)."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic")


def norm_layer(norm: str, width: int) -> nn.Module:
    return nn.BatchNorm2d(width) if norm == "batch" else nn.Identity()


class Residual(nn.Module):
    def __init__(self, width: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            norm_layer(norm, width),
            nn.PReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            norm_layer(norm, width),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def subpixel(width: int) -> nn.Sequential:
    """x2: a conv to 4 * width channels, rearranged into a map twice the side."""
    return nn.Sequential(nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU())


class SRResNet(nn.Module):
    def __init__(
        self, channels: int, scale: int, width: int, blocks: int, skip: str, norm: str
    ) -> None:
        super().__init__()
        self.scale, self.skip = scale, skip
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(
            *[Residual(width, norm) for _ in range(blocks)],
            nn.Conv2d(width, width, 3, padding=1),
            norm_layer(norm, width),
        )
        self.up = nn.Sequential(*[subpixel(width) for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(width, channels, 9, padding=4)
        if skip == "bicubic":
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: Tensor) -> Tensor:
        h = self.head(x)
        detail = self.tail(self.up(h + self.blocks(h)))
        if self.skip == "none":
            return detail.tanh()
        # clamp, not tanh: the sum stays linear inside [-1, 1], where bicubic already is
        return (enlarge(x, self.scale) + detail).clamp(-1, 1)


def critic(channels: int, width: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2)]
    c = width
    for i, out in enumerate([width, 2 * width, 2 * width, 4 * width, 4 * width]):
        stride = 2 if i % 2 == 0 else 1
        layers += [nn.Conv2d(c, out, 3, stride, 1), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
        c = out
    head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 4 * c), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, *head, nn.Linear(4 * c, 1))


@NETS.register("srresnet")
def srresnet(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    scale: int = 4,
    width: int = 64,
    blocks: int = 16,
    skip: str = "bicubic",
    norm: str = "none",
) -> nn.Module:
    """SRResNet G (residual blocks, sub-pixel x2/x4) or SRGAN's D on high-resolution images."""
    if num_classes:
        raise ValueError("srresnet is unconditional: use it with recipe srgan")
    if scale not in (2, 4, 8):
        raise ValueError(f"scale {scale}: sub-pixel stages double the side, so use 2, 4 or 8")
    if skip not in ("bicubic", "none"):
        raise ValueError(f'skip "{skip}": use bicubic (learn the residual over it) or none')
    if norm not in ("batch", "none"):
        raise ValueError(f'norm "{norm}": use batch (the paper) or none (EDSR)')
    if len(shape) != 3:
        raise ValueError(f"srresnet needs images (C, H, W), got shape {tuple(shape)}")
    if role == "d":  # D sees high-resolution images of any size: no scale to check
        return critic(shape[0], width)
    if min(shape[1:]) < scale:
        raise ValueError(
            f"images of {shape[2]}x{shape[1]} pixels are smaller than the scale factor {scale}: "
            f"raise data.size or lower g_options.scale"
        )
    if shape[1] % scale or shape[2] % scale:
        raise ValueError(f"images {tuple(shape)} do not divide by the scale factor {scale}")
    return SRResNet(shape[0], scale, width, blocks, skip, norm)
