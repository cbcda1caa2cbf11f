"""Conditional GAN (Mirza & Osindero 2014): G(z, y) against D(x, y), for every game and penalty."""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data import DataSpec
from gankit.recipes.base import RECIPES
from gankit.recipes.conditional import LabelledRecipe


@RECIPES.register("cgan")
class CGAN(LabelledRecipe):
    """Conditional GAN: labels fed to G and D (one-hot joined to D's input; Mirza & Osindero)."""

    head = "concat"
    real_in_g_loss = True

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.build_conditional_pair()

    def d_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises game.d_loss(D(x, y), D(G(z, c), c)) + the penalty of D(., y)."""
        real, y, c = batch
        real_logits, fake_logits = self.D(real, y), self.D(fake, c)
        # The penalty's critic sees the real labels: D(., y) is the function being smoothed.
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(
            lambda x: self.D(x, y), real, fake
        )
        return loss, self.d_outputs(real_logits, fake_logits)

    def g_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises game.g_loss(D(G(z, c), c)), or game.g_loss(D(G(z, c), c), D(x, y)) for a
        relativistic game."""
        real, y, c = batch
        if not self.game.relativistic:
            return self.game.g_loss(self.D(fake, c)), {}
        # the pairs mix classes (R3GAN's conditional loss does too); D(x, y) builds no graph
        return self.game.g_loss(self.D(fake, c), self.D(real, y)), {}
