"""StarGAN (Choi et al. 2018): one generator for every pair of K domains.

G(x, c): a translator conditioned on the target domain c (nets.g: resnet-translator or unet, the
one-hot c joined as planes). D(x) -> (patch realness, K domain logits) (nets.d: patchgan).
    D minimises  game.d_loss(D_src(x), D_src(G(x, c))) + cls * CE(D_cls(x), c_x) + GP
    G minimises  game.g_loss(D_src(G(x, c))) + cls * CE(D_cls(G(x, c)), c)
                 + rec * |G(G(x, c), c_x) - x|
With loss.name: wgan-gp this is the paper's WGAN-GP objective (gp weight: loss.penalty_weight).
Targets c are drawn uniformly from the recipe's random stream. Data: any labelled image set whose
labels are domains (item-domains; image-folder with one sub-folder per domain).
recipe_options: cls (1), rec (10).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.losses import d_output_mean
from gankit.recipes.base import RECIPES
from gankit.recipes.translation import TranslationRecipe, evaluating


@RECIPES.register("stargan")
class StarGAN(TranslationRecipe):
    """StarGAN: one G(x, target domain), D with a domain-classification head, reconstruction."""

    layout = "labelled"
    options = {"cls": 1.0, "rec": 10.0}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        k = len(self.domains)
        g, d = self.build_translator(k), self.build_critic(self.image_shape[0], k)
        if not getattr(d, "classifies", False):
            raise BadInput(
                f'recipe stargan needs a discriminator with a domain head, not "{cfg.nets.d}": '
                f"set nets.d to patchgan."
            )
        self.modules.update(g=g, d=d)
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = self.wrap(g), self.wrap(d)

    def targets(self, n: int) -> Tensor:
        return torch.randint(len(self.domains), (n,), generator=self.rng, device=self.device)

    def realness(self, x: Tensor) -> Tensor:
        return self.D(x)[0]

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        n_critic = self.cfg.train.n_critic
        for i in range(n_critic):
            x, c_x = self.next_batch(stream)
            c = self.targets(len(x))
            with torch.set_grad_enabled(i == n_critic - 1):  # only the G step's fake needs a graph
                fake = self.G(x, c)
            stats = self.d_update(x, c_x, fake.detach())
        return stats | self.g_update(x, c_x, c, fake)

    def d_update(self, x: Tensor, c_x: Tensor, fake: Tensor) -> dict[str, Tensor]:
        (real_src, real_cls), (fake_src, _) = self.D(x), self.D(fake)
        cls = F.cross_entropy(real_cls, c_x)
        loss = self.game.d_loss(real_src, fake_src) + self.opts["cls"] * cls
        loss = loss + self.penalty_of(self.realness, x, fake)
        self.descend("d", loss, self.D)
        return {
            "d_loss": loss.detach(),
            "d_cls": cls.detach(),
            "d_real": d_output_mean(self.game, real_src.detach()),
            "d_fake": d_output_mean(self.game, fake_src.detach()),
        }

    def g_update(self, x: Tensor, c_x: Tensor, c: Tensor, fake: Tensor) -> dict[str, Tensor]:
        self.D.requires_grad_(False)  # gradients through D's input only
        src, cls_logits = self.D(fake)
        cls = F.cross_entropy(cls_logits, c)
        rec = (self.G(fake, c_x) - x).abs().mean()
        loss = self.game.g_loss(src) + self.opts["cls"] * cls + self.opts["rec"] * rec
        self.update("g", loss)
        self.D.requires_grad_(True)
        return {"g_loss": loss.detach(), "g_cls": cls.detach(), "rec": rec.detach()}

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """Each example to the next domain and back: input | output | reconstruction."""
        g = self.modules["g"]
        c = (y + 1) % len(self.domains)
        there = g(x, c)
        return [x, there, g(there, y)]

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        c = torch.full((len(x),), self.domain_index(to), device=x.device, dtype=torch.long)
        with evaluating([self.modules["g"]]):
            return self.modules["g"](x, c)
