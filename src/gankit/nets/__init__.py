"""Networks by name, each builder with one signature (torchvision.models style):

    builder(role, shape, z_dim, num_classes, **options) -> nn.Module

`role` is "g" (z -> item in the data's shape) or "d" (item -> one logit per item). Options come
from the config's `nets.g_options` / `nets.d_options` and are checked against the builder; what a
network can do beyond that is declared when it registers (`nets.registry.TRAITS`).
"""

import importlib
import pkgutil

from gankit.nets.registry import NETS, build

# Every module of this package registers its networks on import: a new file needs no list entry.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["NETS", "build"]
