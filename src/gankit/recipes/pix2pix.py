"""pix2pix (Isola et al. 2017): paired translation A -> B with a conditional GAN and L1.

G: a U-Net (nets.g: unet). D: a PatchGAN (nets.d: patchgan) on [input, image] concatenated, so it
judges whether an output fits its input, not just whether it looks real.
    D minimises  game.d_loss(D(a, b), D(a, G(a)))
    G minimises  game.g_loss(D(a, G(a))) + l1 * |G(a) - b|      (l1 = 100 in the paper)
                 + feature_matching * mean_k |D_k(a, G(a)) - D_k(a, b)|    (pix2pixHD; 0: off)
recipe_options: l1 (weight of the L1 term), adversarial (false trains the L1-only U-Net baseline
with the same networks and budget), feature_matching (weight of pix2pixHD's term, over the
PatchGAN's hidden layers D_k; pix2pixHD uses 10), adversarial_every (k: D's step and G's GAN
terms on one step in k, weighted k; the other steps train on L1 alone, at about a quarter of the
cost on a CPU).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.core.state import RecipeState
from gankit.data import DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.losses import l1_loss
from gankit.nets import NETS
from gankit.recipes.base import RECIPES
from gankit.recipes.translation import TranslationRecipe, evaluating


@RECIPES.register("pix2pix")
class Pix2Pix(TranslationRecipe):
    """pix2pix: U-Net G, PatchGAN D on (input, output) pairs, adversarial + L1 (lambda 100)."""

    layout = "paired"
    options = {"l1": 100.0, "adversarial": True, "feature_matching": 0.0, "adversarial_every": 1}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        g, d = self.build_translator(), self.build_critic(2 * self.image_shape[0])
        self.modules.update(g=g, d=d)
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = self.wrap(g), self.wrap(d)
        self.matches = self.opts["feature_matching"] > 0
        self.every = self.opts["adversarial_every"]
        if self.every < 1:
            raise BadInput("recipe_options.adversarial_every must be >= 1 (1: every step).")
        if self.every > 1:  # counts steps for the lazy adversarial term; checkpointed
            self.modules["clock"] = RecipeState(steps=0).to(device)
        self.real_taps: list[Tensor] = []  # D's hidden layers on the real pairs, from D's phase
        if self.matches and not NETS.has(cfg.nets.d, "taps"):
            raise BadInput(
                f"recipe_options.feature_matching compares the hidden layers of D, which "
                f'"{cfg.nets.d}" does not return: set nets.d to patchgan, or feature_matching to 0.'
            )

    def critic_of(self, a: Tensor):
        """D with its input image bound: x -> D([a, x]) (for the gradient penalties too)."""
        return lambda x, **kw: self.D(torch.cat([a, x], 1), **kw)

    def d_due(self) -> bool:
        """Every step, or with adversarial_every = k one step in k, weighted k (the others L1
        only, a quarter of the cost here): lazy, like StyleGAN2's lazy R1."""
        return self.opts["adversarial"] and self.one_in(self.every, "clock", "steps")

    def fake(self, batch: tuple[Tensor, Tensor | None]) -> Tensor:
        return self.G(split(batch[0])[0])

    def d_loss(self, batch: tuple[Tensor, Tensor | None], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises game.d_loss(D(a, b), D(a, G(a))) (+ the penalty); it also keeps D's
        hidden activations on the real pairs, for feature matching."""
        a, b = split(batch[0])
        critic = self.critic_of(a)
        real_logits, real_taps = critic(b, taps=True) if self.matches else (critic(b), [])
        fake_logits = critic(fake)
        self.real_taps = [t.detach() for t in real_taps]
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(critic, b, fake)
        return loss, self.d_outputs(real_logits, fake_logits)

    def g_loss(self, batch: tuple[Tensor, Tensor | None], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises l1 |G(a) - b| (+ k game.g_loss(D(a, G(a))) + k feature matching on the
        steps D trained, k = adversarial_every)."""
        a, b = split(batch[0])
        l1 = l1_loss(fake, b)
        loss, stats = self.opts["l1"] * l1, {"l1": l1.detach()}
        if self.d_ran:
            weight = float(self.every)
            critic = self.critic_of(a)
            if self.matches:  # the real pairs' activations are from D before its step: free
                logits, taps = critic(fake, taps=True)
                fm = sum(l1_loss(f, r) for f, r in zip(taps, self.real_taps)) / len(taps)
                loss = loss + weight * self.opts["feature_matching"] * fm
                stats["feature_matching"] = fm.detach()
            else:
                logits = critic(fake)
            loss = loss + weight * self.game.g_loss(logits)
        return loss, stats

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        a, b = split(x)
        return [a, self.generator_net()(a), b]  # input | output | target

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        if self.domain_index(to, default="B") != 1:
            raise BadInput("--to A: a pix2pix run translates domain A into B only: use --to B.")
        g = self.generator_net()
        with evaluating([g]):
            return g(x)
