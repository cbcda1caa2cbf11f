"""Recipes by name: what one training step is for a family of GANs (the D and G updates that
differ), on the shared engine in `gankit.train`."""

from gankit.recipes.base import RECIPES, Recipe

# Importing the modules registers their recipes.
from gankit.recipes import unconditional  # noqa: E402,F401  isort: skip

__all__ = ["RECIPES", "Recipe"]
