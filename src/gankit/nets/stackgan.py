"""StackGAN's networks (Zhang et al. 2017), sized for small images: conditioning augmentation,
a stage-I generator (text + noise -> low resolution), a stage-II generator (stage-I image + text
-> full resolution) and a matching-aware discriminator D(x, text) for either stage.

All take a text embedding (B, text_dim) from a gankit.nets.text encoder.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.nets.dcgan import Generator, conv_layers, dcgan_init
from gankit.nets.registry import NETS


class CondAugment(nn.Module):
    """Conditioning augmentation: c ~ N(mu(e), diag(sigma(e)^2)) around the text embedding e.

    Sampling c instead of using e itself gives G many codes per caption (smoother conditioning
    manifold from few captions); the KL term keeps that Gaussian near N(0, I).
    """

    def __init__(self, text_dim: int, c_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(text_dim, 2 * c_dim)

    def forward(self, e: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """(c, mu, logvar); without eps, c = mu (generation uses the mean code)."""
        mu, logvar = self.fc(e).chunk(2, dim=1)
        c = mu if eps is None else mu + torch.exp(0.5 * logvar) * eps
        return c, mu, logvar


def kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)), summed over dimensions, averaged over the batch."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1).mean()


class Stage1Generator(nn.Module):
    """G1(z, e): a DCGAN generator on [z, c] at the stage-I resolution."""

    def __init__(self, z_dim: int, shape: tuple[int, ...], text_dim: int, c_dim: int, width: int):
        super().__init__()
        self.ca = CondAugment(text_dim, c_dim)
        self.body = Generator(z_dim + c_dim, shape, width, "nearest", "batch")

    def forward(self, z: Tensor, e: Tensor, eps: Tensor | None = None):
        """(image, mu, logvar)."""
        c, mu, logvar = self.ca(e, eps)
        return self.body(torch.cat([z, c], 1)), mu, logvar


def conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]


class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn_relu(channels, channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.body(x))


class Stage2Generator(nn.Module):
    """G2(x1, e): encode the stage-I image, join the text code as planes, residual blocks, then
    upsample by 2 per block to the full resolution (StackGAN's stage II, narrower)."""

    def __init__(self, shape: tuple[int, ...], text_dim: int, c_dim: int, width: int, factor: int):
        super().__init__()
        channels = shape[0]
        self.ca = CondAugment(text_dim, c_dim)
        self.encode = nn.Sequential(*conv_bn_relu(channels, width))
        self.join = nn.Sequential(
            *conv_bn_relu(width + c_dim, width), Residual(width), Residual(width)
        )
        ups: list[nn.Module] = []
        for _ in range(int(math.log2(factor))):
            ups += [nn.Upsample(scale_factor=2, mode="nearest"), *conv_bn_relu(width, width)]
        self.up = nn.Sequential(*ups, nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, low: Tensor, e: Tensor, eps: Tensor | None = None):
        """(image, mu, logvar)."""
        c, mu, logvar = self.ca(e, eps)
        h = self.encode(low)
        planes = c[:, :, None, None].expand(-1, -1, *h.shape[2:])
        return self.up(self.join(torch.cat([h, planes], 1))), mu, logvar


class TextDiscriminator(nn.Module):
    """Matching-aware D(x, e): DCGAN conv features of x, joined with the compressed text as planes.

    `features` and `joint` are separate so one pass over the real images scores them both with
    their own captions (real) and with wrong captions (mismatched: to be called fake).

    With `match`, D also has a sentence-matching head (AttnGAN's sentence-level DAMSM, learned
    here alongside D rather than pretrained): image and caption are each projected to a code, and
    `similarity` gives every image's cosine with every caption of the batch.
    """

    def __init__(
        self, shape: tuple[int, ...], text_dim: int, width: int, code: int = 32, match: bool = False
    ) -> None:
        super().__init__()
        self.features, c_out, s0 = conv_layers(shape[0], shape[1], width, "batch")
        self.text = nn.Sequential(nn.Linear(text_dim, code), nn.LeakyReLU(0.2, True))
        self.head = nn.Sequential(
            nn.Conv2d(c_out + code, c_out, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(c_out, 1, s0),
        )
        if match:
            self.match_image = nn.Conv2d(c_out, code, s0)
            self.match_text = nn.Linear(text_dim, code)

    def similarity(self, h: Tensor, e: Tensor) -> Tensor:
        """(B, B) cosines: image i's code (from features h) against caption j's code."""
        image = F.normalize(self.match_image(h).flatten(1), dim=1)
        return image @ F.normalize(self.match_text(e), dim=1).T

    def joint(self, h: Tensor, e: Tensor) -> Tensor:
        planes = self.text(e)[:, :, None, None].expand(-1, -1, *h.shape[2:])
        return self.head(torch.cat([h, planes], 1)).flatten()

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        return self.joint(self.features(x), e)


@NETS.register("stackgan")
def stackgan(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    stage: int = 1,
    text_dim: int = 64,
    c_dim: int = 32,
    width: int = 32,
    factor: int = 2,
    match: bool = False,
) -> nn.Module:
    """StackGAN stage-I / stage-II G (text-conditioned) and matching-aware D (recipe stackgan).

    `shape` is the stage's output; stage II's input is `factor` times smaller (a power of two).
    `match` gives D the sentence-matching head (recipe option match_weight > 0).
    """
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"stackgan needs square images (C, S, S), got shape {shape}")
    if stage not in (1, 2) or factor < 2 or factor & (factor - 1):
        raise ValueError(f"stage must be 1 or 2 and factor a power of two, got {stage}, {factor}")
    if role == "d":
        net: nn.Module = TextDiscriminator(shape, text_dim, width, match=match)
    elif stage == 1:
        net = Stage1Generator(z_dim, shape, text_dim, c_dim, width)
    else:
        net = Stage2Generator(shape, text_dim, c_dim, width, factor)
    net.apply(dcgan_init)
    return net
