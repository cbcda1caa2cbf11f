"""Projection discriminator (Miyato & Koyama 2018): D(x, y) = psi(phi(x)) + <V_y, phi(x)>.

A recipe rather than only a network option because users pick a family by its name (and find it in
`gankit list`); the adversarial step is cGAN's, so this is cGAN with D's head swapped. Pair it
with the hinge loss and spectral norm, as the paper does (configs/projection-fashion.yaml).
"""

from __future__ import annotations

from gankit.recipes.base import RECIPES
from gankit.recipes.cgan import CGAN


@RECIPES.register("projection")
class Projection(CGAN):
    """cGAN with a projection discriminator (Miyato & Koyama); use it with loss: hinge."""

    head = "projection"
