"""The classic GAN: G(z) against D(x), for every game, network and penalty."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.losses import d_output_mean
from gankit.recipes.base import RECIPES, Recipe, read_options
from gankit.stabilisers import Stabilisers
from gankit.train import distributed


@RECIPES.register("unconditional")
class Unconditional(Recipe):
    """Unconditional GAN: n_critic D steps, then one G step (pytorch/examples dcgan maths)."""

    supports_distributed = True
    options: dict[str, Any] = {}  # recipe_options with defaults (issue 6: subclasses add theirs)

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        # none here: a key there is a mistake, not silently ignored
        self.opts = read_options(cfg, self.options)
        g, d = self.build_net("g"), self.build_net("d")
        self.modules.update(g=g, d=d)
        # issue 6: before the optimisers (minibatch discrimination adds weights to D)
        self.stab = Stabilisers(cfg, self.modules, spec.shape, self.rng)
        if self.stab.on and distributed.world() > 1:  # their draws are not global-batch draws
            raise BadInput("stabilisers do not run under torchrun yet: switch them off there.")
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.add_ema()
        self.G, self.D = self.wrap(g), self.wrap(d)

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        n_critic = self.cfg.train.n_critic
        for i in range(n_critic):
            real, _ = stream.next()
            # Only the last fake batch needs a graph: the G step reuses it (one G forward).
            with torch.set_grad_enabled(i == n_critic - 1):
                fake = self.G(self.noise(len(real)))
            stats = self.d_update(real, fake.detach())
        return stats | self.g_update(fake, real)

    def d_update(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        real_in, fake_in = self.stab.inputs(real, fake)  # issue 6: the same tensors when off
        real_logits, fake_logits = self.D(real_in), self.D(fake_in)
        loss = self.stab.d_loss(self.game.d_loss)(real_logits, fake_logits)
        for term in self.stab.d_terms():  # issue 6: none when off
            loss = loss + term
        if self.penalty.term is not None:  # no zero tensor added on the hot path without one
            # The eager D (not the compiled one); under DDP its gradients are still reduced.
            loss = loss + self.penalty_of(self.modules["d"], real, fake)
        self.update("d", loss)
        if self.penalty.constraint is not None:
            self.penalty.constraint(self.D, self.cfg.loss.clip)
        return {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real_logits.detach()),
            "d_fake": d_output_mean(self.game, fake_logits.detach()),
        }

    def g_update(self, fake: Tensor, real: Tensor | None = None) -> dict[str, Tensor]:
        self.D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        (fake_in,) = self.stab.inputs(fake)  # issue 6: the same tensor when off
        with distributed.no_sync(self.D):
            loss = self.game.g_loss(self.D(fake_in))
            for term in self.stab.g_terms(self.D, real, fake_in):  # issue 6: none when off
                loss = loss + term
        self.update("g", loss)
        self.D.requires_grad_(True)
        self.update_ema()
        self.stab.after_step()
        return {"g_loss": loss.detach()}
