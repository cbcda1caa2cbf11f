"""LAPGAN (Denton et al. 2015): a Laplacian pyramid of GANs (nets.g and nets.d: lapgan).

Every level trains at once on real data, as in the paper: level k's condition is the real
image one level coarser, upsampled (u_k = up(I_{k+1})), and its real residual h_k = I_k - u_k;
the coarsest level is an ordinary GAN on I_K. Levels share no weights, so one optimiser over
their sum is the same as one per level (Adam's steps are per parameter).
    D minimises  sum_k game.d_loss(D_k(u_k, h_k), D_k(u_k, G_k(z_k, u_k)))
    G minimises  sum_k game.g_loss(D_k(u_k, G_k(z_k, u_k)))
Sampling goes coarse to fine: each level refines the upsampled output of the one below.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit import laplacian
from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.nets.lapgan import PyramidD, PyramidG
from gankit.recipes.base import RECIPES, Recipe
from gankit.train.step import Stats

Levels = tuple[Tensor, ...]  # one tensor per pyramid level, finest first


@RECIPES.register("lapgan")
class LapGAN(Recipe):
    """LAPGAN: one conditional GAN per pyramid level on band-pass residuals, coarse to fine."""

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        g, d = self.build_net("g"), self.build_net("d")
        if not (isinstance(g, PyramidG) and isinstance(d, PyramidD)):
            raise BadInput("recipe lapgan needs nets.g: lapgan and nets.d: lapgan.")
        if self.penalty.term is not None or self.penalty.constraint is not None:
            raise BadInput(
                "recipe lapgan takes no gradient penalty or clipping: use loss non-saturating, "
                "hinge or lsgan with loss.penalty: none."
            )
        self.modules.update(g=g, d=d)
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = g, d

    def draw(self, stream: BatchStream) -> tuple[list[Tensor | None], Levels]:
        """Each level's condition u_k = up(I_{k+1}) (None at the coarsest) and real target h_k."""
        real = stream.next()[0]
        bands = laplacian.pyramid(real, self.G.levels)
        conditions: list[Tensor | None] = []
        image = real
        for _ in range(self.G.levels - 1):
            image_below = laplacian.down(image)
            conditions.append(laplacian.up(image_below))
            image = image_below
        return conditions + [None], tuple(bands)

    def fake(self, batch: tuple[list[Tensor | None], Levels]) -> Levels:
        """G_k(z_k, u_k) at every level, and G_K(z_K) at the coarsest."""
        conditions, bands = batch
        chunks = self.G.latents(self.noise(len(bands[0])))
        last = self.G.levels - 1
        residuals = [self.G.residual(k, chunks[k], conditions[k]) for k in range(last)]
        return (*residuals, self.G.coarsest(chunks[-1]))

    def d_loss(
        self, batch: tuple[list[Tensor | None], Levels], fake: Levels
    ) -> tuple[Tensor, Stats]:
        """D minimises sum_k game.d_loss(D_k(u_k, h_k), D_k(u_k, fake_k))."""
        conditions, bands = batch
        reals = [self.D.judge(k, h, u) for k, (h, u) in enumerate(zip(bands, conditions))]
        fakes = [self.D.judge(k, f, u) for k, (f, u) in enumerate(zip(fake, conditions))]
        loss = sum(self.game.d_loss(r, f) for r, f in zip(reals, fakes))
        return loss, self.d_outputs(torch.cat(reals), torch.cat(fakes))

    def g_loss(
        self, batch: tuple[list[Tensor | None], Levels], fake: Levels
    ) -> tuple[Tensor, Stats]:
        """G minimises sum_k game.g_loss(D_k(u_k, fake_k))."""
        conditions = batch[0]
        judged = [self.D.judge(k, f, u) for k, (f, u) in enumerate(zip(fake, conditions))]
        return sum(self.game.g_loss(logits) for logits in judged), {}

    @torch.no_grad()
    def levels_of(self, z: Tensor, ema: bool = True) -> list[Tensor]:
        """Samples at every level for latents z, coarsest first, each clamped to [-1, 1]."""
        return [x.clamp(-1, 1) for x in self.generator_net("g", ema).levels_of(z)]

    def save_extra_pictures(self, z: Tensor, samples: Path, step: int) -> None:
        """One row per sample: its coarsest image, then each finer level (enlarged, nearest)."""
        from torchvision.utils import save_image  # torchvision costs seconds: `gankit list` waits

        per_row, side = 8, self.spec.shape[-1]
        images = [F.interpolate(x, size=side, mode="nearest") for x in self.levels_of(z[:per_row])]
        grid = torch.stack(images, 1).flatten(0, 1).cpu()
        path = samples / f"levels-step-{step:08d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path, nrow=len(images), normalize=True, value_range=(-1, 1), padding=1)
