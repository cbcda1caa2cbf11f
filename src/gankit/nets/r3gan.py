"""R3GAN's modernised ConvNet (Huang et al. 2024, "The GAN is dead; long live the GAN!"), small.

G: a learned s0 x s0 basis, scaled channel by channel by a linear map of z -> stages of residual
   blocks, each stage after the first entered through a 1x1 conv (where the width changes) and a
   bilinear x2 upsample -> 1x1 conv to the image's channels -> tanh.
D: the mirror image: 1x1 conv from the image -> stages of residual blocks, each left through a
   bilinear /2 downsample (and a 1x1 conv) -> at s0 x s0, a depthwise s0 x s0 conv (one feature
   per channel) -> a linear logit.

Residual block: 1x1 conv expanding the channels `expansion` times, leaky ReLU, grouped 3x3 conv
(`group_size` channels a group: R3GAN's cardinality is width * expansion / group_size), leaky ReLU,
1x1 conv back. No normalisation layer anywhere, so every sample's output depends on it alone (as
R1 and R2 assume). Fix-up initialisation: each block's last conv starts at zero, so the network
starts as its stages' transitions alone, and the others start at He's scale times L^(-1/4) for
L blocks in the network (R3GAN's L^(-1/(2m-2)), m = 3 convs a block), which keeps the variance
of the residual sum bounded as blocks are added.

Not for `spectral_norm: true` (refused, the `zero_init` trait): a zero-initialised conv has no
largest singular value to divide by, and R3GAN's D needs no normalisation, R1 + R2 regularise it.

Sides 28, 32 and 64 (s0 = 7, 4, 4); every stage up to 16 px is `width` wide, and each octave
above it halves the width, where the activations are 4x larger. Unlike R3GAN's linear output, G
ends in tanh: gankit's generators all return samples in the data's range [-1, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import BadInput
from gankit.nets.dcgan import base_side
from gankit.nets.registry import NETS

SIDES = (28, 32, 64)
LEAK = 0.2
GAIN = math.sqrt(2 / (1 + LEAK**2))  # He's gain for a leaky ReLU of slope LEAK


def he_init(layer: nn.Conv2d | nn.Linear, gain: float) -> None:
    """Weights N(0, (gain / sqrt(fan_in))^2) (gain 0: zeros), biases 0 (R3GAN's initialiser)."""
    fan_in = layer.weight[0].numel()
    nn.init.normal_(layer.weight, 0.0, gain / math.sqrt(fan_in))
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def pointwise(c_in: int, c_out: int) -> nn.Conv2d:
    """A 1x1 conv without bias, He-initialised for a linear layer (gain 1)."""
    conv = nn.Conv2d(c_in, c_out, 1, bias=False)
    he_init(conv, 1.0)
    return conv


class Block(nn.Module):
    """x + project(lrelu(grouped 3x3(lrelu(expand(x))))): an inverted bottleneck, no norm."""

    def __init__(self, channels: int, expansion: int, group_size: int, scale: float) -> None:
        super().__init__()
        wide = channels * expansion
        # The biases of the first two convs are R3GAN's biases before each activation.
        self.expand = nn.Conv2d(channels, wide, 1)
        self.mix = nn.Conv2d(wide, wide, 3, padding=1, groups=wide // group_size)
        self.project = nn.Conv2d(wide, channels, 1, bias=False)
        he_init(self.expand, GAIN * scale)
        he_init(self.mix, GAIN * scale)
        he_init(self.project, 0.0)  # the block starts as the identity

    def forward(self, x: Tensor) -> Tensor:
        h = F.leaky_relu(self.expand(x), LEAK)
        return x + self.project(F.leaky_relu(self.mix(h), LEAK))


class Resample(nn.Module):
    """Bilinear x2 up or /2 down: the fixed [1, 3, 3, 1] filter (R3GAN's lowpass) as a depthwise
    strided conv or transposed conv, so the double backward of R1 and R2 passes through it."""

    def __init__(self, up: bool) -> None:
        super().__init__()
        self.up = up
        taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
        kernel = torch.outer(taps, taps) / taps.sum() ** 2 * (4 if up else 1)  # x4: zeros between
        self.register_buffer("kernel", kernel[None, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        c = x.shape[1]
        kernel = self.kernel.to(x.dtype).expand(c, 1, 4, 4)
        if self.up:
            return F.conv_transpose2d(x, kernel, stride=2, padding=1, groups=c)
        return F.conv2d(x, kernel, stride=2, padding=1, groups=c)


def stage_widths(size: int, width: int) -> list[int]:
    """Channels of each stage, coarsest first: `width` up to 16 px, halved per octave above."""
    s0, k = base_side(size)
    widths = []
    for side in (s0 * 2**i for i in range(k + 1)):
        octaves = 0
        while side > 16:
            side, octaves = side / 2, octaves + 1
        widths.append(width // 2**octaves)
    return widths


class Generator(nn.Module):
    def __init__(
        self, z_dim: int, shape: tuple[int, ...], widths: list[int], blocks: int, **block: int
    ) -> None:
        super().__init__()
        s0, _ = base_side(shape[1])
        scale = (blocks * len(widths)) ** -0.25
        self.basis = nn.Parameter(torch.randn(widths[0], s0, s0))
        self.modulation = nn.Linear(z_dim, widths[0], bias=False)
        he_init(self.modulation, 1.0)
        stages = []
        for i, w in enumerate(widths):
            layers: list[nn.Module] = []
            if i:
                if widths[i - 1] != w:  # narrow at the coarse side: the cheaper order
                    layers.append(pointwise(widths[i - 1], w))
                layers.append(Resample(up=True))
            layers += [Block(w, scale=scale, **block) for _ in range(blocks)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.to_image = pointwise(widths[-1], shape[0])

    def forward(self, z: Tensor) -> Tensor:
        h = self.basis * self.modulation(z.flatten(1))[:, :, None, None]
        return torch.tanh(self.to_image(self.stages(h)))


class Discriminator(nn.Module):
    def __init__(self, shape: tuple[int, ...], widths: list[int], blocks: int, **block: int):
        super().__init__()
        s0, _ = base_side(shape[1])
        scale = (blocks * len(widths)) ** -0.25
        widths = widths[::-1]  # finest first
        self.from_image = pointwise(shape[0], widths[0])
        stages = []
        for i, w in enumerate(widths):
            layers: list[nn.Module] = [Block(w, scale=scale, **block) for _ in range(blocks)]
            if i + 1 < len(widths):
                layers.append(Resample(up=False))
                if widths[i + 1] != w:  # widen at the coarse side: the cheaper order
                    layers.append(pointwise(w, widths[i + 1]))
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.basis = nn.Conv2d(widths[-1], widths[-1], s0, groups=widths[-1], bias=False)
        he_init(self.basis, 1.0)
        self.head = nn.Linear(widths[-1], 1, bias=False)  # the last layer: D's features feed it
        he_init(self.head, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        h = self.basis(self.stages(self.from_image(x))).flatten(1)
        return self.head(h).flatten()


@NETS.register("r3gan", traits=("zero_init",))
def r3gan(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 48,  # one G+D step at batch 64, 28 px: ~2.5-3x dcgan's on a CPU
    blocks: int = 1,
    group_size: int = 8,
    expansion: int = 2,
) -> nn.Module:
    """R3GAN's modern ConvNet G/D (grouped inverted bottlenecks, no norm) for 28/32/64 px."""
    if num_classes > 0:
        raise ValueError("r3gan takes no labels (use dcgan or mlp for conditional recipes)")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"r3gan needs square images (C, S, S), got shape {shape}")
    if shape[1] not in SIDES:
        raise BadInput(
            f'network "r3gan" is built for 28, 32 or 64 px images, not {shape[1]}: set data.size '
            f"to one of them, or use nets dcgan."
        )
    if min(width, blocks, group_size, expansion) < 1:
        raise ValueError("width, blocks, group_size and expansion must be >= 1")
    widths = stage_widths(shape[1], width)
    for w in widths:
        if w < 1 or w * expansion % group_size:
            raise ValueError(
                f"a stage {w} wide x expansion {expansion} is not a multiple of group_size "
                f"{group_size}: pick a width that is (stages above 16 px are halved)"
            )
    block = {"expansion": expansion, "group_size": group_size}
    if role == "g":
        return Generator(z_dim, shape, widths, blocks, **block)
    return Discriminator(shape, widths, blocks, **block)
