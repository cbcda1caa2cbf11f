"""U-Net generator (Ronneberger et al. 2015, as pix2pix uses it; Isola et al. 2017).

An encoder of strided 4x4 convolutions halves the image `depth` times; a decoder of transposed
convolutions doubles it back, and each decoder level is joined (concatenated) with the encoder
level of the same size, so low-level detail (edges, positions) skips the bottleneck. Dropout in
the innermost decoder levels is pix2pix's only noise source (there is no z).

With num_classes > 0 the target label joins the input as one-hot planes (a StarGAN-style G).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.nets.conditioning import join_one_hot
from gankit.nets.dcgan import NORMS, norm_layer
from gankit.nets.registry import NETS

MAX_DEPTH = 8  # pix2pix's unet_256: 256 pixels down to 1


def halvings(side: int) -> int:
    """How often `side` halves evenly (at most MAX_DEPTH): the default depth."""
    k = 0
    while side % 2 == 0 and side > 1 and k < MAX_DEPTH:
        side, k = side // 2, k + 1
    return k


def down(c_in: int, c_out: int, norm: str, first: bool) -> nn.Module:
    # pre-activation as in pix2pix: the outermost level sees the raw image, the innermost has no
    # norm (its map can be 1x1, where instance norm is undefined)
    layers: list[nn.Module] = [] if first else [nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm == "none"), norm_layer(norm, c_out)]
    return nn.Sequential(*layers)


def up(c_in: int, c_out: int, norm: str, dropout: float, last: bool) -> nn.Module:
    layers: list[nn.Module] = [nn.ReLU(), nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=last)]
    if last:
        return nn.Sequential(*layers, nn.Tanh())
    layers.append(norm_layer(norm, c_out))
    return nn.Sequential(*layers, nn.Dropout(dropout) if dropout > 0 else nn.Identity())


class UNet(nn.Module):
    def __init__(
        self,
        channels: int,
        num_classes: int,
        width: int,
        depth: int,
        norm: str,
        dropout: float,
        extra_inputs: int = 0,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        widths = [width * min(2**i, 8) for i in range(depth)]  # 64, 128, 256, 512, 512 ...
        self.downs = nn.ModuleList(
            down(
                channels + num_classes + extra_inputs if i == 0 else widths[i - 1],
                widths[i],
                "none" if i in (0, depth - 1) else norm,
                first=i == 0,
            )
            for i in range(depth)
        )
        self.ups = nn.ModuleList()
        for j, level in enumerate(reversed(range(depth))):
            c_in = widths[level] * (1 if j == 0 else 2)  # the skip doubles all but the innermost
            c_out = widths[level - 1] if level > 0 else channels
            noisy = 0 < level and j < 3  # the innermost three decoder levels, as in pix2pix
            self.ups.append(up(c_in, c_out, norm, dropout if noisy else 0.0, last=level == 0))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.num_classes:
            x = join_one_hot(x, labels, self.num_classes, planes=True)
        skips = []
        for layer in self.downs:
            x = layer(x)
            skips.append(x)
        x = skips.pop()
        for layer in self.ups:
            x = layer(x)
            if skips:
                x = torch.cat([x, skips.pop()], 1)
        return x


def init_weights(module: nn.Module) -> None:
    """pix2pix's initialisation: conv weights N(0, 0.02), norm scales N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@NETS.register("unet", traits=("translates",))
def unet(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    depth: int | None = None,
    norm: str = "batch",
    dropout: float = 0.5,
    extra_inputs: int = 0,
) -> nn.Module:
    """U-Net image -> image G with skip connections (pix2pix); side divisible by 2^depth.

    `extra_inputs` planes join the image at the input (a colouriser's hint planes)."""
    if role != "g":
        raise ValueError("unet is a generator (nets.g); use patchgan as nets.d")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"unet needs square images (C, S, S), got shape {shape}")
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    side = shape[1]
    depth = halvings(side) if depth is None else depth
    if depth < 1 or side % 2**depth:
        raise ValueError(
            f"depth {depth} does not fit {side}-pixel images: the side must be divisible by "
            f"2^depth (at most depth {halvings(side)} here)"
        )
    net = UNet(shape[0], num_classes, width, depth, norm, dropout, extra_inputs)
    net.apply(init_weights)
    return net
