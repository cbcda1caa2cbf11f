"""Progressive growing (ProGAN; Karras et al. 2018): G and D built for every resolution from
s0 x s0 up to the data's side, trained from the smallest up, each new block faded in.

Both nets hold the current `level` (0: s0 x s0, ... , levels - 1: full size) and fade-in `alpha`
as buffers, set by recipe: progressive from its step count (so checkpoints hold them). During a
fade, the new block's output is blended with the previous resolution's:
    G: rgb = lerp(upsample(to_rgb[l-1](h_{l-1})), to_rgb[l](block_l(h_{l-1})), alpha)
    D: h   = lerp(from_rgb[l-1](avg_pool(x)), block_l(from_rgb[l](x)), alpha)
Every conv/linear has an equalised learning rate; G uses pixel norm, D ends with minibatch std.

G in training mode returns images at the current resolution (what D trains on); in eval mode
(sampling, evaluation) it returns them upsampled to the data's side. D takes either: it area-
downsamples larger inputs to its current side. Left at their last level (the default), both are
ordinary full-size networks that any recipe can use.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.nets.dcgan import base_side
from gankit.nets.layers import MinibatchStd, PixelNorm, equalize
from gankit.nets.registry import NETS


def conv(c_in: int, c_out: int, k: int = 3, gain: float = 2**0.5) -> nn.Conv2d:
    return equalize(nn.Conv2d(c_in, c_out, k, 1, k // 2), gain)


def act() -> nn.Module:
    return nn.LeakyReLU(0.2)


class Growing(nn.Module):
    """What G and D share: the levels, and the level/alpha buffers the recipe sets."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.s0, k = base_side(shape[1])
        self.levels, self.size = k + 1, shape[1]
        self.register_buffer("level", torch.tensor(self.levels - 1))
        self.register_buffer("alpha", torch.tensor(1.0))
        self._phase: tuple[int, float] | None = None  # a Python copy of the two buffers

    @torch.no_grad()
    def set_phase(self, level: int, alpha: float) -> None:
        if not 0 <= level < self.levels:
            raise ValueError(f"level {level} is outside 0..{self.levels - 1}")
        self.level.fill_(level)
        self.alpha.fill_(alpha)
        self._phase = (level, float(alpha))

    def phase(self) -> tuple[int, float]:
        """(level, alpha), from the Python copy: a forward pass never reads the device."""
        if self._phase is None:  # built or loaded from a checkpoint: read the buffers once
            self._phase = (int(self.level), float(self.alpha))
        return self._phase

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super()._load_from_state_dict(*args, **kwargs)
        self._phase = None  # the buffers were replaced

    def side(self, level: int) -> int:
        return self.s0 * 2**level


class Generator(Growing):
    def __init__(self, z_dim: int, shape: tuple[int, ...], width: int) -> None:
        super().__init__(shape)
        self.width = width
        self.project = nn.Sequential(
            PixelNorm(), equalize(nn.Linear(z_dim, width * self.s0**2), gain=2**0.5 / 4)
        )
        first = nn.Sequential(act(), PixelNorm(), conv(width, width), act(), PixelNorm())
        up = [
            nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"),
                conv(width, width),
                act(),
                PixelNorm(),
                conv(width, width),
                act(),
                PixelNorm(),
            )
            for _ in range(self.levels - 1)
        ]
        self.blocks = nn.ModuleList([first, *up])
        self.to_rgb = nn.ModuleList(conv(width, shape[0], 1, gain=1) for _ in range(self.levels))

    def native(self, z: Tensor) -> Tensor:
        """Images at the current level's side, blended with the level below while fading in."""
        level, alpha = self.phase()
        h = self.project(z.flatten(1)).view(len(z), self.width, self.s0, self.s0)
        for block in self.blocks[:level]:
            h = block(h)
        rgb = self.to_rgb[level](self.blocks[level](h))
        if level > 0 and alpha < 1:
            low = F.interpolate(self.to_rgb[level - 1](h), scale_factor=2, mode="nearest")
            rgb = torch.lerp(low, rgb, alpha)
        return torch.tanh(rgb)

    def forward(self, z: Tensor) -> Tensor:
        x = self.native(z)
        if self.training or x.shape[-1] == self.size:
            return x
        return F.interpolate(x, size=self.size, mode="nearest")


class Discriminator(Growing):
    def __init__(self, shape: tuple[int, ...], width: int, mbstd_group: int) -> None:
        super().__init__(shape)
        self.from_rgb = nn.ModuleList(
            nn.Sequential(conv(shape[0], width, 1), act()) for _ in range(self.levels)
        )
        down = [
            nn.Sequential(conv(width, width), act(), conv(width, width), act(), nn.AvgPool2d(2))
            for _ in range(self.levels - 1)
        ]
        self.blocks = nn.ModuleList([nn.Identity(), *down])  # level 0 has no down block
        # Defined last, so its final linear is D's head (what feature matching hooks).
        self.final = nn.Sequential(
            MinibatchStd(mbstd_group),
            conv(width + 1, width),
            act(),
            nn.Flatten(),
            equalize(nn.Linear(width * self.s0**2, width)),
            act(),
            equalize(nn.Linear(width, 1), gain=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        level, alpha = self.phase()
        side = self.side(level)
        if x.shape[-1] != side:
            x = F.adaptive_avg_pool2d(x, side)
        h = self.blocks[level](self.from_rgb[level](x))
        if level > 0 and alpha < 1:
            h = torch.lerp(self.from_rgb[level - 1](F.avg_pool2d(x, 2)), h, alpha)
        for block in reversed(self.blocks[1:level]):
            h = block(h)
        return self.final(h).flatten()


@NETS.register("progressive")
def progressive(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    mbstd_group: int = 4,
) -> nn.Module:
    """ProGAN G/D (equalised lr, pixel norm, minibatch std); grows with recipe: progressive."""
    if num_classes > 0:
        raise ValueError("progressive takes no labels")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"progressive needs square images (C, S, S), got shape {shape}")
    if role == "g":
        return Generator(z_dim, shape, width)
    return Discriminator(shape, width, mbstd_group)
