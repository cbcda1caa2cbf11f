"""Regularisers of the discriminator: gradient penalties added to its loss, or a weight constraint.

Each penalty term takes `critic`, a function x -> D's logits (a closure, so a conditional recipe
can bind its labels), the real and the fake batch, and a torch.Generator for its randomness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.core import distributed
from gankit.registry import Registry

PENALTIES = Registry("penalty")
Critic = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Penalty:
    term: Callable[[Critic, Tensor, Tensor, torch.Generator], Tensor] | None = None
    constraint: Callable[[nn.Module, float], None] | None = None  # applied to D after its step


def input_gradient(critic: Critic, x: Tensor) -> Tensor:
    """dD/dx per sample, kept in the graph so the penalty itself can be back-propagated."""
    x = x.detach().float().requires_grad_(True)
    with torch.autocast(x.device.type, enabled=False):  # penalties in float32 under bf16 autocast
        (grad,) = torch.autograd.grad(critic(x).float().sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, g: torch.Generator) -> Tensor:
    """E[(||grad D(x_hat)|| - 1)^2] on random interpolates x_hat of real and fake."""
    shape = (len(real),) + (1,) * (real.dim() - 1)
    eps = distributed.draw("uniform", shape, g, real.device)
    x_hat = eps * real.detach() + (1 - eps) * fake.detach()
    return ((input_gradient(critic, x_hat).norm(dim=1) - 1) ** 2).mean()


def zero_centred(critic: Critic, *batches: Tensor) -> Tensor:
    """0.5 * sum over the batches of E[||grad D(x)||^2]: R1 on real data, R2 on fakes."""
    return 0.5 * sum(input_gradient(critic, x).pow(2).sum(1).mean() for x in batches)


def r1_penalty(critic: Critic, real: Tensor, fake: Tensor, g: torch.Generator) -> Tensor:
    """0.5 E[||grad D(x)||^2] on real data (Mescheder et al. 2018)."""
    return zero_centred(critic, real)


def r1r2_penalty(critic: Critic, real: Tensor, fake: Tensor, g: torch.Generator) -> Tensor:
    """0.5 (E[||grad D(x)||^2] + E[||grad D(G(z))||^2]): R1 and R2 (Huang et al. 2024)."""
    return zero_centred(critic, real, fake)


def dragan_penalty(critic: Critic, real: Tensor, fake: Tensor, g: torch.Generator) -> Tensor:
    """E[(||grad D(x + delta)|| - 1)^2] around real data (Kodali et al. 2017)."""
    noise = distributed.draw("uniform", tuple(real.shape), g, real.device)
    x = real.detach() + 0.5 * real.detach().std() * noise
    return ((input_gradient(critic, x).norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(d: nn.Module, bound: float) -> None:
    """Clamp every weight of D to [-bound, bound] (the original WGAN's Lipschitz constraint)."""
    for p in d.parameters():
        p.clamp_(-bound, bound)


@PENALTIES.register("gp")
def gp() -> Penalty:
    """WGAN-GP gradient penalty on real/fake interpolates (weight: loss.penalty_weight, 10)."""
    return Penalty(term=gradient_penalty)


@PENALTIES.register("r1")
def r1() -> Penalty:
    """R1: squared gradient norm on real data; helps GANs converge (weight gamma)."""
    return Penalty(term=r1_penalty)


@PENALTIES.register("r1r2")
def r1r2() -> Penalty:
    """R1 + R2: zero-centred gradient norms on real and fake data, R3GAN's (weight gamma)."""
    return Penalty(term=r1r2_penalty)


@PENALTIES.register("dragan")
def dragan() -> Penalty:
    """DRAGAN: gradient penalty around perturbed real data, against mode collapse."""
    return Penalty(term=dragan_penalty)


@PENALTIES.register("clip")
def clip() -> Penalty:
    """Weight clipping to [-loss.clip, loss.clip] after every D step (original WGAN)."""
    return Penalty(constraint=clip_weights)


@PENALTIES.register("none")
def none() -> Penalty:
    """No penalty."""
    return Penalty()
