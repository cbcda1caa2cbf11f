"""SRGAN (Ledig et al. 2017): super-resolution by a residual G with sub-pixel upsampling (nets.g:
srresnet, options scale 2/4/8) against a D on high-resolution images (nets.d: srresnet).

Training pairs come from any image dataset: each image y is the target, and its bicubic
downscale (with antialiasing, as MATLAB's imresize the paper used) is G's input. The objective
is ContentGAN's with D judging the image alone; recipe_options.content picks the content term
(pixel-l2 gives SRResNet's MSE, evaluator or vgg the paper's feature-space loss), adversarial
false trains SRResNet itself. `gankit upscale` applies G to images of any size (tiled when large).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.config import Config
from gankit.data import DataSpec
from gankit.errors import BadInput
from gankit.nets.srresnet import SRResNet, enlarge
from gankit.recipes.base import RECIPES
from gankit.recipes.restoration import ContentGAN
from gankit.recipes.translation import evaluating


def downscale(x: Tensor, scale: int) -> Tensor:
    """Bicubic, antialiased: the degradation SRGAN's training pairs assume."""
    size = (x.shape[-2] // scale, x.shape[-1] // scale)
    return F.interpolate(x, size=size, mode="bicubic", antialias=True).clamp(-1, 1)


def bicubic(x: Tensor, scale: int) -> Tensor:
    """The classical upscaler every SR method is measured against."""
    return enlarge(x, scale).clamp(-1, 1)


@RECIPES.register("srgan")
class SRGAN(ContentGAN):
    """SRGAN: SRResNet G (sub-pixel x2/x4), D on high-resolution images, content + adversarial."""

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        if spec.kind != "image":
            raise BadInput(f'recipe srgan trains on images, and dataset "{spec.name}" is not.')
        g, d = self.build_net("g"), self.build_net("d")
        if not isinstance(g, SRResNet):
            raise BadInput(f'recipe srgan needs nets.g: srresnet, not "{cfg.nets.g}".')
        self.scale = g.scale
        self.modules.update(g=g, d=d)
        self.build_optimizers()

    def condition(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return downscale(x, self.scale), x

    def shown(self, c: Tensor) -> Tensor:
        return F.interpolate(c, scale_factor=self.scale, mode="nearest")

    @torch.no_grad()
    def upscale(self, x: Tensor, tile: int = 128, margin: int = 16) -> Tensor:
        """Low-resolution images in [-1, 1] -> `scale` times larger. Inputs over `tile` pixels
        go through G in tiles that overlap by `margin` input pixels, each keeping only its
        centre, so memory stays bounded and no seam shows where G's view reaches past a tile."""
        g, s = self.generator_net(), self.scale
        with evaluating([g]):
            h, w = x.shape[-2:]
            if h <= tile and w <= tile:
                return g(x)
            out = x.new_zeros(len(x), x.shape[1], h * s, w * s)
            for top in range(0, h, tile):
                for left in range(0, w, tile):
                    t0, l0 = max(top - margin, 0), max(left - margin, 0)
                    bottom, right = min(top + tile, h), min(left + tile, w)
                    y = g(x[..., t0 : min(bottom + margin, h), l0 : min(right + margin, w)])
                    dt, dl = (top - t0) * s, (left - l0) * s
                    out[..., top * s : bottom * s, left * s : right * s] = y[
                        ..., dt : dt + (bottom - top) * s, dl : dl + (right - left) * s
                    ]
            return out
