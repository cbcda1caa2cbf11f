"""What SRGAN and colourisation share: G maps a condition made from each training image (its
low-resolution or grey version) back to the image, under an adversarial term and a registered
content term (`gankit.content`). With recipe_options.adversarial false the same networks train
on the content term alone: SRResNet, or the L1-only U-Net, the baselines the GANs are judged by.
    D minimises  game.d_loss(D(c, y), D(c, G(c)))    (+ the configured gradient penalty)
    G minimises  content_weight * content(G(c), y) + adversarial_weight * game.g_loss(D(c, G(c)))
where D(c, .) is what `critic_input` shows D (the image alone for SRGAN, [grey, image] for the
colouriser). Sample grids show triplets, condition | output | target, of kept training items.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gankit import content
from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.losses import d_output_mean
from gankit.recipes.base import Recipe, read_options
from gankit.recipes.translation import N_EXAMPLES, Examples, evaluating


class ContentGAN(Recipe):
    """Base of srgan and colourise. Subclasses build modules g and d (then call `finish`) and
    implement `condition`, `shown` (the condition as a picture) and, if D sees more than the
    image, `critic_input`."""

    samples_from_noise = False  # G maps an input image; `gankit sample` has nothing to draw
    options: dict[str, Any] = {
        "content": "pixel-l2",
        "content_options": {},
        "content_weight": 1.0,
        "adversarial": True,
        "adversarial_weight": 1e-3,  # SRGAN's 10^-3 against a VGG content term
    }

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.opts = read_options(cfg, self.options)
        self.examples = Examples(N_EXAMPLES, spec.shape).to(device)
        self.modules["examples"] = self.examples
        self._content: nn.Module | None = None  # built at the first step: sampling needs none

    def finish(self) -> None:
        """Optimisers and EMA once g and d are in self.modules."""
        g, d = self.modules["g"], self.modules["d"]
        self.optimizers.update(
            g=self.optimizer(g, self.cfg.optim.lr_g), d=self.optimizer(d, self.cfg.optim.lr_d)
        )
        self.add_ema()
        self.G, self.D = self.wrap(g), self.wrap(d)

    # -- what subclasses say ----------------------------------------------------------------
    def condition(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """A training batch (as the data holds it) -> (G's input c, the target image y)."""
        raise NotImplementedError

    def shown(self, c: Tensor) -> Tensor:
        """The condition as a picture of the target's shape, for sample grids."""
        raise NotImplementedError

    def critic_input(self, c: Tensor, image: Tensor) -> Tensor:
        return image

    # -- the maths --------------------------------------------------------------------------
    def content_term(self) -> nn.Module:
        if self._content is None:
            o = self.opts
            term = content.build(
                o["content"], self.cfg.data, self.spec.shape[0], o["content_options"]
            )
            self._content = term.to(self.device)
        return self._content

    def critic(self, c: Tensor):
        return lambda image, **kw: self.D(self.critic_input(c, image), **kw)

    def d_loss(self, c: Tensor, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """game.d_loss(D(c, y), D(c, G(c))) + penalty."""
        critic = self.critic(c)
        real_logits, fake_logits = critic(real), critic(fake)
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(critic, real, fake)
        return loss, {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real_logits.detach()),
            "d_fake": d_output_mean(self.game, fake_logits.detach()),
        }

    def g_loss(self, c: Tensor, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """content_weight * content(G(c), y) [+ adversarial_weight * game.g_loss(D(c, G(c)))]."""
        o = self.opts
        distance = self.content_term()(fake, real)
        loss, stats = o["content_weight"] * distance, {"content": distance.detach()}
        if o["adversarial"]:
            loss = loss + o["adversarial_weight"] * self.game.g_loss(self.critic(c)(fake))
        return loss, stats | {"g_loss": loss.detach()}

    # -- the glue ---------------------------------------------------------------------------
    def batch(self, stream: BatchStream) -> tuple[Tensor, Tensor]:
        x, y = stream.next()
        self.examples.keep(x, y)
        return self.condition(x)

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        stats: dict[str, Tensor] = {}
        if not self.opts["adversarial"]:
            c, real = self.batch(stream)
            fake = self.G(c)
        n_critic = self.cfg.train.n_critic if self.opts["adversarial"] else 0
        for i in range(n_critic):
            c, real = self.batch(stream)
            with torch.set_grad_enabled(i == n_critic - 1):  # only the G step's fake needs a graph
                fake = self.G(c)
            loss, stats = self.d_loss(c, real, fake.detach())
            self.update("d", loss)
            if self.penalty.constraint is not None:
                self.penalty.constraint(self.D, self.cfg.loss.clip)
        self.D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        loss, g_stats = self.g_loss(c, real, fake)
        self.update("g", loss)
        self.D.requires_grad_(True)
        self.update_ema()
        return stats | g_stats

    # -- using ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """len(z) triplets (condition | output | target) of kept training items, side by side."""
        x, _ = self.examples.take(len(z))
        c, target = self.condition_of(x)
        g = self.averaged() if ema else self.modules["g"]
        with evaluating([g]):
            return torch.cat([self.shown(c), g(c), target], dim=3)

    def condition_of(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The condition of stored items as a picture grid shows it (no training randomness)."""
        return self.condition(x)
