"""SRGAN's networks (Ledig et al. 2017): the SRResNet generator and the VGG-style D.

G is fully convolutional: a 9x9 conv, `blocks` residual blocks (conv-BN-PReLU-conv-BN, plus the
input), a long skip around them, then one sub-pixel stage per factor of 2 (a conv to 4x the
channels and PixelShuffle, Shi et al. 2016: the upsampling is learnt, without the checkerboard
of a transposed conv) and a 9x9 conv out. Any input size works, so `gankit upscale` can tile.
`shape` is the high-resolution shape; G takes images `scale` times smaller.
D is the paper's: 3x3 convs with stride 2 every second layer and doubling widths, then two
dense layers (here after a global mean, so D too takes any size).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from gankit.nets.registry import NETS


class Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.PReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def subpixel(width: int) -> nn.Sequential:
    """x2: a conv to 4 * width channels, rearranged into a map twice the side."""
    return nn.Sequential(nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU())


class SRResNet(nn.Module):
    def __init__(self, channels: int, scale: int, width: int, blocks: int) -> None:
        super().__init__()
        self.scale = scale
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(
            *[Residual(width) for _ in range(blocks)],
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
        )
        self.up = nn.Sequential(*[subpixel(width) for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def forward(self, x: Tensor) -> Tensor:
        h = self.head(x)
        return self.tail(self.up(h + self.blocks(h))).tanh()


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
) -> nn.Module:
    """SRResNet G (residual blocks, sub-pixel x2/x4) or SRGAN's D on high-resolution images."""
    if num_classes:
        raise ValueError("srresnet is unconditional: use it with recipe srgan")
    if scale not in (2, 4, 8):
        raise ValueError(f"scale {scale}: sub-pixel stages double the side, so use 2, 4 or 8")
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
    return SRResNet(shape[0], scale, width, blocks)
