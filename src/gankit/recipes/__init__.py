"""Recipes by name: what one training step is for a family of GANs (the D and G updates that
differ), on the shared engine in `gankit.train`."""

from gankit.recipes.base import RECIPES, Recipe

# Importing the modules registers their recipes.
from gankit.recipes import unconditional  # noqa: E402,F401  isort: skip

# Conditional, auxiliary-classifier and semi-supervised families.
from gankit.recipes import acgan, cgan, projection, semi_supervised  # noqa: E402,F401  isort: skip

# Architectures with their own training step.
from gankit.recipes import began, progressive  # noqa: E402,F401  isort: skip

# Image-to-image translation.
from gankit.recipes import cogan, cyclegan, pix2pix, stargan  # noqa: E402,F401  isort: skip

# Text to image and sequences.
from gankit.recipes import sequence, stackgan  # noqa: E402,F401  isort: skip

# The VAE baseline of the VAE-vs-GAN comparison.
from gankit.recipes import vae  # noqa: E402,F401  isort: skip

# Pyramids, super-resolution and colourisation.
from gankit.recipes import colourise, lapgan, srgan  # noqa: E402,F401  isort: skip

__all__ = ["RECIPES", "Recipe"]
