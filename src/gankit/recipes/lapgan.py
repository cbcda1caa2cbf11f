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
from torchvision.utils import save_image

from gankit import laplacian
from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.losses import d_output_mean
from gankit.nets.lapgan import PyramidD, PyramidG
from gankit.recipes.base import RECIPES, Recipe


class Level:
    """One level's training data: condition u (None at the coarsest), real and fake target."""

    def __init__(self, u: Tensor | None, real: Tensor, fake: Tensor) -> None:
        self.u, self.real, self.fake = u, real, fake


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
        self.add_ema()
        self.G, self.D = g, d

    def levels(self, real: Tensor, with_graph: bool) -> list[Level]:
        """Each level's condition, real target and G's fake, finest first."""
        bands = laplacian.pyramid(real, self.G.levels)
        chunks = self.G.latents(self.noise(len(real)))
        image, out = real, []
        with torch.set_grad_enabled(with_graph):
            for k in range(self.G.levels - 1):
                u = laplacian.up(laplacian.down(image))
                out.append(Level(u, bands[k], self.G.residual(k, chunks[k], u)))
                image = laplacian.down(image)
            out.append(Level(None, bands[-1], self.G.coarsest(chunks[-1])))
        return out

    def d_loss(self, levels: list[Level]) -> tuple[Tensor, Tensor, Tensor]:
        """sum_k game.d_loss(D_k(u_k, h_k), D_k(u_k, fake_k)); also the logits, for the log."""
        reals = [self.D.judge(k, lv.real, lv.u) for k, lv in enumerate(levels)]
        fakes = [self.D.judge(k, lv.fake.detach(), lv.u) for k, lv in enumerate(levels)]
        loss = sum(self.game.d_loss(r, f) for r, f in zip(reals, fakes))
        return loss, torch.cat(reals).detach(), torch.cat(fakes).detach()

    def g_loss(self, levels: list[Level]) -> Tensor:
        """sum_k game.g_loss(D_k(u_k, fake_k))."""
        return sum(self.game.g_loss(self.D.judge(k, lv.fake, lv.u)) for k, lv in enumerate(levels))

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        n_critic = self.cfg.train.n_critic
        for i in range(n_critic):
            levels = self.levels(stream.next()[0], with_graph=i == n_critic - 1)
            d_loss, real_logits, fake_logits = self.d_loss(levels)
            self.update("d", d_loss)
        self.D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        g_loss = self.g_loss(levels)
        self.update("g", g_loss)
        self.D.requires_grad_(True)
        self.update_ema()
        return {
            "d_loss": d_loss.detach(),
            "g_loss": g_loss.detach(),
            "d_real": d_output_mean(self.game, real_logits),
            "d_fake": d_output_mean(self.game, fake_logits),
        }

    @torch.no_grad()
    def levels_of(self, z: Tensor, ema: bool = True) -> list[Tensor]:
        """Samples at every level for latents z, coarsest first, each clamped to [-1, 1]."""
        g = self.averaged() if ema else self.modules["g"]
        return [x.clamp(-1, 1) for x in g.levels_of(z)]

    def save_extra_pictures(self, z: Tensor, samples: Path, step: int) -> None:
        """One row per sample: its coarsest image, then each finer level (enlarged, nearest)."""
        per_row, side = 8, self.spec.shape[-1]
        images = [F.interpolate(x, size=side, mode="nearest") for x in self.levels_of(z[:per_row])]
        grid = torch.stack(images, 1).flatten(0, 1).cpu()
        path = samples / f"levels-step-{step:08d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path, nrow=len(images), normalize=True, value_range=(-1, 1), padding=1)
