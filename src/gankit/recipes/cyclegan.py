"""CycleGAN (Zhu et al. 2017): unpaired translation A <-> B with cycle consistency.

G_AB, G_BA: ResNet-block translators (nets.g: resnet-translator); D_A, D_B: PatchGANs.
    G minimises  game.g_loss(D_B(G_AB(a))) + game.g_loss(D_A(G_BA(b)))
                 + cycle * (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
                 + cycle * identity * (|G_AB(b) - b| + |G_BA(a) - a|)
    D_X minimises game.d_loss(D_X(x), D_X(x_fake from the history pool))
With loss.name: lsgan this is the paper's least-squares objective. The pool (Shrivastava et al.
2017) shows D a mix of current and older fakes, damping oscillation; it is a buffer of a module in
`modules`, and its coin flips come from the recipe's random stream, so resume is exact.
recipe_options: cycle (10), identity (0.5, relative to cycle as in the paper's code), pool (50).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.config import Config
from gankit.data import DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.losses import l1_loss
from gankit.recipes.base import RECIPES
from gankit.recipes.translation import TranslationRecipe, evaluating


class HistoryPool(nn.Module):
    """Up to `size` past fakes. Each query item, once the pool is full, is swapped with a random
    stored one with probability 1/2 (D sees the old one), else passed through (the paper's)."""

    def __init__(self, size: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, fake: Tensor, rng: torch.Generator) -> Tensor:
        """What D sees of `fake`, item by item in order; decided on the device (no host sync)."""
        size = len(self.images)
        if size == 0:
            return fake
        # Drawn for every item whether used or not: the stream advances the same way each step.
        coins = torch.rand(len(fake), generator=rng, device=rng.device).to(fake.device)
        slots = torch.randint(size, (len(fake),), generator=rng, device=rng.device)
        slots = slots.to(fake.device)
        out = fake.clone()
        for i in range(len(fake)):
            filling = self.count < size  # filling up: keep it, show it
            swap = ~filling & (coins[i] > 0.5)  # show an old fake, keep the new one in its place
            where = torch.where(filling, self.count, slots[i]).reshape(1)
            old = self.images.index_select(0, where)[0]
            out[i] = torch.where(swap, old, fake[i])
            kept = torch.where(filling | swap, fake[i], old)
            self.images.index_copy_(0, where, kept.unsqueeze(0).to(self.images.dtype))
            self.count += filling.long()
        return out


@RECIPES.register("cyclegan")
class CycleGAN(TranslationRecipe):
    """CycleGAN: two translators, two PatchGANs, cycle (10) and identity losses, history pool."""

    layout = "unpaired"
    options = {"cycle": 10.0, "identity": 0.5, "pool": 50}
    ema_of = ("g_ab", "g_ba")
    g_first = True  # the paper's order: G's step, then D's on the fakes it made

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        if cfg.train.n_critic != 1:
            raise BadInput("recipe cyclegan alternates one G and one D step: set train.n_critic 1.")
        if self.opts["pool"] < 0:
            raise BadInput("recipe_options.pool must be >= 0 (0: no history pool).")
        c = self.image_shape[0]
        g_ab, g_ba = self.build_translator(), self.build_translator()
        d_a, d_b = self.build_critic(c), self.build_critic(c)
        pools = {f"pool_{x}": HistoryPool(self.opts["pool"], self.image_shape) for x in "ab"}
        self.modules.update(g_ab=g_ab, g_ba=g_ba, d_a=d_a, d_b=d_b)
        self.modules.update({k: p.to(device) for k, p in pools.items()})
        self.optimizers.update(
            g=self.pair_optimizer(g_ab, g_ba, cfg.optim.lr_g),
            d=self.pair_optimizer(d_a, d_b, cfg.optim.lr_d),
        )
        self.G_AB, self.G_BA = self.wrap(g_ab), self.wrap(g_ba)
        self.D_A, self.D_B = self.wrap(d_a), self.wrap(d_b)

    def fake(self, batch: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Tensor]:
        """(G_BA(b), G_AB(a))."""
        a, b = split(batch[0])
        fake_b = self.G_AB(a)
        return self.G_BA(b), fake_b

    def g_loss(self, batch: tuple[Tensor, Tensor | None], fake: tuple) -> tuple[Tensor, dict]:
        """G minimises the two adversarial terms + cycle * cycle loss (+ the identity term)."""
        a, b = split(batch[0])
        fake_a, fake_b = fake
        adv = self.game.g_loss(self.D_B(fake_b)) + self.game.g_loss(self.D_A(fake_a))
        cyc = l1_loss(self.G_BA(fake_b), a) + l1_loss(self.G_AB(fake_a), b)
        loss = adv + self.opts["cycle"] * cyc
        idt = torch.zeros((), device=self.device)
        if self.opts["identity"] > 0:
            idt = l1_loss(self.G_AB(b), b) + l1_loss(self.G_BA(a), a)
            loss = loss + self.opts["cycle"] * self.opts["identity"] * idt
        return loss, {"cycle": cyc.detach(), "identity": idt.detach()}

    def d_loss(self, batch: tuple[Tensor, Tensor | None], fake: tuple) -> tuple[Tensor, dict]:
        """D_X minimises game.d_loss(D_X(x), D_X(a fake from the history pool)) (+ penalties)."""
        a, b = split(batch[0])
        fake_a = self.modules["pool_a"].query(fake[0], self.rng)
        fake_b = self.modules["pool_b"].query(fake[1], self.rng)
        real_a, old_a = self.D_A(a), self.D_A(fake_a)
        real_b, old_b = self.D_B(b), self.D_B(fake_b)
        loss = self.game.d_loss(real_a, old_a) + self.game.d_loss(real_b, old_b)
        loss = loss + self.penalty_of(self.D_A, a, fake_a) + self.penalty_of(self.D_B, b, fake_b)
        real = torch.cat([real_a.flatten(), real_b.flatten()])
        old = torch.cat([old_a.flatten(), old_b.flatten()])
        return loss, self.d_outputs(real, old)

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """Triplets A -> B -> A for the first half of the examples, B -> A -> B for the rest."""
        a, b = split(x)
        half = len(x) // 2
        g_ab, g_ba = self.generator_net("g_ab"), self.generator_net("g_ba")
        source = torch.cat([a[:half], b[half:]])
        there = torch.cat([g_ab(a[:half]), g_ba(b[half:])])
        back = torch.cat([g_ba(there[:half]), g_ab(there[half:])])
        return [source, there, back]

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        g = self.generator_net("g_ab" if self.domain_index(to, default="B") == 1 else "g_ba")
        with evaluating([g]):
            return g(x)
