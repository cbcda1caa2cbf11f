"""What the label-aware recipes share (cgan, projection, acgan, semi-supervised): a labelled
dataset, G and D built with the head each family needs, labels drawn for fakes, recipe options,
and the per-class sample grid the trainer saves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit import nets
from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.recipes.base import Recipe, read_options


class LabelledRecipe(Recipe):
    """A recipe that trains on the dataset's labels.

    Subclasses set `head` (D's conditioning: concat | projection | aux | classes), `conditional`
    (whether G takes labels, so `sample --class` works) and `options` (recipe_options and their
    defaults).
    """

    head = "concat"
    conditional = True
    options: dict[str, Any] = {}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        if spec.num_classes == 0:
            raise BadInput(
                f'recipe {cfg.recipe} trains on labels, but dataset "{spec.name}" has none: '
                f"use a labelled dataset (digits, mnist, fashion-mnist, cifar10, an image folder "
                f"with one sub-folder per class) or recipe: unconditional."
            )
        self.num_classes = spec.num_classes
        self.opts = read_options(cfg, self.options)

    # -- building ---------------------------------------------------------------------------
    def build_labelled(self, role: str) -> nn.Module:
        """G(z, y) or D with this family's head (the recipe owns nets.d_options.conditioning)."""
        n = self.cfg.nets
        options = dict(n.g_options if role == "g" else n.d_options)
        if role == "d":
            asked = options.setdefault("conditioning", self.head)
            if asked != self.head:
                raise BadInput(
                    f"recipe {self.cfg.recipe} sets its discriminator's head itself "
                    f"({self.head}), but nets.d_options.conditioning is {asked}: remove it."
                )
        net = nets.build(
            getattr(n, role), role, self.spec.shape, n.z_dim, self.num_classes, **options
        )
        return net.to(self.device)

    def add_optimizers(self) -> None:
        self.optimizers.update(
            g=self.optimizer(self.modules["g"], self.cfg.optim.lr_g),
            d=self.optimizer(self.modules["d"], self.cfg.optim.lr_d),
        )

    def build_conditional_pair(self) -> None:
        """G(z, y) and D with this family's head, and their optimisers (cgan, acgan)."""
        self.G, self.D = self.build_labelled("g"), self.build_labelled("d")
        self.modules.update(g=self.G, d=self.D)
        self.add_optimizers()

    def draw(self, stream: BatchStream) -> tuple[Tensor, Tensor, Tensor]:
        """(real, its labels, classes c for the fakes: uniform, from the run's stream)."""
        real, y = stream.next()
        return real, y, self.fake_labels(len(real))

    def fake(self, batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        real, _, c = batch
        return self.G(self.noise(len(real)), c)

    # -- training helpers -------------------------------------------------------------------
    def fake_labels(self, n: int) -> Tensor:
        """Classes for a fake batch, uniform (the recipe's random stream, so resume is exact)."""
        return torch.randint(self.num_classes, (n,), device=self.device, generator=self.rng)

    # -- using ------------------------------------------------------------------------------
    def balanced_labels(self, n: int) -> Tensor:
        """0, 1, ..., K-1, 0, 1, ...: every class equally often (up to one)."""
        return torch.arange(n, device=self.device) % self.num_classes

    def save_extra_pictures(self, z: Tensor, samples: Path, step: int) -> None:
        """A grid with one row per class, the same latents down each column (conditional G)."""
        per_class = 10
        if not self.conditional:
            return
        labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(per_class)
        images = self.generate(z[:per_class].repeat(self.num_classes, 1), labels).float().cpu()
        if images.dim() != 4:  # toy points have no picture grid
            return
        path = samples / f"classes-step-{step:08d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        from torchvision.utils import save_image  # slow import: only when saving

        save_image(images, path, nrow=per_class, normalize=True, value_range=(-1, 1), padding=1)

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """Samples from G; a conditional G without labels draws a balanced spread of classes."""
        if self.conditional and labels is None:
            labels = self.balanced_labels(len(z))
        return super().generate(z, labels if self.conditional else None, ema)
