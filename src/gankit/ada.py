"""Adaptive discriminator augmentation (ADA; Karras et al. 2020, "Training Generative Adversarial
Networks with Limited Data").

D sees every image, real or generated, through the same random transforms, each applied to an
image with probability p. They are differentiable, so G learns through them; and each one is
skipped with probability 1 - p, so the augmented images still determine the clean ones'
distribution: matching augmented reals with augmented fakes means matching the clean ones, and
G does not learn to draw augmented images (the paper's "non-leaking" condition, which holds for
p up to about 0.8 in practice). p is not tuned by hand: it follows r_t = E[sign D(x)] over the
real images D trains on (how many of them D is sure of), rising while r_t is above a target
(0.6) and falling while it is below. In a relativistic game (rpgan) only D's differences count,
so D(x) drifts by any constant; there r_t = E[sign(D(x) - D(G(z)))] over the pairs D is trained on.

The transforms are the paper's "bgc" set, in three stages, each composed per image and applied
once:

- blit: x-flip, quarter turns, integer translation, as one exact gather of pixels;
- warp: isotropic scaling, rotation, anisotropic scaling, fractional translation, as one affine
  matrix sampled bilinearly with reflection padding (the paper also upsamples 2x with a wavelet
  filter first, against aliasing; left out here);
- recolour: brightness, contrast, luma flip, hue rotation, saturation, as one colour matrix (hue
  and saturation turn about the grey axis, so they leave 1-channel images as they are).

Every draw comes from the run's torch.Generator and every decision is a device op (masks, not
Python branches): a seed fixes the augmentations, a resumed run continues exactly, and p never
travels to the host, so the work is the same at p = 0 (the images then come back unchanged).
Images are in [-1, 1], square, (B, C, H, W) with C = 1 or 3. Transforms are written as the
inverse map from an output pixel to the input pixel it reads, in pixel units about the centre
(x along columns, y along rows), composed in the order the transforms apply.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.core.state import RecipeState

# How strong each transform is when it applies (the paper's defaults).
XINT_MAX = 0.125  # integer translation: up to this share of the side
SCALE_STD = 0.2  # isotropic scaling: log2 of the factor ~ N(0, std^2)
ANISO_STD = 0.2  # anisotropic scaling: x by 2^N(0, std^2), y by its inverse
XFRAC_STD = 0.125  # fractional translation: N(0, std^2) of the side
BRIGHTNESS_STD = 0.2  # added to every channel
CONTRAST_STD = 0.5  # log2
SATURATION_STD = 1.0  # log2
# Rotation and hue rotation are uniform over the full circle.


class Draws:
    """Per-image random numbers from generator g, and the gate that applies a transform to an
    image with probability p (else its identity value)."""

    def __init__(self, n: int, p: Tensor, g: torch.Generator, device: torch.device) -> None:
        self.n, self.p, self.g, self.device = n, p, g, device

    def uniform(self, *shape: int) -> Tensor:
        return torch.rand(self.n, *shape, device=self.device, generator=self.g)

    def normal(self, *shape: int) -> Tensor:
        return torch.randn(self.n, *shape, device=self.device, generator=self.g)

    def gated(self, value: Tensor, identity: float, p: Tensor | None = None) -> Tensor:
        """`value` for the images whose draw falls below p, `identity` for the others."""
        chosen = self.uniform() < (self.p if p is None else p)
        return torch.where(chosen.view(-1, *[1] * (value.dim() - 1)), value, identity)


# -- 2D transforms: (n, 3, 3) homogeneous matrices from (n,) tensors ---------------------------
def matrix(a: Tensor, b: Tensor, c: Tensor, d: Tensor, tx: Tensor, ty: Tensor) -> Tensor:
    """[[a, b, tx], [c, d, ty], [0, 0, 1]] per image."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    return torch.stack([a, b, tx, c, d, ty, zero, zero, one], 1).view(-1, 3, 3)


def scale(sx: Tensor, sy: Tensor) -> Tensor:
    zero = torch.zeros_like(sx)
    return matrix(sx, zero, zero, sy, zero, zero)


def rotate(theta: Tensor) -> Tensor:
    """Rotation by theta (towards +y from +x); rotate(k pi / 2) reads the pixels torch.rot90
    with k turns puts in place."""
    cos, sin, zero = torch.cos(theta), torch.sin(theta), torch.zeros_like(theta)
    return matrix(cos, -sin, sin, cos, zero, zero)


def translate(tx: Tensor, ty: Tensor) -> Tensor:
    zero, one = torch.zeros_like(tx), torch.ones_like(tx)
    return matrix(one, zero, zero, one, tx, ty)


