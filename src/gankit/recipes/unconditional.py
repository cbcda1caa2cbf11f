"""The classic GAN: G(z) against D(x), for every game, network and penalty."""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.losses import d_output_mean
from gankit.recipes.base import RECIPES, Recipe


@RECIPES.register("unconditional")
class Unconditional(Recipe):
    """Unconditional GAN: n_critic D steps, then one G step (pytorch/examples dcgan maths)."""

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.G, self.D = self.build_net("g"), self.build_net("d")
        self.modules.update(g=self.G, d=self.D)
        self.optimizers.update(
            g=self.optimizer(self.G, cfg.optim.lr_g), d=self.optimizer(self.D, cfg.optim.lr_d)
        )
        self.add_ema()

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        n_critic = self.cfg.train.n_critic
        for i in range(n_critic):
            real, _ = stream.next()
            # Only the last fake batch needs a graph: the G step reuses it (one G forward).
            with torch.set_grad_enabled(i == n_critic - 1):
                fake = self.G(self.noise(len(real)))
            stats = self.d_update(real, fake.detach())
        return stats | self.g_update(fake)

    def d_update(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        real_logits, fake_logits = self.D(real), self.D(fake)
        loss = self.game.d_loss(real_logits, fake_logits)
        if self.penalty.term is not None:
            loss = loss + self.cfg.loss.penalty_weight * self.penalty.term(
                self.D, real, fake, self.rng
            )
        self.update("d", loss)
        if self.penalty.constraint is not None:
            self.penalty.constraint(self.D, self.cfg.loss.clip)
        return {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real_logits.detach()),
            "d_fake": d_output_mean(self.game, fake_logits.detach()),
        }

    def g_update(self, fake: Tensor) -> dict[str, Tensor]:
        self.D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        loss = self.game.g_loss(self.D(fake))
        self.update("g", loss)
        self.D.requires_grad_(True)
        self.update_ema()
        return {"g_loss": loss.detach()}
