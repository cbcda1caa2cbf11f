"""Networks by name, each builder with one signature (torchvision.models style):

    builder(role, shape, z_dim, num_classes, **options) -> nn.Module

`role` is "g" (z -> item in the data's shape) or "d" (item -> one logit per item). Options come
from the config's `nets.g_options` / `nets.d_options` and are checked against the builder.
"""

from gankit.nets.registry import NETS, build

# Importing the modules registers their networks.
from gankit.nets import dcgan, mlp  # noqa: E402,F401  isort: skip

# Architectures beyond DCGAN (issue 6).
from gankit.nets import began, progressive, resnet, style  # noqa: E402,F401  isort: skip

# Image-to-image translation (issue 5).
from gankit.nets import patchgan, translator, unet  # noqa: E402,F401  isort: skip

# Pyramids and super-resolution.
from gankit.nets import lapgan, srresnet  # noqa: E402,F401  isort: skip

# Text-to-image and sequence networks (issue 7).
from gankit.nets import sequence, stackgan, text  # noqa: E402,F401  isort: skip

__all__ = ["NETS", "build"]
