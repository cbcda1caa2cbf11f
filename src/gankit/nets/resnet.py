"""ResNet G and D in the style of SNGAN (Miyato et al. 2018; Gulrajani et al. 2017's CIFAR nets).

G: z -> linear -> s0 x s0 map -> k up-blocks (BN, ReLU, nearest x2, conv3x3, BN, ReLU, conv3x3,
   with a 1x1-conv shortcut) -> BN, ReLU, conv3x3, Tanh.
D: k down-blocks (the first "optimised": conv before ReLU) -> one block at s0 -> ReLU, global sum
   pooling -> linear. No normalisation in D: pair it with `d_options: {spectral_norm: true}`.
Sides 4 * 2^k or 7 * 2^k (28, 32, 64), 1 or 3 channels.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from gankit.nets.dcgan import base_side
from gankit.nets.registry import NETS


class Block(nn.Module):
    """A residual block that resamples by `scale` (2: nearest up, 0.5: avg-pool down, 1: none).

    `bn` puts batch norm before each activation (G's blocks); `pre_act` is False only for D's
    first block, whose input is the raw image (SNGAN's "optimised" block).
    """

    def __init__(self, c_in: int, c_out: int, scale: float, bn: bool, pre_act: bool = True):
        super().__init__()
        self.scale, self.pre_act = scale, pre_act
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(c_in) if bn else nn.Identity()
        self.bn2 = nn.BatchNorm2d(c_out) if bn else nn.Identity()
        learn = c_in != c_out or scale != 1
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if learn else nn.Identity()

    def resample(self, x: Tensor) -> Tensor:
        if self.scale == 2:
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if self.scale == 0.5:
            return F.avg_pool2d(x, 2)
        return x

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.bn1(x)) if self.pre_act else x
        if self.scale == 2:
            h = self.resample(h)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        if self.scale == 0.5:
            h = self.resample(h)
        # Shortcut: up before the 1x1 conv, down after it (cheaper, as in SNGAN's code).
        skip = x if self.scale != 2 else self.resample(x)
        skip = self.shortcut(skip)
        return h + (self.resample(skip) if self.scale == 0.5 else skip)


class Generator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple[int, ...], width: int) -> None:
        super().__init__()
        s0, k = base_side(shape[1])
        self.s0, self.width = s0, width
        self.linear = nn.Linear(z_dim, width * s0 * s0)
        self.blocks = nn.Sequential(*[Block(width, width, 2, bn=True) for _ in range(k)])
        self.out = nn.Sequential(
            nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, shape[0], 3, 1, 1), nn.Tanh()
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.linear(z.flatten(1)).view(len(z), self.width, self.s0, self.s0)
        return self.out(self.blocks(h))


class Discriminator(nn.Module):
    def __init__(self, shape: tuple[int, ...], width: int) -> None:
        super().__init__()
        _, k = base_side(shape[1])
        blocks = [Block(shape[0], width, 0.5, bn=False, pre_act=False)]
        blocks += [Block(width, width, 0.5, bn=False) for _ in range(k - 1)]
        blocks.append(Block(width, width, 1, bn=False))
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(width, 1)

    def phi(self, x: Tensor) -> Tensor:
        """D's penultimate features (B, width): ReLU, then the sum over positions."""
        return F.relu(self.blocks(x)).sum((2, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.phi(x)).flatten()


@NETS.register("resnet")
def resnet(
    role: str, shape: tuple[int, ...], z_dim: int, num_classes: int = 0, *, width: int = 64
) -> nn.Module:
    """SNGAN-style residual G/D for 28/32/64-pixel images; add spectral_norm: true on D."""
    if num_classes > 0:
        raise ValueError("resnet takes no labels (use dcgan or mlp for conditional recipes)")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"resnet needs square images (C, S, S), got shape {shape}")
    return Generator(z_dim, shape, width) if role == "g" else Discriminator(shape, width)
