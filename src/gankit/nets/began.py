"""BEGAN's networks (Berthelot et al. 2017): D is an auto-encoder, G is a decoder like D's.

Decoder: h -> linear -> n x s0 x s0 -> per scale [conv3x3, ELU, conv3x3, ELU, nearest x2] ->
         conv3x3 -> Tanh (our data range).
Encoder: conv3x3 -> per scale [conv3x3, ELU, conv3x3, ELU, stride-2 conv] -> linear -> h.
D(x) is the reconstruction of x, not a logit: use it with recipe: began.
"""

from __future__ import annotations

from torch import Tensor, nn

from gankit.nets.dcgan import base_side
from gankit.nets.registry import NETS


def conv_pair(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, 1, 1), nn.ELU(), nn.Conv2d(c_out, c_out, 3, 1, 1), nn.ELU()]


class Decoder(nn.Module):
    def __init__(self, h_dim: int, shape: tuple[int, ...], width: int) -> None:
        super().__init__()
        s0, k = base_side(shape[1])
        self.s0, self.width = s0, width
        self.linear = nn.Linear(h_dim, width * s0 * s0)
        layers: list[nn.Module] = []
        for _ in range(k):
            layers += [*conv_pair(width, width), nn.Upsample(scale_factor=2, mode="nearest")]
        layers += [*conv_pair(width, width), nn.Conv2d(width, shape[0], 3, 1, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, h: Tensor) -> Tensor:
        return self.net(self.linear(h.flatten(1)).view(len(h), self.width, self.s0, self.s0))


class Encoder(nn.Module):
    def __init__(self, h_dim: int, shape: tuple[int, ...], width: int) -> None:
        super().__init__()
        s0, k = base_side(shape[1])
        layers: list[nn.Module] = [nn.Conv2d(shape[0], width, 3, 1, 1), nn.ELU()]
        for i in range(k):  # widths grow linearly with depth, as in the paper (n, 2n, 3n, ...)
            c_in, c_out = width * (i + 1), width * (i + 2)
            layers += [*conv_pair(c_in, c_in), nn.Conv2d(c_in, c_out, 3, 2, 1), nn.ELU()]
        layers += [*conv_pair(width * (k + 1), width * (k + 1)), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.linear = nn.Linear(width * (k + 1) * s0 * s0, h_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.net(x))


class AutoEncoder(nn.Module):
    """D(x) = decode(encode(x)): BEGAN's discriminator scores x by how well it reconstructs it."""

    def __init__(self, shape: tuple[int, ...], width: int, h_dim: int) -> None:
        super().__init__()
        self.encoder = Encoder(h_dim, shape, width)
        self.decoder = Decoder(h_dim, shape, width)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))


@NETS.register("began")
def began(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    h_dim: int = 64,
) -> nn.Module:
    """BEGAN: auto-encoder D (returns a reconstruction; recipe: began) and decoder G."""
    if num_classes > 0:
        raise ValueError("began takes no labels")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"began needs square images (C, S, S), got shape {shape}")
    return Decoder(z_dim, shape, width) if role == "g" else AutoEncoder(shape, width, h_dim)
