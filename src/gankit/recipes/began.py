"""BEGAN (Berthelot et al. 2017): boundary equilibrium between an auto-encoder D and G.

With L(v) = E|v - D(v)| (L1 reconstruction loss of D's auto-encoder):
    D minimises L(x) - k_t L(G(z))
    G minimises L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
gamma = E[L(G(z))] / E[L(x)] is the equilibrium D is steered to (lower: sharper, less diverse);
M_global = L(x) + |gamma L(x) - L(G(z))| measures convergence and is logged every step.
k_t lives in a buffer of `modules["state"]`, so checkpoints carry it and resume is exact.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.config import Config
from gankit.core.state import RecipeState
from gankit.data import DataSpec
from gankit.errors import BadInput
from gankit.recipes.base import RECIPES, Recipe, read_options
from gankit.stabilisers import active_stabilisers


def reconstruction_loss(d: nn.Module, x: Tensor) -> Tensor:
    """L(x) = E|x - D(x)|, averaged over pixels too (the paper's L1 with eta = 1)."""
    return (x - d(x)).abs().mean()


def next_k(k: Tensor, l_real: Tensor, l_fake: Tensor, gamma: float, lambda_k: float) -> Tensor:
    """The proportional control step of k_t, kept in [0, 1]."""
    return (k + lambda_k * (gamma * l_real - l_fake)).clamp(0.0, 1.0)


def convergence(l_real: Tensor, l_fake: Tensor, gamma: float) -> Tensor:
    """M_global: falls as D reconstructs real data well and the equilibrium holds."""
    return l_real + (gamma * l_real - l_fake).abs()


@RECIPES.register("began")
class BEGAN(Recipe):
    """BEGAN: auto-encoder D (nets.d: began), L1 reconstruction game, k_t equilibrium control."""

    options = {"gamma": 0.5, "lambda_k": 0.001, "k_init": 0.0}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.opts = read_options(cfg, self.options)
        check_began_config(cfg)
        self.G, self.D = self.build_net("g"), self.build_net("d")
        self.state = RecipeState(k=self.opts["k_init"]).to(device)
        self.modules.update(g=self.G, d=self.D, state=self.state)
        self.optimizers.update(
            g=self.optimizer(self.G, cfg.optim.lr_g), d=self.optimizer(self.D, cfg.optim.lr_d)
        )

    def fake(self, batch: tuple[Tensor, Tensor | None]) -> Tensor:
        return self.G(self.noise(len(batch[0])))

    def d_loss(self, batch: tuple[Tensor, Tensor | None], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises L(x) - k_t L(G(z)); k_t then takes its control step."""
        k = self.state.k.to(batch[0].dtype)
        l_real, l_fake = reconstruction_loss(self.D, batch[0]), reconstruction_loss(self.D, fake)
        gamma = self.opts["gamma"]
        # G's loss does not read k_t, so its step can follow D's at once
        self.state.set(
            "k", next_k(k, l_real.detach(), l_fake.detach(), gamma, self.opts["lambda_k"])
        )
        return l_real - k * l_fake, {
            "d_real": l_real.detach(),  # reconstruction losses: what D "says" about each batch
            "d_fake": l_fake.detach(),
            "k_t": k,
            "m_global": convergence(l_real.detach(), l_fake.detach(), gamma),
        }

    def g_loss(self, batch: tuple[Tensor, Tensor | None], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises L(G(z))."""
        return reconstruction_loss(self.D, fake), {}


def check_began_config(cfg: Config) -> None:
    """BEGAN has its own game: reject settings it would silently ignore."""
    if cfg.nets.d != "began":
        raise BadInput(
            f"recipe began needs an auto-encoder discriminator: set nets.d: began "
            f'(not "{cfg.nets.d}").'
        )
    if cfg.train.n_critic != 1:
        raise BadInput("recipe began updates D and G once per step: set train.n_critic: 1.")
    if cfg.loss.penalty not in ("auto", "none"):
        raise BadInput("recipe began has no gradient penalty: set loss.penalty: auto.")
    on = active_stabilisers(cfg)
    if on:
        raise BadInput(
            f"recipe began does not apply stabilisers ({', '.join(on)}): remove them, or use "
            f"recipe: unconditional."
        )
