"""Networks by name, each builder with one signature (torchvision.models style):

    builder(role, shape, z_dim, num_classes, **options) -> nn.Module

`role` is "g" (z -> item in the data's shape) or "d" (item -> one logit per item). Options come
from the config's `nets.g_options` / `nets.d_options` and are checked against the builder.
"""

from gankit.nets.registry import NETS, build

# Importing the modules registers their networks.
from gankit.nets import dcgan, mlp  # noqa: E402,F401  isort: skip

__all__ = ["NETS", "build"]
