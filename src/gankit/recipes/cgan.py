"""Conditional GAN (Mirza & Osindero 2014): G(z, y) against D(x, y), for every game and penalty."""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data import DataSpec
from gankit.losses import d_output_mean
from gankit.recipes.base import RECIPES
from gankit.recipes.conditional import LabelledRecipe


@RECIPES.register("cgan")
class CGAN(LabelledRecipe):
    """Conditional GAN: labels fed to G and D (one-hot joined to D's input; Mirza & Osindero)."""

    head = "concat"

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.build_conditional_pair()

    def d_update(self, real: Tensor, y: Tensor, fake: Tensor, y_fake: Tensor) -> dict[str, Tensor]:
        real_logits, fake_logits = self.D(real, y), self.D(fake, y_fake)
        # The penalty's critic sees the real labels: D(., y) is the function being smoothed.
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(
            lambda x: self.D(x, y), real, fake
        )
        self.descend("d", loss)
        return {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real_logits.detach()),
            "d_fake": d_output_mean(self.game, fake_logits.detach()),
        }

    def g_update(self, fake: Tensor, y_fake: Tensor) -> dict[str, Tensor]:
        self.D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        loss = self.game.g_loss(self.D(fake, y_fake))
        self.descend("g", loss)
        self.D.requires_grad_(True)
        self.update_ema()
        return {"g_loss": loss.detach()}
