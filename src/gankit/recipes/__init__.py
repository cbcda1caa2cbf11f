"""Recipes by name: the losses of a family of GANs (what its D and G minimise), on the step
template of `gankit.train.step`."""

import importlib
import pkgutil

import torch

from gankit.config import Config
from gankit.data import DataSpec
from gankit.recipes.base import RECIPES, Recipe

# Every module of this package registers its recipes on import: a new file needs no list entry.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build(cfg: Config, spec: DataSpec, device: torch.device) -> Recipe:
    """The configured recipe with its networks initialised from train.seed."""
    torch.manual_seed(cfg.train.seed)  # network initialisation
    return RECIPES.get(cfg.recipe)(cfg, spec, device)


__all__ = ["RECIPES", "Recipe", "build"]
