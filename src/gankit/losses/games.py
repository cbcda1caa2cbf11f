"""The games: each a pair of pure functions of the discriminator's raw outputs (logits).

Written on logits with softplus, since log(sigmoid(t)) = -softplus(-t) and
log(1 - sigmoid(t)) = -softplus(t) stay finite where the probabilities would round to 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.registry import Registry

LOSSES = Registry("loss")


@dataclass(frozen=True)
class Game:
    """D's and G's objectives on D's logits: `d_loss(D(x), D(G(z)))`, `g_loss(D(G(z)), D(x))`.

    Only a relativistic game's G loss reads D(x); the others take it and ignore it, or go without.
    A flag rather than a second G-loss field, so that every game keeps one G loss called one way
    and a recipe runs D on real data in G's step only when `relativistic` asks for it.
    """

    d_loss: Callable[[Tensor, Tensor], Tensor]  # (D(x), D(G(z))) -> scalar D minimises
    g_loss: Callable[..., Tensor]  # D(G(z)) [, D(x) if relativistic] -> scalar G minimises
    probabilistic: bool  # D's output is the logit of P(real); D(x) is reported as sigmoid
    default_penalty: str | None = None  # what loss.penalty "auto" means for this game
    # D's loss with real target 1 - s (one-sided label smoothing); None: the game has no target
    d_loss_at: Callable[[Tensor, Tensor, float], Tensor] | None = None
    saturates: bool = False  # G's loss flattens where D wins (the original minimax game)
    relativistic: bool = False  # both losses compare paired D(x)_i and D(G(z))_i (RpGAN)

    def __post_init__(self) -> None:
        # Losses are computed in float32 even when the networks run under bf16 autocast.
        d_loss, g_loss = self.d_loss, self.g_loss
        object.__setattr__(self, "d_loss", lambda real, fake: d_loss(real.float(), fake.float()))
        if not self.relativistic:
            object.__setattr__(self, "g_loss", lambda fake, real=None: g_loss(fake.float()))
            return

        def paired_g_loss(fake: Tensor, real: Tensor | None = None) -> Tensor:
            if real is None:
                raise ValueError("a relativistic game's G loss needs D(x): call g_loss(fake, real)")
            return g_loss(fake.float(), real.float())

        object.__setattr__(self, "g_loss", paired_g_loss)

    def with_label_smoothing(self, s: float) -> Game:
        """This game with D's real target 1 - s (fakes keep theirs); s = 0 is the game itself."""
        if not s:
            return self
        if self.d_loss_at is None:
            raise ValueError("this game has no real target to smooth")
        at = self.d_loss_at
        return replace(self, d_loss=lambda real, fake: at(real, fake, 1 - s))


def bce_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: D as a real/fake classifier."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def bce_d_loss_at(real: Tensor, fake: Tensor, target: float) -> Tensor:
    """Cross-entropy with real target t on a logit: t softplus(-l) + (1 - t) softplus(l)."""
    real_term = target * F.softplus(-real) + (1 - target) * F.softplus(real)
    return real_term.mean() + F.softplus(fake).mean()


def lsgan_d_loss_at(real: Tensor, fake: Tensor, target: float) -> Tensor:
    """0.5 E[(D(x) - t)^2] + 0.5 E[D(G(z))^2]: least squares with real target t."""
    return 0.5 * ((real - target) ** 2).mean() + 0.5 * (fake**2).mean()


@LOSSES.register("minimax")
def minimax() -> Game:
    """The original game: G minimises E[log(1 - D(G(z)))] (saturates when D wins)."""
    return Game(
        bce_d_loss,
        lambda fake: -F.softplus(fake).mean(),
        probabilistic=True,
        d_loss_at=bce_d_loss_at,
        saturates=True,
    )


@LOSSES.register("non-saturating")
def non_saturating() -> Game:
    """G minimises -E[log D(G(z))]: strong gradients early in training (Goodfellow et al.)."""
    return Game(
        bce_d_loss,
        lambda fake: F.softplus(-fake).mean(),
        probabilistic=True,
        d_loss_at=bce_d_loss_at,
    )


@LOSSES.register("lsgan")
def lsgan() -> Game:
    """Least squares (Mao et al.): D -> 1 on real, 0 on fake; G pulls D(G(z)) to 1."""
    return Game(
        lambda real, fake: lsgan_d_loss_at(real, fake, 1.0),
        lambda fake: 0.5 * ((fake - 1) ** 2).mean(),
        probabilistic=False,
        d_loss_at=lsgan_d_loss_at,
    )


def wasserstein_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)]: the critic's estimate of the Wasserstein-1 distance, negated."""
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


@LOSSES.register("wgan")
def wgan() -> Game:
    """Wasserstein GAN (Arjovsky et al.): no sigmoid, no log; Lipschitz by weight clipping."""
    return Game(wasserstein_d_loss, wasserstein_g_loss, probabilistic=False, default_penalty="clip")


@LOSSES.register("wgan-gp")
def wgan_gp() -> Game:
    """Wasserstein GAN with a gradient penalty on interpolates (Gulrajani et al., lambda 10)."""
    return Game(wasserstein_d_loss, wasserstein_g_loss, probabilistic=False, default_penalty="gp")


@LOSSES.register("hinge")
def hinge() -> Game:
    """Hinge loss (Lim & Ye; SNGAN, BigGAN): D max-margin on +-1, G raises D(G(z))."""
    return Game(
        lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean(),
        wasserstein_g_loss,
        probabilistic=False,
    )


def relativistic_pair_loss(first: Tensor, second: Tensor) -> Tensor:
    """E[softplus(second_i - first_i)] = -E[log sigmoid(first_i - second_i)] over the pairs i:
    the loss of the player that wants its first batch judged more real than the second."""
    return F.softplus(second - first).mean()


@LOSSES.register("rpgan")
def rpgan() -> Game:
    """Relativistic pairing game (RpGAN, R3GAN's loss): D(x_i) against D(G(z_i)), pair by pair."""
    # D minimises E[softplus(D(G(z)_i) - D(x_i))] and G the same with the roles swapped, so one
    # function serves both (d_loss(real, fake), g_loss(fake, real)). With R1 + R2 it converges
    # locally (Huang et al. 2024). D's output is a score whose differences are logits: reported
    # raw, and with no real target that label smoothing could move.
    return Game(
        relativistic_pair_loss,
        relativistic_pair_loss,
        probabilistic=False,
        default_penalty="r1r2",
        relativistic=True,
    )


def d_output_mean(game: Game, logits: Tensor) -> Tensor:
    """What a user reads as D(x): a probability for probabilistic games, the raw score otherwise."""
    return torch.sigmoid(logits).mean() if game.probabilistic else logits.mean()
