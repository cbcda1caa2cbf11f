"""Style-based generator (StyleGAN; Karras et al. 2019), sized for 28/32/64-pixel images.

z -> mapping MLP -> w; a learned constant s0 x s0 map is refined by pairs of layers per resolution,
each layer: (nearest x2) conv3x3 -> + per-pixel noise (learned per-channel scale) -> LeakyReLU ->
AdaIN(w) (instance norm, then a per-channel scale and bias computed from w). Every layer takes its
own copy of w, so styles can mix: in training, with probability `mixing`, the layers from a
random cut on take the w of another latent (the batch's next one). Truncation: in eval mode,
w -> w_avg + psi (w - w_avg), with w_avg the running mean of w over training.

The per-layer noise and the mixing draws come from a torch.Generator seeded by the latents
themselves: G stays a function of z (the same z gives the same image, so sample export and a
resumed run are exact) while the noise varies from latent to latent as intended.
The paper's D is ProGAN's: pair this G with nets.d: progressive (or resnet / dcgan).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from gankit.errors import BadInput
from gankit.nets.dcgan import base_side
from gankit.nets.layers import PixelNorm, equalize
from gankit.nets.registry import NETS


def latent_stream(z: Tensor) -> torch.Generator:
    """A random stream that is a function of the latents (their summed magnitude)."""
    seed = int(z.detach().double().abs().sum().mul(1e6).item()) % (2**63 - 1)
    return torch.Generator(device=z.device).manual_seed(seed)


def mapping_network(z_dim: int, w_dim: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = [PixelNorm()]
    for i in range(layers):
        mods += [equalize(nn.Linear(z_dim if i == 0 else w_dim, w_dim)), nn.LeakyReLU(0.2)]
    return nn.Sequential(*mods)


class AdaIN(nn.Module):
    """Instance-normalise x, then scale by (1 + a(w)) and shift by b(w), per channel."""

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels)
        self.style = equalize(nn.Linear(w_dim, 2 * channels), gain=1)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        scale, bias = self.style(w)[:, :, None, None].chunk(2, 1)
        return self.norm(x) * (1 + scale) + bias


class StyleLayer(nn.Module):
    """(upsample) conv -> noise -> LeakyReLU -> AdaIN; `conv` False for the constant's layer."""

    def __init__(self, channels: int, w_dim: int, conv: bool, up: bool) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest") if up else nn.Identity()
        self.conv = equalize(nn.Conv2d(channels, channels, 3, 1, 1)) if conv else nn.Identity()
        self.noise_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.act = nn.LeakyReLU(0.2)
        self.adain = AdaIN(channels, w_dim)

    def forward(self, x: Tensor, w: Tensor, g: torch.Generator) -> Tensor:
        x = self.conv(self.up(x))
        noise = torch.randn(len(x), 1, *x.shape[2:], device=x.device, dtype=x.dtype, generator=g)
        return self.adain(self.act(x + self.noise_scale * noise), w)


class Generator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        shape: tuple[int, ...],
        width: int,
        w_dim: int,
        mapping_layers: int,
        mixing: float,
    ) -> None:
        super().__init__()
        s0, k = base_side(shape[1])
        self.mapping = mapping_network(z_dim, w_dim, mapping_layers)
        self.const = nn.Parameter(torch.randn(1, width, s0, s0))
        layers = [StyleLayer(width, w_dim, conv=False, up=False)]
        layers.append(StyleLayer(width, w_dim, conv=True, up=False))
        for _ in range(k):
            layers += [StyleLayer(width, w_dim, True, True), StyleLayer(width, w_dim, True, False)]
        self.layers = nn.ModuleList(layers)
        self.to_rgb = equalize(nn.Conv2d(width, shape[0], 1), gain=1)
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.mixing, self.truncation, self.w_avg_decay = mixing, 1.0, 0.995

    @property
    def num_styles(self) -> int:
        return len(self.layers)

    def synthesize(self, ws: Tensor, g: torch.Generator) -> Tensor:
        """Images from per-layer styles ws (B, num_styles, w_dim)."""
        x = self.const.expand(len(ws), -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i], g)
        return torch.tanh(self.to_rgb(x))

    def mixed(self, w1: Tensor, w2: Tensor, cut: Tensor) -> Tensor:
        """Per-layer styles: w1 for layers before each sample's `cut`, w2 from it on."""
        layer = torch.arange(self.num_styles, device=w1.device)
        take_first = (layer[None, :] < cut[:, None])[..., None]
        return torch.where(take_first, w1[:, None], w2[:, None])

    def mix(self, z1: Tensor, z2: Tensor, cut: int) -> Tensor:
        """Style mixing: z1's styles for the first `cut` layers (coarse), z2's for the rest."""
        cuts = torch.full((len(z1),), cut, device=z1.device)
        ws = self.truncate(self.mixed(self.mapping(z1), self.mapping(z2), cuts))
        return self.synthesize(ws, latent_stream(z1))

    def truncate(self, ws: Tensor) -> Tensor:
        if self.training or self.truncation == 1.0:
            return ws
        return torch.lerp(self.w_avg, ws, self.truncation)

    def styles(self, z: Tensor, g: torch.Generator) -> Tensor:
        w = self.mapping(z.flatten(1))
        if not self.training:
            return self.truncate(w[:, None].expand(-1, self.num_styles, -1))
        with torch.no_grad():
            self.w_avg.lerp_(w.mean(0), 1 - self.w_avg_decay)
        n = len(z)
        cut = torch.randint(1, self.num_styles, (n,), device=z.device, generator=g)
        mixing = torch.rand(n, device=z.device, generator=g) < self.mixing
        cut = torch.where(mixing, cut, torch.full_like(cut, self.num_styles))
        return self.mixed(w, self.mapping(z.flatten(1).roll(1, 0)), cut)

    def forward(self, z: Tensor) -> Tensor:
        g = latent_stream(z)
        return self.synthesize(self.styles(z, g), g)


@contextmanager
def truncation(nets: Iterable[nn.Module], psi: float) -> Iterator[None]:
    """Sample with the truncation trick: every style generator among `nets` uses psi."""
    generators = [m for net in nets for m in net.modules() if isinstance(m, Generator)]
    if not generators:
        raise BadInput(
            f"--truncation {psi} needs a style-based generator (nets.g: style); this run's G "
            f"has none: drop --truncation."
        )
    before = [g.truncation for g in generators]
    for g in generators:
        g.truncation = psi
    try:
        yield
    finally:
        for g, psi_before in zip(generators, before):
            g.truncation = psi_before


@NETS.register("style")
def style(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    width: int = 64,
    w_dim: int = 128,
    mapping_layers: int = 4,
    mixing: float = 0.9,
) -> nn.Module:
    """StyleGAN G (mapping net, AdaIN, noise, style mixing); a generator only."""
    if role != "g":
        raise ValueError("style is a generator only: use nets.d: progressive, resnet or dcgan")
    if num_classes > 0:
        raise ValueError("style takes no labels")
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"style needs square images (C, S, S), got shape {shape}")
    if not 0 <= mixing <= 1:
        raise ValueError(f"mixing {mixing} is a probability: use a value in [0, 1]")
    return Generator(z_dim, shape, width, w_dim, mapping_layers, mixing)
