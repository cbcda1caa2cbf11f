"""pix2pix (Isola et al. 2017): paired translation A -> B with a conditional GAN and L1.

G: a U-Net (nets.g: unet). D: a PatchGAN (nets.d: patchgan) on [input, image] concatenated, so it
judges whether an output fits its input, not just whether it looks real.
    D minimises  game.d_loss(D(a, b), D(a, G(a)))
    G minimises  game.g_loss(D(a, G(a))) + l1 * |G(a) - b|      (l1 = 100 in the paper)
recipe_options: l1 (weight of the L1 term), adversarial (false trains the L1-only U-Net baseline
with the same networks and budget).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.losses import d_output_mean
from gankit.recipes.base import RECIPES
from gankit.recipes.translation import TranslationRecipe, evaluating


def l1_loss(fake: Tensor, target: Tensor) -> Tensor:
    return (fake - target).abs().mean()


@RECIPES.register("pix2pix")
class Pix2Pix(TranslationRecipe):
    """pix2pix: U-Net G, PatchGAN D on (input, output) pairs, adversarial + L1 (lambda 100)."""

    layout = "paired"
    options = {"l1": 100.0, "adversarial": True}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        g, d = self.build_translator(), self.build_critic(2 * self.image_shape[0])
        self.modules.update(g=g, d=d)
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = self.wrap(g), self.wrap(d)

    def critic(self, a: Tensor):
        """D with its input image bound: x -> D([a, x]) (for the gradient penalties too)."""
        return lambda x: self.D(torch.cat([a, x], 1))

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        if not self.opts["adversarial"]:
            a, b = split(self.next_batch(stream)[0])
            return self.g_update(a, b, self.G(a))
        n_critic = self.cfg.train.n_critic
        for i in range(n_critic):
            a, b = split(self.next_batch(stream)[0])
            with torch.set_grad_enabled(i == n_critic - 1):  # only the G step's fake needs a graph
                fake = self.G(a)
            stats = self.d_update(a, b, fake.detach())
        return stats | self.g_update(a, b, fake)

    def d_update(self, a: Tensor, b: Tensor, fake: Tensor) -> dict[str, Tensor]:
        critic = self.critic(a)
        real_logits, fake_logits = critic(b), critic(fake)
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(critic, b, fake)
        self.descend("d", loss, self.D)
        return {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real_logits.detach()),
            "d_fake": d_output_mean(self.game, fake_logits.detach()),
        }

    def g_update(self, a: Tensor, b: Tensor, fake: Tensor) -> dict[str, Tensor]:
        l1 = l1_loss(fake, b)
        loss = self.opts["l1"] * l1
        if self.opts["adversarial"]:
            self.D.requires_grad_(False)  # gradients through D's input only
            loss = loss + self.game.g_loss(self.critic(a)(fake))
        self.update("g", loss)
        self.D.requires_grad_(True)
        return {"g_loss": loss.detach(), "l1": l1.detach()}

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        a, b = split(x)
        return [a, self.modules["g"](a), b]  # input | output | target

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        if self.domain_index(to, default="B") != 1:
            raise BadInput("--to A: a pix2pix run translates domain A into B only: use --to B.")
        with evaluating([self.modules["g"]]):
            return self.modules["g"](x)