# -- colour transforms: (n, 3, 3) matrices about the grey axis v = (1, 1, 1) / sqrt 3 ----------
# Each is written as I + (a change that is 0 at its identity), so an untouched image's matrix
# is exactly I.
def grey_part(device: torch.device) -> Tensor:
    """v v^T: a colour's grey part (its channel mean, in every channel)."""
    return torch.full((3, 3), 1 / 3, device=device)


def luma_flip(i: Tensor) -> Tensor:
    """For i = 1, I - 2 v v^T: the grey part negated, the colour about it kept."""
    eye = torch.eye(3, device=i.device)
    return eye - 2 * grey_part(i.device) * i.view(-1, 1, 1)


def hue_rotation(theta: Tensor) -> Tensor:
    """Rotation by theta about v (Rodrigues): the grey part kept, the colour turned."""
    eye, along = torch.eye(3, device=theta.device), grey_part(theta.device)
    cross = 3**-0.5 * (eye.roll(1, 0) - eye.roll(-1, 0))  # v x (.)
    cos, sin = torch.cos(theta).view(-1, 1, 1), torch.sin(theta).view(-1, 1, 1)
    return eye + (eye - along) * (cos - 1) + cross * sin  # vv^T + (I - vv^T) cos + [v]x sin


def saturate(s: Tensor) -> Tensor:
    """The colour about the grey part scaled by s (0: grey)."""
    eye, along = torch.eye(3, device=s.device), grey_part(s.device)
    return eye + (eye - along) * (s.view(-1, 1, 1) - 1)


# -- the three stages ------------------------------------------------------------------------
def pixel_centres(side: int, device: torch.device) -> Tensor:
    """(side * side, 3): each pixel's (x, y, 1) about the image centre, row by row."""
    at = torch.arange(side, device=device, dtype=torch.float32) - (side - 1) / 2
    y, x = torch.meshgrid(at, at, indexing="ij")
    return torch.stack([x.flatten(), y.flatten(), torch.ones_like(x.flatten())], 1)


def keep_unmoved(moved: Tensor, done: Tensor, x: Tensor) -> Tensor:
    """`done` for the images a transform moved, the image itself for the others (so p = 0
    returns the input bit for bit, whatever rounding the maths adds)."""
    return torch.where(moved.view(-1, 1, 1, 1), done, x)


def not_identity(matrices: Tensor) -> Tensor:
    eye = torch.eye(matrices.shape[-1], device=matrices.device)
    return (matrices != eye).flatten(1).any(1)


def blit(x: Tensor, inverse: Tensor) -> Tensor:
    """Copy pixels through an inverse map of flips, quarter turns and whole-pixel shifts: each
    output pixel reads the input pixel it lands on, reflected at the border (edge pixels
    repeated, as grid_sample's reflection does), exactly."""
    n, c, side, _ = x.shape
    source = torch.einsum("nij,pj->nip", inverse[:, :2], pixel_centres(side, x.device))
    col, row = (source + (side - 1) / 2).round().long().unbind(1)
    col, row = (reflect(i, side) for i in (col, row))
    index = (row * side + col).unsqueeze(1).expand(-1, c, -1)
    return x.reshape(n, c, -1).gather(2, index).view(n, c, side, side)


def reflect(i: Tensor, side: int) -> Tensor:
    """Indices off the image folded back in (shifts are under a side: one fold is enough)."""
    return torch.where(i < 0, -1 - i, torch.where(i >= side, 2 * side - 1 - i, i))


def warp(x: Tensor, inverse: Tensor) -> Tensor:
    """Resample x through an inverse affine map in pixel units (bilinear, reflection padding)."""
    side = x.shape[-1]
    theta = torch.cat([inverse[:, :2, :2], inverse[:, :2, 2:] * (2 / side)], 2)  # grid units
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    warped = F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)
    return keep_unmoved(not_identity(inverse), warped, x)


def recolour(x: Tensor, linear: Tensor, brightness: Tensor) -> Tensor:
    """linear @ (x + brightness) per pixel, with (n, 3, 3) colour matrices; a grey image is read
    as (g, g, g) and the result's channels averaged back to one."""
    x_b = x + brightness.view(-1, 1, 1, 1)
    if x.shape[1] == 3:
        done = torch.einsum("nij,njhw->nihw", linear, x_b)
    else:
        done = x_b * linear.sum(2).mean(1).view(-1, 1, 1, 1)
    return keep_unmoved(not_identity(linear) | (brightness != 0), done, x)


