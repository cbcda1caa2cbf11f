"""Losses in one home: the games (D's and G's objectives on D's outputs), the penalties on D,
and the content terms translation recipes add (L1 / cycle, MIND structure, PatchNCE).

    from gankit.losses import LOSSES, Game        # games by name (loss.name)
    from gankit.losses import PENALTIES, Penalty  # penalties and constraints (loss.penalty)
    from gankit.losses import l1_loss, structure_loss, PatchNCE
"""

from gankit.losses.content import l1_loss
from gankit.losses.games import (
    LOSSES,
    Game,
    bce_d_loss,
    bce_d_loss_at,
    d_output_mean,
    hinge,
    lsgan,
    lsgan_d_loss_at,
    minimax,
    non_saturating,
    relativistic_pair_loss,
    rpgan,
    wasserstein_d_loss,
    wasserstein_g_loss,
    wgan,
    wgan_gp,
)
from gankit.losses.patchnce import PatchNCE
from gankit.losses.structure import mind, structure_loss
from gankit.penalties import PENALTIES, Penalty

__all__ = [
    "LOSSES",
    "PENALTIES",
    "Game",
    "PatchNCE",
    "Penalty",
    "bce_d_loss",
    "bce_d_loss_at",
    "d_output_mean",
    "hinge",
    "l1_loss",
    "lsgan",
    "lsgan_d_loss_at",
    "mind",
    "minimax",
    "non_saturating",
    "relativistic_pair_loss",
    "rpgan",
    "structure_loss",
    "wasserstein_d_loss",
    "wasserstein_g_loss",
    "wgan",
    "wgan_gp",
]
