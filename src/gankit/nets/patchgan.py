"""PatchGAN discriminator (pix2pix, Isola et al. 2017; also CycleGAN's and StarGAN's D).

A fully convolutional D that gives one logit per overlapping patch instead of one per image: it
judges local texture and leaves global structure to the generator's L1 / cycle terms. `depth`
stride-2 layers set the patch (receptive field): 1 -> 16, 2 -> 34, 3 -> 70 (the paper's), 4 -> 142
pixels. The games in gankit.losses average over every logit, so a map of them needs no change.

Conditioning on an input image (pix2pix) is concatenation: the recipe builds it for 2C channels
and feeds [input, output]. With num_classes > 0 it also has StarGAN's domain-classification
head and returns (patch logits, class logits).
"""

from __future__ import annotations

from torch import Tensor, nn

from gankit.nets.dcgan import NORMS, norm_layer
from gankit.nets.registry import NETS
from gankit.nets.unet import init_weights


def receptive_field(depth: int) -> int:
    """The patch each output logit sees, in pixels (three 4x4 convs of stride 1 after the rest)."""
    field = 1
    for stride in [1, 1] + [2] * depth:  # walked back from the output
        field = field * stride + (4 - stride)
    return field


def output_side(side: int, depth: int) -> int:
    for _ in range(depth):
        side //= 2  # 4x4, stride 2, padding 1
    return side - 2  # two 4x4 convs of stride 1, padding 1


class PatchGAN(nn.Module):
    def __init__(
        self, channels: int, side: int, num_classes: int, width: int, depth: int, norm: str
    ) -> None:
        super().__init__()
        widths = [width * min(2**i, 8) for i in range(depth + 1)]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for i in range(1, depth + 1):
            stride = 2 if i < depth else 1
            layers += [
                nn.Conv2d(widths[i - 1], widths[i], 4, stride, 1, bias=norm == "none"),
                norm_layer(norm, widths[i]),
                nn.LeakyReLU(0.2),
            ]
        self.features = nn.Sequential(*layers)
        self.patches = nn.Conv2d(widths[depth], 1, 4, 1, 1)
        # StarGAN: one conv over the whole last feature map -> K domain logits
        features_side = output_side(side, depth) + 1
        self.classes = (
            nn.Conv2d(widths[depth], num_classes, features_side, bias=False)
            if num_classes
            else None
        )

    def forward(self, x: Tensor, taps: bool = False) -> Tensor | tuple:
        """Patch logits (and StarGAN's domain logits); with taps, also every hidden layer's
        activations (pix2pixHD's feature matching compares them)."""
        activations, h = [], x
        for layer in self.features:
            h = layer(h)
            if taps and isinstance(layer, nn.LeakyReLU):
                activations.append(h)
        out = (
            self.patches(h)
            if self.classes is None
            else (self.patches(h), self.classes(h).flatten(1))
        )
        return (out, activations) if taps else out


@NETS.register("patchgan", traits=("taps", "domain_head"))
def patchgan(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    depth: int = 3,
    norm: str = "batch",
) -> nn.Module:
    """PatchGAN D: a logit per patch; depth 1/2/3/4 -> 16/34/70/142-pixel patches."""
    if role != "d":
        raise ValueError("patchgan is a discriminator (nets.d); use unet or resnet-translator as G")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"patchgan needs square images (C, S, S), got shape {shape}")
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    side = shape[1]
    if depth < 1 or output_side(side, depth) < 1:
        deepest = max((d for d in range(1, 9) if output_side(side, d) >= 1), default=0)
        raise ValueError(
            f"depth {depth} is too deep for {side}-pixel images: use depth 1..{deepest} "
            f"(patches of {receptive_field(1)}..{receptive_field(max(deepest, 1))} pixels)"
        )
    net = PatchGAN(shape[0], side, num_classes, width, depth, norm)
    net.apply(init_weights)
    return net
