"""ResNet-block image translator: CycleGAN's generator (Zhu et al. 2017, after Johnson et al.
2016), which StarGAN's generator also is (Choi et al. 2018).

c7s1-w, `downsample` stride-2 convs, `blocks` residual blocks at the lowest resolution, as many
stride-2 transposed convs, c7s1-C and tanh; reflection padding and instance norm. Residual blocks
keep the input's content by default and learn only the change (texture, colour, domain).
With num_classes > 0 the target domain joins the input as one-hot planes (StarGAN), and also sets
the scale and shift of the first norm (conditional instance norm, Dumoulin et al. 2017): the planes
alone add a per-channel constant to the first conv's output, which instance norm subtracts again,
so with reflection padding G would never see the domain.
"""

from __future__ import annotations

from torch import Tensor, nn

from gankit.nets.conditioning import join_one_hot
from gankit.nets.dcgan import NORMS, norm_layer
from gankit.nets.registry import NETS
from gankit.nets.unet import init_weights


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=norm == "none"),
            norm_layer(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=norm == "none"),
            norm_layer(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class DomainNorm(nn.Module):
    """norm(h) * scale[c] + shift[c]: a norm whose affine parameters are the target domain's."""

    def __init__(self, kind: str, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = norm_layer(kind, channels, affine=False)  # the domain's scale and shift instead
        self.scale = nn.Embedding(num_classes, channels)
        self.shift = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, h: Tensor, labels: Tensor) -> Tensor:
        return (
            self.norm(h) * self.scale(labels)[..., None, None] + self.shift(labels)[..., None, None]
        )


class Translator(nn.Module):
    def __init__(
        self, channels: int, num_classes: int, width: int, blocks: int, downsample: int, norm: str
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        bias = norm == "none"
        self.stem = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(channels + num_classes, width, 7, bias=bias)
        )
        self.stem_norm = (
            DomainNorm(norm, width, num_classes) if num_classes else norm_layer(norm, width)
        )
        layers: list[nn.Module] = [nn.ReLU(True)]
        w = width
        # where `encode` taps the encoder (layer index, width): each resolution's end, then the
        # first residual block
        taps = [(0, w)]
        for _ in range(downsample):
            layers += [
                nn.Conv2d(w, 2 * w, 3, 2, 1, bias=bias),
                norm_layer(norm, 2 * w),
                nn.ReLU(True),
            ]
            w *= 2
            taps.append((len(layers) - 1, w))
        layers += [ResidualBlock(w, norm) for _ in range(blocks)]
        if blocks:
            taps.append((taps[-1][0] + 1, w))
        self.taps, self.tap_channels = (list(t) for t in zip(*taps))
        for _ in range(downsample):
            layers += [
                nn.ConvTranspose2d(w, w // 2, 3, 2, 1, output_padding=1, bias=bias),
                norm_layer(norm, w // 2),
                nn.ReLU(True),
            ]
            w //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def start(self, x: Tensor, labels: Tensor | None) -> Tensor:
        if not self.num_classes:
            return self.stem_norm(self.stem(x))
        h = self.stem(join_one_hot(x, labels, self.num_classes, planes=True))
        return self.stem_norm(h, labels)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(self.start(x, labels))

    def encode(self, x: Tensor, labels: Tensor | None = None) -> list[Tensor]:
        """The encoder's features at `taps` (PatchNCE compares them between input and output)."""
        h, features = self.start(x, labels), []
        for i, layer in enumerate(self.net[: self.taps[-1] + 1]):
            h = layer(h)
            if i in self.taps:
                features.append(h)
        return features


@NETS.register("resnet-translator", traits=("translates", "encodes"))
def resnet_translator(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    blocks: int = 9,
    downsample: int = 2,
    norm: str = "instance",
) -> nn.Module:
    """ResNet-block image -> image G (CycleGAN, StarGAN); side divisible by 2^downsample."""
    if role != "g":
        raise ValueError("resnet-translator is a generator (nets.g); use patchgan as nets.d")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"resnet-translator needs square images (C, S, S), got shape {shape}")
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    side = shape[1]
    if downsample < 0 or side % 2**downsample or side // 2**downsample < 4:
        raise ValueError(
            f"downsample {downsample} does not fit {side}-pixel images: the side must be "
            f"divisible by 2^downsample and leave at least 4 pixels"
        )
    net = Translator(shape[0], num_classes, width, blocks, downsample, norm)
    net.apply(init_weights)
    return net
