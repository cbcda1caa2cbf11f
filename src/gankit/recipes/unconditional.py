"""The classic GAN: G(z) against D(x), for every game, network and penalty."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from gankit.config import Config
from gankit.core import distributed
from gankit.data import DataSpec
from gankit.errors import BadInput
from gankit.recipes.base import RECIPES, Recipe, read_options
from gankit.stabilisers import Stabilisers


@RECIPES.register("unconditional")
class Unconditional(Recipe):
    """Unconditional GAN: n_critic D steps, then one G step (pytorch/examples dcgan maths)."""

    supports_distributed = True
    real_in_g_loss = True
    options: dict[str, Any] = {}  # recipe_options with defaults (subclasses add theirs)

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        # none here: a key there is a mistake, not silently ignored
        self.opts = read_options(cfg, self.options)
        g, d = self.build_net("g"), self.build_net("d")
        self.modules.update(g=g, d=d)
        # before the optimisers: minibatch discrimination adds weights to D
        self.stab = Stabilisers(cfg, self.modules, spec.shape, self.rng)
        if self.stab.on and distributed.world() > 1:  # their draws are not global-batch draws
            raise BadInput("stabilisers do not run under torchrun yet: switch them off there.")
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = self.wrap(g), self.wrap(d)

    def fake(self, batch: tuple[Tensor, Tensor | None]) -> Tensor:
        return self.G(self.noise(len(batch[0])))

    def d_loss(self, batch: tuple[Tensor, Tensor | None], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises game.d_loss(D(x), D(G(z))) (+ the stabilisers' terms, + the penalty)."""
        real = batch[0]
        real_in, fake_in = self.stab.inputs(real, fake)  # the same tensors when off
        real_logits, fake_logits = self.D(real_in), self.D(fake_in)
        loss = self.stab.d_loss(self.game)(real_logits, fake_logits)
        for term in self.stab.d_terms():  # none when off
            loss = loss + term
        if self.penalty.term is not None:  # no zero tensor added on the hot path without one
            # The eager D (not the compiled one); under DDP its gradients are still reduced.
            loss = loss + self.penalty_of(self.modules["d"], real, fake)
        paired = fake_logits if self.game.relativistic else None  # ADA's r_t reads pairs then
        return loss, self.d_outputs(real_logits, fake_logits) | self.stab.observe_real(
            real_logits, paired
        )

    def g_loss(self, batch: tuple[Tensor, Tensor | None], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises game.g_loss(D(G(z))), or game.g_loss(D(G(z)), D(x)) for a relativistic
        game (+ the stabilisers' terms)."""
        if self.game.relativistic:  # D(x) as D's own step sees it, paired with the fakes by row
            real_in, fake_in = self.stab.inputs(batch[0], fake)
            # no graph is built for D(x): D's weights are frozen in G's phase
            loss = self.game.g_loss(self.D(fake_in), self.D(real_in))
        else:
            (fake_in,) = self.stab.inputs(fake)  # the same tensor when off
            loss = self.game.g_loss(self.D(fake_in))
        for term in self.stab.g_terms(self.D, batch[0], fake_in):  # none when off
            loss = loss + term
        return loss, {}

    def end_step(self) -> None:
        self.stab.after_step()

    def after_restore(self) -> None:
        super().after_restore()
        self.stab.noise_step = None
