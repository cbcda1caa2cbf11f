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
from gankit.data import BatchStream, DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.losses import d_output_mean
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
        size = len(self.images)
        if size == 0:
            return fake
        # Drawn for every item whether used or not: the stream advances the same way each step.
        coins = torch.rand(len(fake), generator=rng, device=rng.device).tolist()
        slots = torch.randint(size, (len(fake),), generator=rng, device=rng.device).tolist()
        out, count = fake.clone(), int(self.count)
        for i, (coin, slot) in enumerate(zip(coins, slots)):
            if count < size:  # filling up: keep it, show it
                self.images[count] = fake[i]
                count += 1
            elif coin > 0.5:  # show an old fake, keep the new one in its place
                out[i] = self.images[slot]
                self.images[slot] = fake[i]
        self.count.fill_(count)
        return out


def cycle_loss(back: Tensor, original: Tensor) -> Tensor:
    return (back - original).abs().mean()


@RECIPES.register("cyclegan")
class CycleGAN(TranslationRecipe):
    """CycleGAN: two translators, two PatchGANs, cycle (10) and identity losses, history pool."""

    layout = "unpaired"
    options = {"cycle": 10.0, "identity": 0.5, "pool": 50}

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
        self.add_ema("g_ab")
        self.add_ema("g_ba")
        self.modules.update({k: p.to(device) for k, p in pools.items()})
        self.optimizers.update(
            g=self.pair_optimizer(g_ab, g_ba, cfg.optim.lr_g),
            d=self.pair_optimizer(d_a, d_b, cfg.optim.lr_d),
        )
        self.G_AB, self.G_BA = self.wrap(g_ab), self.wrap(g_ba)
        self.D_A, self.D_B = self.wrap(d_a), self.wrap(d_b)

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        a, b = split(self.next_batch(stream)[0])
        fake_b, fake_a = self.G_AB(a), self.G_BA(b)
        stats = self.g_update(a, b, fake_a, fake_b)
        return stats | self.d_update(a, b, fake_a.detach(), fake_b.detach())

    def g_update(self, a: Tensor, b: Tensor, fake_a: Tensor, fake_b: Tensor) -> dict[str, Tensor]:
        for d in (self.D_A, self.D_B):
            d.requires_grad_(False)  # G's step needs gradients through the Ds, not for them
        adv = self.game.g_loss(self.D_B(fake_b)) + self.game.g_loss(self.D_A(fake_a))
        cyc = cycle_loss(self.G_BA(fake_b), a) + cycle_loss(self.G_AB(fake_a), b)
        loss = adv + self.opts["cycle"] * cyc
        idt = torch.zeros((), device=self.device)
        if self.opts["identity"] > 0:
            idt = cycle_loss(self.G_AB(b), b) + cycle_loss(self.G_BA(a), a)
            loss = loss + self.opts["cycle"] * self.opts["identity"] * idt
        self.update("g", loss)
        self.update_ema("g_ab")
        self.update_ema("g_ba")
        for d in (self.D_A, self.D_B):
            d.requires_grad_(True)
        return {"g_loss": loss.detach(), "cycle": cyc.detach(), "identity": idt.detach()}

    def d_update(self, a: Tensor, b: Tensor, fake_a: Tensor, fake_b: Tensor) -> dict[str, Tensor]:
        fake_a = self.modules["pool_a"].query(fake_a, self.rng)
        fake_b = self.modules["pool_b"].query(fake_b, self.rng)
        real_a, old_a = self.D_A(a), self.D_A(fake_a)
        real_b, old_b = self.D_B(b), self.D_B(fake_b)
        loss = self.game.d_loss(real_a, old_a) + self.game.d_loss(real_b, old_b)
        loss = loss + self.penalty_of(self.D_A, a, fake_a) + self.penalty_of(self.D_B, b, fake_b)
        self.update("d", loss)
        if self.penalty.constraint is not None:
            for d in (self.D_A, self.D_B):
                self.penalty.constraint(d, self.cfg.loss.clip)
        real, fake = (
            torch.cat([real_a.flatten(), real_b.flatten()]),
            torch.cat([old_a.flatten(), old_b.flatten()]),
        )
        return {
            "d_loss": loss.detach(),
            "d_real": d_output_mean(self.game, real.detach()),
            "d_fake": d_output_mean(self.game, fake.detach()),
        }

    def panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """Triplets A -> B -> A for the first half of the examples, B -> A -> B for the rest."""
        a, b = split(x)
        half = len(x) // 2
        g_ab, g_ba = self.averaged("g_ab"), self.averaged("g_ba")
        source = torch.cat([a[:half], b[half:]])
        there = torch.cat([g_ab(a[:half]), g_ba(b[half:])])
        back = torch.cat([g_ba(there[:half]), g_ab(there[half:])])
        return [source, there, back]

    @torch.no_grad()
    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        g = self.averaged("g_ab" if self.domain_index(to, default="B") == 1 else "g_ba")
        with evaluating([g]):
            return g(x)
