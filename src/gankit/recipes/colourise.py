"""Colourisation as paired translation (data.name: colourise): grey -> colour with pix2pix's
U-Net G (nets.g: unet) and PatchGAN D (nets.d: patchgan) on [grey, colour] pairs; the objective
is ContentGAN's with an L1 content term weighted 100, as pix2pix's.

User-interactive colourisation (Zhang et al. 2017): with recipe_options.hints = k > 0, G also
takes hint planes, the colours of a few pixels (three channels, zero elsewhere) and a mask of
where they are (one channel). Training reveals 0..k random pixels of each target; at
`gankit translate --hints X,Y,#RRGGBB` the user places them. adversarial: false trains the
L1-only U-Net baseline.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit import nets
from gankit.config import Config
from gankit.data import DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.nets import NETS
from gankit.recipes.base import RECIPES
from gankit.recipes.restoration import ContentGAN
from gankit.recipes.translation import check_layout, evaluating

HINT_PLANES = 4  # RGB of the revealed pixels, and their mask


def hint_planes(colour: Tensor, mask: Tensor) -> Tensor:
    """(N, 3, H, W) colours in [-1, 1] and a (N, 1, H, W) 0/1 mask -> the 4 hint planes."""
    return torch.cat([colour * mask, mask], 1)


@RECIPES.register("colourise")
class Colourise(ContentGAN):
    """Grey -> colour: U-Net G, PatchGAN D on [grey, colour], L1 x 100 + GAN; optional hints."""

    colourises = True  # `gankit translate` checks its inputs are grey and takes --hints
    options = ContentGAN.options | {
        "content": "pixel-l1",
        "content_weight": 100.0,
        "adversarial_weight": 1.0,
        "hints": 0,
    }

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        check_layout(cfg, spec, "paired")
        if spec.name != "colourise":
            raise BadInput(f'recipe colourise trains on data.name colourise, not "{spec.name}".')
        if self.opts["hints"] < 0:
            raise BadInput("recipe_options.hints must be >= 0 (0: no hints).")
        c, h, w = spec.shape
        self.image_shape = (c // 2, h, w)
        n = cfg.nets
        extra = HINT_PLANES if self.opts["hints"] else 0
        g = nets.build(n.g, "g", self.image_shape, n.z_dim, 0, **n.g_options, extra_inputs=extra)
        if not NETS.has(n.g, "translates"):
            raise BadInput(f'recipe colourise needs nets.g: unet, not "{n.g}".')
        d = nets.build(n.d, "d", (2 * self.image_shape[0], h, w), n.z_dim, 0, **n.d_options)
        self.modules.update(g=g.to(device), d=d.to(device))
        self.build_optimizers()

    def random_hints(self, colour: Tensor, generator: torch.Generator) -> Tensor:
        """Hint planes revealing 0..k random pixels of each target (k = recipe_options.hints)."""
        n, _, h, w = colour.shape
        k = self.opts["hints"]
        count = torch.randint(0, k + 1, (n, 1), generator=generator, device=colour.device)
        where = torch.randint(0, h * w, (n, k), generator=generator, device=colour.device)
        keep = (torch.arange(k, device=colour.device) < count).float()
        mask = torch.zeros(n, h * w, device=colour.device).scatter_(1, where, keep)
        return hint_planes(colour, mask.view(n, 1, h, w))

    def condition(
        self, x: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        grey, colour = split(x)
        if not self.opts["hints"]:
            return grey, colour
        return torch.cat([grey, self.random_hints(colour, generator or self.rng)], 1), colour

    def condition_of(self, x: Tensor) -> tuple[Tensor, Tensor]:
        # the grids' hints from a private stream: drawing them must not move training's
        fixed = torch.Generator(device=self.device).manual_seed(self.cfg.train.seed + 3)
        return self.condition(x, fixed)

    def shown(self, c: Tensor) -> Tensor:
        grey = c[:, :3]
        if c.shape[1] == 3:
            return grey
        colour, mask = c[:, 3:6], c[:, 6:7]
        return torch.lerp(grey, colour, mask)  # the hinted pixels drawn in their colour

    def critic_input(self, c: Tensor, image: Tensor) -> Tensor:
        return torch.cat([c[:, :3], image], 1)

    @torch.no_grad()
    def translate(
        self, x: Tensor, to: str | None = None, hints: list[tuple[int, int, tuple]] | None = None
    ) -> Tensor:
        """Grey images in [-1, 1] (three equal channels) -> colour. `hints`: (x, y, (r, g, b))
        points in pixels of the model's side, r, g, b in 0..255."""
        if to not in (None, "B", "b"):
            raise BadInput(f"--to {to}: a colourise run translates grey into colour only.")
        if hints and not self.opts["hints"]:
            raise BadInput(
                "--hints: this run was trained without hints (recipe_options.hints: 0); train "
                "one with recipe_options.hints: 10 to place colour points."
            )
        c = x
        if self.opts["hints"]:
            n, _, h, w = x.shape
            colour, mask = torch.zeros(n, 3, h, w, device=x.device), x.new_zeros(n, 1, h, w)
            for px, py, rgb in hints or []:
                colour[:, :, py, px] = torch.tensor(rgb, device=x.device).float() / 127.5 - 1
                mask[:, :, py, px] = 1.0
            c = torch.cat([x, hint_planes(colour, mask)], 1)
        g = self.generator_net()
        with evaluating([g]):
            return g(c)