# -- the random transforms of one batch ------------------------------------------------------
def blit_matrices(d: Draws, side: int) -> Tensor:
    flip = d.gated(torch.floor(d.uniform() * 2), 0.0)  # 1: mirrored left to right
    turns = d.gated(torch.floor(d.uniform() * 4), 0.0)
    shift = d.gated(torch.round((d.uniform(2) * 2 - 1) * XINT_MAX * side), 0.0)
    mirror = scale(1 - 2 * flip, torch.ones_like(flip))
    return mirror @ rotate(turns * math.pi / 2) @ translate(-shift[:, 0], -shift[:, 1])


def warp_matrices(d: Draws, side: int) -> Tensor:
    # Rotation before and after the anisotropic scaling, each with the p at which one or both
    # happen with probability p: 1 - (1 - p_rot)^2 = p.
    p_rot = 1 - torch.sqrt((1 - d.p).clamp(0, 1))
    s = d.gated(torch.exp2(d.normal() * SCALE_STD), 1.0)
    pre = d.gated((d.uniform() * 2 - 1) * math.pi, 0.0, p_rot)
    a = d.gated(torch.exp2(d.normal() * ANISO_STD), 1.0)
    post = d.gated((d.uniform() * 2 - 1) * math.pi, 0.0, p_rot)
    shift = d.gated(d.normal(2) * XFRAC_STD * side, 0.0)
    stretch = scale(1 / s, 1 / s) @ rotate(-pre) @ scale(1 / a, a) @ rotate(-post)
    return stretch @ translate(-shift[:, 0], -shift[:, 1])


def colour_matrices(d: Draws, channels: int) -> tuple[Tensor, Tensor]:
    """(linear part, brightness): brightness, then contrast, luma flip, hue rotation and
    saturation. Hue and saturation change no grey image, so 1 channel skips them."""
    brightness = d.gated(d.normal() * BRIGHTNESS_STD, 0.0)
    contrast = d.gated(torch.exp2(d.normal() * CONTRAST_STD), 1.0)
    flip = d.gated(torch.floor(d.uniform() * 2), 0.0)
    linear = luma_flip(flip) * contrast.view(-1, 1, 1)
    if channels == 1:
        return linear, brightness
    theta = d.gated((d.uniform() * 2 - 1) * math.pi, 0.0)
    s = d.gated(torch.exp2(d.normal() * SATURATION_STD), 1.0)
    return saturate(s) @ hue_rotation(theta) @ linear, brightness


def augment(x: Tensor, p: Tensor, g: torch.Generator) -> Tensor:
    """x through ADA's transforms, each applied per image with probability p (a device scalar)."""
    n, c, side, _ = x.shape
    d = Draws(n, p, g, x.device)
    # Coordinates and colours in float32, also under train.amp (bf16 would misplace pixels).
    with torch.autocast(x.device.type, enabled=False):
        out = blit(x.float(), blit_matrices(d, side))
        out = warp(out, warp_matrices(d, side))
        out = recolour(out, *colour_matrices(d, c))
    return out.to(x.dtype)


class AdaptiveAugment(RecipeState):
    """ADA's p and the r_t accumulators behind it, as checkpointed device scalars.

    `observe(real_logits)` after each D step adds the real images' votes sign D(x); every
    `interval` D steps r_t is their mean, p moves by sign(r_t - target) * images / speed_img
    (so from 0 to 1 in speed_img images at the fastest) and the accumulators start again.
    """

    def __init__(self, target: float, speed_img: float, interval: int, p_init: float) -> None:
        super().__init__(p=p_init, rt=0.0, signs=0.0, images=0.0, steps=0.0)
        self.target, self.speed_img, self.interval = target, speed_img, interval

    def forward(self, x: Tensor, g: torch.Generator) -> Tensor:
        return augment(x, self.p, g)

    @torch.no_grad()
    def observe(self, real_logits: Tensor) -> dict[str, Tensor]:
        """Count one D step's real logits; returns p and r_t to log (r_t of the last full
        interval, 0 before the first)."""
        votes = real_logits.detach().reshape(len(real_logits), -1).sign().mean(1)  # one an image
        self.signs += votes.sum()
        self.images += len(votes)
        self.steps += 1
        due = self.steps >= self.interval
        rt = self.signs / self.images
        moved = (self.p + torch.sign(rt - self.target) * self.images / self.speed_img).clamp(0, 1)
        self.p.copy_(torch.where(due, moved, self.p))
        self.rt.copy_(torch.where(due, rt, self.rt))
        for count in (self.signs, self.images, self.steps):
            count.masked_fill_(due, 0)
        return {"ada_p": self.p.float(), "ada_rt": self.rt.float()}
