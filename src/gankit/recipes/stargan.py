"""StarGAN (Choi et al. 2018): one generator for every pair of K domains.

G(x, c): a translator conditioned on the target domain c (nets.g: resnet-translator or unet, the
one-hot c joined as planes). D(x) -> (patch realness, K domain logits) (nets.d: patchgan).
    D minimises  game.d_loss(D_src(x), D_src(G(x, c))) + cls * CE(D_cls(x), c_x) + GP
    G minimises  game.g_loss(D_src(G(x, c))) + cls * CE(D_cls(G(x, c)), c)
                 + rec * |G(G(x, c), c_x) - x|
                 + nce * PatchNCE(G's encoder features of G(x, c) against those of x)
                 + identity * |G(x, c_x) - x|       (asked to stay in its own domain, G copies)
                 + structure * |MIND(G(x, c)) - MIND(x)|     (gankit/losses/structure.py)
With loss.name: wgan-gp this is the paper's WGAN-GP objective (gp weight: loss.penalty_weight).
PatchNCE (Park et al. 2020; gankit/losses/patchnce.py) is off by default; it needs nets.g:
resnet-translator, and ties each place of the output to the same place of the input, which the
cycle alone does not (a G can pass the cycle with an output of another class).
Targets c are drawn uniformly from the recipe's random stream. Data: any labelled image set whose
labels are domains (item-domains; image-folder with one sub-folder per domain).
recipe_options: cls (1), rec (10), nce (0: off), identity (0: off), structure (0: off). PatchNCE
and identity keep what a blurred or edge input shows, and both cost the inversion; MIND, blind to
inversion, keeps the inversion and part of the edges (docs/BENCHMARKS.md, stargan).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.losses import PatchNCE, l1_loss, structure_loss
from gankit.nets import NETS
from gankit.recipes.base import RECIPES
from gankit.recipes.translation import TranslationRecipe, evaluating


@RECIPES.register("stargan")
class StarGAN(TranslationRecipe):
    """StarGAN: one G(x, target domain), D with a domain-classification head, reconstruction."""

    layout = "labelled"
    options = {"cls": 1.0, "rec": 10.0, "nce": 0.0, "identity": 0.0, "structure": 0.0}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        k = len(self.domains)
        g, d = self.build_translator(k), self.build_critic(self.image_shape[0], k)
        if not NETS.has(cfg.nets.d, "domain_head"):
            raise BadInput(
                f'recipe stargan needs a discriminator with a domain head, not "{cfg.nets.d}": '
                f"set nets.d to patchgan."
            )
        self.modules.update(g=g, d=d)
        g_params: nn.Module = g
        if self.opts["nce"]:
            if not NETS.has(cfg.nets.g, "encodes"):
                raise BadInput(
                    f'recipe_options.nce needs an encoder to compare, which "{cfg.nets.g}" does '
                    f"not expose: set nets.g to resnet-translator, or recipe_options.nce to 0."
                )
            self.modules["nce"] = PatchNCE(g.tap_channels).to(device)
            g_params = nn.ModuleList([g, self.modules["nce"]])  # the heads train with G
        self.optimizers.update(
            g=self.optimizer(g_params, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = self.wrap(g), self.wrap(d)

    def targets(self, n: int) -> Tensor:
        return torch.randint(len(self.domains), (n,), generator=self.rng, device=self.device)

    def realness(self, x: Tensor) -> Tensor:
        return self.D(x)[0]

    def draw(self, stream: BatchStream) -> tuple[Tensor, Tensor, Tensor]:
        """(x, its domains c_x, target domains c drawn uniformly from the run's stream)."""
        x, c_x = self.next_batch(stream)
        return x, c_x, self.targets(len(x))

    def fake(self, batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        return self.G(batch[0], batch[2])

    def d_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises game.d_loss(D_src(x), D_src(G(x, c))) + cls * CE(D_cls(x), c_x) + GP."""
        x, c_x, _ = batch
        (real_src, real_cls), (fake_src, _) = self.D(x), self.D(fake)
        cls = F.cross_entropy(real_cls, c_x)
        loss = self.game.d_loss(real_src, fake_src) + self.opts["cls"] * cls
        loss = loss + self.penalty_of(self.realness, x, fake)
        return loss, {"d_cls": cls.detach()} | self.d_outputs(real_src, fake_src)

    def g_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises the adversarial, domain and reconstruction terms (+ the content terms
        switched on: identity, structure, nce), as in the module's docstring."""
        x, c_x, c = batch
        src, cls_logits = self.D(fake)
        cls = F.cross_entropy(cls_logits, c)
        rec = l1_loss(self.G(fake, c_x), x)
        loss = self.game.g_loss(src) + self.opts["cls"] * cls + self.opts["rec"] * rec
        stats = {"g_cls": cls.detach(), "rec": rec.detach()}
        if self.opts["identity"]:
            identity = l1_loss(self.G(x, c_x), x)
            loss = loss + self.opts["identity"] * identity
            stats["identity"] = identity.detach()
        if self.opts["structure"]:
            structure = structure_loss(fake, x)
            loss = loss + self.opts["structure"] * structure
            stats["structure"] = structure.detach()
        if self.opts["nce"]:
            nce = self.patch_nce(x, c, fake)
            loss = loss + self.opts["nce"] * nce
            stats["nce"] = nce.detach()
        return loss, stats

    def patch_nce(self, x: Tensor, c: Tensor, fake: Tensor) -> Tensor:
        """PatchNCE between G's encoding of its output and of its input, both for target c."""
        g = self.modules["g"]
        with torch.no_grad():
            keys = g.encode(x, c)
        return self.modules["nce"](g.encode(fake, c), keys, self.rng)

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """Each example to the next domain and back: input | output | reconstruction."""
        g = self.generator_net()
        c = (y + 1) % len(self.domains)
        there = g(x, c)
        return [x, there, g(there, y)]

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        c = torch.full((len(x),), self.domain_index(to), device=x.device, dtype=torch.long)
        g = self.generator_net()
        with evaluating([g]):
            return g(x, c)
