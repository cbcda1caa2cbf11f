"""What the image-to-image recipes share (pix2pix, cyclegan, stargan, cogan): the data layout
they need, per-domain image shapes, translating generators, the examples their sample grids show,
and `translate` for `gankit translate`.

Sample grids: the trainer saves `recipe.generate(fixed_noise)`. A translation has no latent, so
`generate(z)` returns len(z) *triplets* instead, each one image of three panels side by side
(input | output | reconstruction or target), from examples of the first training batch kept in a
buffer (so checkpoints carry them and a resumed run draws the same grids).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gankit import nets
from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.data.translation import layout
from gankit.errors import BadInput, closest
from gankit.recipes.base import Recipe, read_options

N_EXAMPLES = 64
LAYOUT_DATA = {
    "paired": "a paired dataset (edges2items, aligned-folder)",
    "unpaired": "an unpaired dataset (items2inverted, items2edges, unpaired-folder)",
    "labelled": "a labelled dataset whose labels are domains (item-domains, image-folder with "
    "one sub-folder per domain)",
}


class Examples(nn.Module):
    """The first `n` training items (and labels), kept once, as buffers."""

    def __init__(self, n: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("x", torch.zeros(n, *shape))
        self.register_buffer("y", torch.zeros(n, dtype=torch.long))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        self.full: bool | None = None  # a Python copy of count > 0, so training never reads it

    @torch.no_grad()
    def keep(self, x: Tensor, y: Tensor | None) -> None:
        if self.full is None:  # first call, after any resume restored the buffers
            self.full = int(self.count) > 0
        if self.full:
            return
        self.full = True
        n = min(len(x), len(self.x))
        self.x[:n].copy_(x[:n])
        if y is not None:
            self.y[:n].copy_(y[:n])
        self.count.fill_(n)

    def take(self, n: int) -> tuple[Tensor, Tensor]:
        """n examples, cycling over the kept ones (zeros before the first step)."""
        idx = torch.arange(n, device=self.x.device) % max(int(self.count), 1)
        return self.x[idx], self.y[idx]


class TranslationRecipe(Recipe):
    """Base of the translation recipes. Subclasses set `layout` and `options`, build their
    networks, and implement their losses, `panels` (a sample triplet) and `translate`."""

    layout = "paired"  # paired | unpaired | labelled
    samples_from_noise = False  # G maps an input image, so `gankit sample` has nothing to draw
    options: dict[str, Any] = {}
    domains: tuple[str, ...] = ("A", "B")

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.opts = read_options(cfg, self.options)
        check_layout(cfg, spec, self.layout)
        c, h, w = spec.shape
        # two domains stacked on the channels, or one image per item
        self.image_shape = (c // 2, h, w) if self.layout != "labelled" else (c, h, w)
        if self.layout == "labelled":
            self.domains = tuple(spec.class_names)
        self.examples = Examples(N_EXAMPLES, spec.shape).to(device)
        self.modules["examples"] = self.examples

    # -- building ---------------------------------------------------------------------------
    def build_translator(self, num_classes: int = 0) -> nn.Module:
        """nets.g as an image -> image generator of one domain's shape."""
        n = self.cfg.nets
        if not nets.NETS.has(n.g, "translates"):
            raise BadInput(
                f'recipe {self.cfg.recipe} needs an image -> image generator, not "{n.g}": '
                f"set nets.g to unet or resnet-translator."
            )
        net = nets.build(n.g, "g", self.image_shape, n.z_dim, num_classes, **n.g_options)
        return net.to(self.device)

    def build_critic(self, channels: int, num_classes: int = 0) -> nn.Module:
        """nets.d for images of `channels` channels (2C: pix2pix's [input, output] pairs)."""
        n = self.cfg.nets
        shape = (channels, *self.image_shape[1:])
        return nets.build(n.d, "d", shape, n.z_dim, num_classes, **n.d_options).to(self.device)

    def pair_optimizer(self, first: nn.Module, second: nn.Module, lr: float):
        """One optimiser over two networks (CycleGAN's two Gs, or two Ds), as in the paper."""
        return self.optimizer(nn.ModuleList([first, second]), lr)

    # -- training helpers -------------------------------------------------------------------
    def next_batch(self, stream: BatchStream) -> tuple[Tensor, Tensor | None]:
        x, y = stream.next()
        self.examples.keep(x, y)
        return x, y

    def draw(self, stream: BatchStream) -> tuple[Tensor, Tensor | None]:
        return self.next_batch(stream)

    def after_restore(self) -> None:
        super().after_restore()
        self.examples.full = None

    # -- using ------------------------------------------------------------------------------
    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """The three images of a sample triplet for stored items x (labels y)."""
        raise NotImplementedError

    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        """Images of one domain in [-1, 1] -> their translation into domain `to`."""
        raise NotImplementedError

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """len(z) triplets (input | output | reconstruction or target), side by side."""
        x, y = self.examples.take(len(z))
        with evaluating(self.modules.values()):
            return torch.cat(self.panels(x, y), dim=3)

    def domain_index(self, to: str | None, default: str | None = None) -> int:
        """The index of a domain named by `--to` (case-insensitive), with the choices on error."""
        to = to if to is not None else default
        names = [d.casefold() for d in self.domains]
        if to is None or to.casefold() not in names:
            raise BadInput(
                f'--to "{to}": no such domain for this {self.cfg.recipe} run.'
                f"{closest(str(to), self.domains)} Domains: {', '.join(self.domains)}."
            )
        return names.index(to.casefold())


class evaluating:
    """Put modules in eval mode for a block (dropout off, norms on running stats), then back."""

    def __init__(self, modules) -> None:
        self.modules = list(modules)

    def __enter__(self) -> None:
        self.modes = [m.training for m in self.modules]
        for m in self.modules:
            m.eval()

    def __exit__(self, *exc: object) -> None:
        for m, mode in zip(self.modules, self.modes):
            m.train(mode)


def check_layout(cfg: Config, spec: DataSpec, wanted: str) -> None:
    """BadInput unless the dataset has the layout the recipe trains on."""
    got = layout(spec.name) or ("labelled" if spec.num_classes >= 2 else "plain")
    if spec.kind != "image" or got != wanted:
        what = {"paired": "paired domains", "unpaired": "unpaired domains"}.get(got, "")
        raise BadInput(
            f'recipe {cfg.recipe} trains on {LAYOUT_DATA[wanted]}, but dataset "{spec.name}" '
            f"{'holds ' + what if what else 'is not one'}: change data.name"
            + (" or use recipe cyclegan for unpaired domains." if wanted == "paired" else ".")
        )
