"""Auxiliary-classifier GAN (Odena et al. 2017): D also names the class, and G is rewarded for
images D classifies as the class it was asked for.

With L_S the game's loss on the real/fake head and L_C = CE(C(x), y) + CE(C(G(z, c)), c):
D minimises L_S + w L_C, G minimises its game loss + w CE(C(G(z, c)), c).
With `fakes_teach_classes: false`, D's L_C keeps only its real term: D and G can then no longer
agree on a class look of their own that real images of that class do not have.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.config import Config
from gankit.data import DataSpec
from gankit.recipes.base import RECIPES
from gankit.recipes.conditional import LabelledRecipe


def class_loss(class_logits: Tensor, labels: Tensor) -> Tensor:
    """-E[log P(C = y | x)]: softmax cross-entropy of D's class head."""
    return F.cross_entropy(class_logits, labels)


@RECIPES.register("acgan")
class ACGAN(LabelledRecipe):
    """ACGAN: D has a real/fake head and a softmax class head; G and D both learn the class loss."""

    head = "aux"
    options = {
        "class_weight": 1.0,  # w: the class loss against the game's
        "fakes_teach_classes": True,  # D's class loss includes (G(z, c), c), as in Odena et al.
    }

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.build_conditional_pair()

    def d_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises L_S + w L_C (+ the penalty)."""
        real, y, c = batch
        (real_logits, real_classes), (fake_logits, fake_classes) = (
            self.D.heads(real),
            self.D.heads(fake),
        )
        l_s = self.game.d_loss(real_logits, fake_logits)
        l_c = class_loss(real_classes, y)
        if self.opts["fakes_teach_classes"]:
            l_c = l_c + class_loss(fake_classes, c)
        loss = l_s + self.opts["class_weight"] * l_c + self.penalty_of(self.D, real, fake)
        return loss, {
            "d_class_loss": l_c.detach(),
            "d_class_acc": (real_classes.argmax(1) == y).float().mean(),
        } | self.d_outputs(real_logits, fake_logits)

    def g_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises its game loss + w CE(C(G(z, c)), c)."""
        logits, classes = self.D.heads(fake)
        l_c = class_loss(classes, batch[2])
        loss = self.game.g_loss(logits) + self.opts["class_weight"] * l_c
        return loss, {"g_class_loss": l_c.detach()}
