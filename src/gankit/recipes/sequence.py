"""Sequence GAN on the shared engine: the unconditional game over one-hot token rows, with each
latent carrying the generator's Gumbel noise.

The training step is the unconditional recipe's (D on real vs generated rows, G through D's
gradient), since straight-through Gumbel-softmax makes generated tokens differentiable (why that
and not REINFORCE: gankit.nets.sequence). What this recipe adds is where the sampling noise comes
from: `noise(n)` returns [z, normal variates that G turns into Gumbel noise], drawn from the run's
random stream, so `gankit sample --seed` is reproducible and `gankit resume` exact.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.core import distributed
from gankit.data import DataSpec
from gankit.errors import BadInput
from gankit.recipes.base import RECIPES
from gankit.recipes.unconditional import Unconditional


@RECIPES.register("sequence")
class SequenceGAN(Unconditional):
    """Sequence GAN: GRU G with straight-through Gumbel-softmax tokens vs a GRU D (Dyck toy)."""

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        if spec.kind != "points" or len(spec.shape) != 1:
            raise BadInput(
                f'recipe sequence trains on one-hot token rows, not "{spec.name}": use '
                f"data.name: grammar."
            )
        super().__init__(cfg, spec, device)
        self.token_noise = spec.shape[0]  # one Gumbel variate per position and token

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        width = self.cfg.nets.z_dim + self.token_noise
        if generator is not None:
            return torch.randn(n, width, device=self.device, generator=generator)
        return distributed.draw("normal", (n, width), self.rng, self.device)
