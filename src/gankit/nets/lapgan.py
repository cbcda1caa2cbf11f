"""LAPGAN's networks (Denton et al. 2015): one small GAN per Laplacian-pyramid level.

The coarsest level is an ordinary GAN on tiny images (fully connected G and D, as the paper's
CIFAR coarsest level). Every finer level k is a conditional GAN on the band-pass residual: G_k
sees the upsampled coarser image u and a noise plane, and outputs the residual h that
`gankit.laplacian.collapse` adds to u; D_k judges the pair [u, h], so it asks whether a residual
fits its coarse image, not only whether it looks like a residual.

The latent z of `nets.z_dim` is cut into one equal chunk per level: training draws it whole, so
each level sees independent noise, and sampling from one z stays a pure function of z.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit import laplacian
from gankit.nets.registry import NETS


def refiner(channels: int, width: int, chunk: int, side: int) -> nn.ModuleDict:
    """G_k: [u, noise plane] -> residual, three 3x3 convs (the paper's finer levels)."""
    body = nn.Sequential(
        nn.Conv2d(channels + 1, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, channels, 3, padding=1),  # linear: residuals are signed
    )
    return nn.ModuleDict({"noise": nn.Linear(chunk, side * side), "body": body})


def critic(channels: int, width: int) -> nn.Module:
    """D_k: [u, h] -> one logit, two strided 4x4 convs and a mean-pooled linear head."""
    return nn.Sequential(
        nn.Conv2d(2 * channels, width, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * width, 1),
    )


def mlp(n_in: int, width: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, n_out),
    )


class PyramidG(nn.Module):
    """G_0 .. G_{K-1} (residuals, finest first) and the coarsest G_K; forward(z) samples."""

    def __init__(self, shape: tuple[int, ...], z_dim: int, levels: int, width: int) -> None:
        super().__init__()
        self.channels, self.levels = shape[0], levels
        self.sides = laplacian.sides(shape[1], levels)
        if z_dim < levels:
            raise ValueError(f"z_dim {z_dim} is smaller than the {levels} levels it is cut into")
        self.chunk = z_dim // levels
        coarse = self.sides[-1]
        self.coarse = nn.Sequential(
            mlp(self.chunk, 4 * width, self.channels * coarse * coarse), nn.Tanh()
        )
        self.refiners = nn.ModuleList(
            refiner(self.channels, width, self.chunk, s) for s in self.sides[:-1]
        )

    def latents(self, z: Tensor) -> list[Tensor]:
        """z -> one chunk per level, finest first (the coarsest takes the last)."""
        return list(z[:, : self.chunk * self.levels].split(self.chunk, 1))

    def coarsest(self, z: Tensor) -> Tensor:
        s = self.sides[-1]
        return self.coarse(z).view(len(z), self.channels, s, s)

    def residual(self, k: int, z: Tensor, u: Tensor) -> Tensor:
        """Level k's residual for the upsampled coarser image u (side sides[k])."""
        net, side = self.refiners[k], self.sides[k]
        plane = net["noise"](z).view(len(z), 1, side, side)
        return net["body"](torch.cat([u, plane], 1))

    def levels_of(self, z: Tensor) -> list[Tensor]:
        """The sample at every level, coarsest first, each built on the one before."""
        chunks = self.latents(z)
        images = [self.coarsest(chunks[-1])]
        for k in reversed(range(self.levels - 1)):
            u = laplacian.up(images[-1])
            images.append(u + self.residual(k, chunks[k], u))
        return images

    def forward(self, z: Tensor) -> Tensor:
        return self.levels_of(z)[-1].clamp(-1, 1)


class PyramidD(nn.Module):
    """D_0 .. D_{K-1} on [u, h] pairs and the coarsest D_K on images."""

    def __init__(self, shape: tuple[int, ...], levels: int, width: int) -> None:
        super().__init__()
        self.sides = laplacian.sides(shape[1], levels)
        c, s = shape[0], self.sides[-1]
        self.coarse = nn.Sequential(nn.Flatten(), mlp(c * s * s, 4 * width, 1))
        self.critics = nn.ModuleList(critic(c, width) for _ in self.sides[:-1])

    def judge(self, k: int, image: Tensor, u: Tensor | None = None) -> Tensor:
        """Level k's logits: of a residual given u, or (k = the coarsest) of an image."""
        if k == len(self.critics):
            return self.coarse(image).flatten()
        return self.critics[k](torch.cat([u, image], 1)).flatten()


@NETS.register("lapgan")
def lapgan(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    levels: int = 3,
    width: int = 64,
) -> nn.Module:
    """Laplacian pyramid of GANs, coarse to fine (LAPGAN); side divisible by 2^(levels-1)."""
    if num_classes:
        raise ValueError("lapgan is unconditional here: use it with recipe lapgan")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"lapgan needs square images (C, S, S), got shape {shape}")
    if levels < 2:
        raise ValueError(f"levels {levels}: a pyramid has at least 2 levels")
    if role == "g":
        return PyramidG(shape, z_dim, levels, width)
    return PyramidD(shape, levels, width)
