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
from gankit.recipes.base import Recipe, read_options
from gankit.recipes.translation import N_EXAMPLES, Examples, evaluating
from gankit.train.step import Stats


class ContentGAN(Recipe):
    """Base of srgan and colourise. Subclasses build modules g and d (then call
    `build_optimizers`) and implement `condition`, `shown` (the condition as a picture) and, if
    D sees more than the image, `critic_input`."""

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

    def build_optimizers(self) -> None:
        """Optimisers once a subclass has put g and d in self.modules (the engine adds the EMA)."""
        g, d = self.modules["g"], self.modules["d"]
        self.optimizers.update(
            g=self.optimizer(g, self.cfg.optim.lr_g), d=self.optimizer(d, self.cfg.optim.lr_d)
        )
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

    def critic_of(self, c: Tensor):
        """D with its condition bound: image -> D(c, image) (for the gradient penalties too)."""
        return lambda image, **kw: self.D(self.critic_input(c, image), **kw)

    def draw(self, stream: BatchStream) -> tuple[Tensor, Tensor]:
        """(G's input c, the target y) of a training batch, whose items the grids may keep."""
        x, y = stream.next()
        self.examples.keep(x, y)
        return self.condition(x)

    def d_due(self) -> bool:
        return self.opts["adversarial"]  # false: the content-only baseline, G's phase alone

    def fake(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        return self.G(batch[0])

    def d_loss(self, batch: tuple[Tensor, Tensor], fake: Tensor) -> tuple[Tensor, Stats]:
        """D minimises game.d_loss(D(c, y), D(c, G(c))) + penalty."""
        c, real = batch
        critic = self.critic_of(c)
        real_logits, fake_logits = critic(real), critic(fake)
        loss = self.game.d_loss(real_logits, fake_logits) + self.penalty_of(critic, real, fake)
        return loss, self.d_outputs(real_logits, fake_logits)

    def g_loss(self, batch: tuple[Tensor, Tensor], fake: Tensor) -> tuple[Tensor, Stats]:
        """G minimises content_weight * content(G(c), y)
        [+ adversarial_weight * game.g_loss(D(c, G(c)))]."""
        c, real = batch
        o = self.opts
        distance = self.content_term()(fake, real)
        loss = o["content_weight"] * distance
        if o["adversarial"]:
            loss = loss + o["adversarial_weight"] * self.game.g_loss(self.critic_of(c)(fake))
        return loss, {"content": distance.detach()}

    # -- using ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """len(z) triplets (condition | output | target) of kept training items, side by side."""
        x, _ = self.examples.take(len(z))
        c, target = self.condition_of(x)
        g = self.generator_net("g", ema)
        with evaluating([g]):
            return torch.cat([self.shown(c), g(c), target], dim=3)

    def condition_of(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The condition of stored items as a picture grid shows it (no training randomness)."""
        return self.condition(x)
