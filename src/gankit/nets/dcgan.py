"""DCGAN (Radford et al. 2015): strided convolutions, batch norm, no pooling, ReLU in G, LeakyReLU
in D. Works for any side 4 * 2^k or 7 * 2^k (28, 32, 64, ...), 1 or 3 channels.

G upsamples by transposed convolution (the paper) or by resize-convolution (nearest or bilinear
upsample, then a 3x3 conv; Odena et al. 2016), which avoids checkerboard artifacts.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.nets.conditioning import LabelledDiscriminator, LabelledGenerator, check_conditioning
from gankit.nets.registry import NETS

UPSAMPLING = ("transpose", "nearest", "bilinear")
NORMS = ("batch", "instance", "layer", "none")


def base_side(size: int) -> tuple[int, int]:
    """(s0, k) with size = s0 * 2^k, s0 in {4, 7}, k >= 1: the smallest feature map and depth."""
    for s0 in (4, 7):
        k, side = 0, size
        while side > s0 and side % 2 == 0:
            side, k = side // 2, k + 1
        if side == s0 and k >= 1:
            return s0, k
    raise ValueError(f"image side {size} is not 4 or 7 times a power of two (e.g. 28, 32, 64)")


def norm_layer(kind: str, channels: int, affine: bool = True) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=affine)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=affine)
    if kind == "layer":  # per-sample, so safe with gradient penalties
        return nn.GroupNorm(1, channels, affine=affine)
    return nn.Identity()


def up_block(c_in: int, c_out: int, upsample: str) -> nn.Module:
    if upsample == "transpose":
        return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode=upsample), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)
    )


class Generator(nn.Module):
    def __init__(
        self, z_dim: int, shape: tuple[int, ...], width: int, upsample: str, norm: str
    ) -> None:
        super().__init__()
        channels, size = shape[0], shape[1]
        s0, k = base_side(size)
        widths = [width * 2 ** (k - 1 - i) for i in range(k)]  # e.g. 64: 512, 256, 128, 64
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, widths[0], s0, 1, 0, bias=False),  # z as a 1x1 map -> s0
            norm_layer(norm, widths[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [up_block(c_in, c_out, upsample), norm_layer(norm, c_out), nn.ReLU(True)]
        layers += [up_block(widths[-1], channels, upsample), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])  # z as a 1x1 map (no batch size baked into traces)


def conv_layers(channels: int, size: int, width: int, norm: str) -> tuple[nn.Sequential, int, int]:
    """D's strided conv stack: (layers, channels of its s0 x s0 output map, s0)."""
    s0, k = base_side(size)
    widths = [width * 2**i for i in range(k)]  # e.g. 64: 64, 128, 256, 512
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        layers += [
            nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm == "none"),
            norm_layer(norm, c_out),
            nn.LeakyReLU(0.2, True),
        ]
    return nn.Sequential(*layers), widths[-1], s0


class Discriminator(nn.Module):
    def __init__(self, shape: tuple[int, ...], width: int, norm: str) -> None:
        super().__init__()
        self.features, c_out, s0 = conv_layers(shape[0], shape[1], width, norm)
        self.head = nn.Conv2d(c_out, 1, s0, 1, 0)  # s0 x s0 map -> one logit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).flatten()


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: conv weights N(0, 0.02), norm scales N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def labelled_dcgan(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int,
    width: int,
    upsample: str,
    norm: str,
    conditioning: str,
    embed_dim: int,
) -> nn.Module:
    """G(z, y) / D(x, y): the same conv stacks around gankit.nets.conditioning's wrappers."""
    if role == "g":
        body = Generator(z_dim + embed_dim, shape, width, upsample, norm)
        return LabelledGenerator(body, num_classes, embed_dim)
    channels = shape[0] + (num_classes if conditioning == "concat" else 0)
    layers, c_out, s0 = conv_layers(channels, shape[1], width, norm)
    body = nn.Sequential(layers, nn.Flatten())
    return LabelledDiscriminator(body, c_out * s0 * s0, num_classes, conditioning, planes=True)


@NETS.register("dcgan", traits=("class_head",))
def dcgan(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    upsample: str = "transpose",
    norm: str = "batch",
    conditioning: str = "concat",
    embed_dim: int | None = None,
) -> nn.Module:
    """DCGAN conv G/D for 28/32/64-pixel images; upsample: transpose | nearest | bilinear.

    With num_classes > 0: G(z, y) with a class embedding of `embed_dim` (default: as many as
    classes), D(x, y) with the head `conditioning` (see gankit.nets.conditioning).
    """
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"dcgan needs square images (C, S, S), got shape {shape}")
    if upsample not in UPSAMPLING:
        raise ValueError(f"upsample {upsample!r} is not one of {UPSAMPLING}")
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    check_conditioning(conditioning)
    if num_classes > 0:
        net = labelled_dcgan(
            role,
            shape,
            z_dim,
            num_classes,
            width,
            upsample,
            norm,
            conditioning,
            embed_dim or num_classes,
        )
    elif role == "g":
        net = Generator(z_dim, shape, width, upsample, norm)
    else:
        net = Discriminator(shape, width, norm)
    net.apply(dcgan_init)
    return net
