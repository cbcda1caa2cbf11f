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
from gankit.data import BatchStream, DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.losses import d_output_mean
from gankit.recipes.base import RECIPES
from gankit.recipes.state import RecipeState
from gankit.recipes.translation import TranslationRecipe, evaluating


def l1_loss(fake: Tensor, target: Tensor) -> Tensor:
    return (fake - target).abs().mean()


@RECIPES.register("pix2pix")
class Pix2Pix(TranslationRecipe):
    """pix2pix: U-Net G, PatchGAN D on (input, output) pairs, adversarial + L1 (lambda 100)."""

    layout = "paired"
    options = {"l1": 100.0, "adversarial": True, "feature_matching": 0.0, "adversarial_every": 1}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        g, d = self.build_translator(), self.build_critic(2 * self.image_shape[0])
        self.modules.update(g=g, d=d)
        self.add_ema("g")
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
        self.d_stats: dict[str, Tensor] = {}  # D's last, logged on the L1-only steps too
        if self.matches and not getattr(d, "gives_taps", False):
            raise BadInput(
                f"recipe_options.feature_matching compares the hidden layers of D, which "
                f'"{cfg.nets.d}" does not return: set nets.d to patchgan, or feature_matching to 0.'
            )

    def critic(self, a: Tensor):
        """D with its input image bound: x -> D([a, x]) (for the gradient penalties too)."""
        return lambda x, **kw: self.D(torch.cat([a, x], 1), **kw)

    def adversarial_due(self) -> bool:
        """Every step, or with adversarial_every = k one step in k, weighted k (the others L1
        only, a quarter of the cost here): lazy, like StyleGAN2's lazy R1."""
        return self.one_in(self.every, "clock", "steps")

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        if not self.opts["adversarial"] or not self.adversarial_due():
            a, b = split(self.next_batch(stream)[0])
            return self.d_stats | self.g_update(a, b, self.G(a), [], weight=0.0)
        n_critic = self.cfg.train.n_critic
        for i in range(n_critic):
            a, b = split(self.next_batch(stream)[0])
            with torch.set_grad_enabled(i == n_critic - 1):  # only the G step's fake needs a graph
                fake = self.G(a)
            self.d_stats, real_taps = self.d_update(a, b, fake.detach())
        return self.d_stats | self.g_update(a, b, fake, real_taps, weight=float(self.every))

    def d_update(self, a: Tensor, b: Tensor, fake: Tensor) -> tuple[dict[str, Tensor], list]:
        """D's step; also D's hidden activations on the real pairs, for feature matching."""
        critic = self.critic(a)
        real_logits, real_taps = critic(b, taps=True) if self.matches else (critic(b), [])
        fake_logits = critic(fake)
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(critic, b, fake)
        self.descend("d", loss, self.D)
        stats = {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real_logits.detach()),
            "d_fake": d_output_mean(self.game, fake_logits.detach()),
        }
        return stats, [t.detach() for t in real_taps]

    def g_update(
        self, a: Tensor, b: Tensor, fake: Tensor, real_taps: list, weight: float
    ) -> dict[str, Tensor]:
        l1 = l1_loss(fake, b)
        loss, stats = self.opts["l1"] * l1, {"l1": l1.detach()}
        if weight:
            self.D.requires_grad_(False)  # gradients through D's input only
            critic = self.critic(a)
            if self.matches:  # the real pairs' activations are from D before its step: free
                logits, taps = critic(fake, taps=True)
                fm = sum(l1_loss(f, r) for f, r in zip(taps, real_taps)) / len(taps)
                loss = loss + weight * self.opts["feature_matching"] * fm
                stats["feature_matching"] = fm.detach()
            else:
                logits = critic(fake)
            loss = loss + weight * self.game.g_loss(logits)
        self.update("g", loss)
        self.update_ema("g")
        self.D.requires_grad_(True)
        return {"g_loss": loss.detach()} | stats

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        a, b = split(x)
        return [a, self.averaged()(a), b]  # input | output | target

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        if self.domain_index(to, default="B") != 1:
            raise BadInput("--to A: a pix2pix run translates domain A into B only: use --to B.")
        g = self.averaged()
        with evaluating([g]):
            return g(x)
