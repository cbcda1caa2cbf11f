"""Content terms: how far a generated image is from its target, by name (SRGAN's choice).

SRGAN (Ledig et al. 2017) pairs its adversarial term with a content term; the paper's best is
the MSE between VGG19 feature maps, but VGG weights cannot always be downloaded, so the term is
a registered choice, built from `recipe_options.content` and `recipe_options.content_options`:
  pixel-l1   mean |G(x) - y|                          (the L1-only U-Net's, pix2pix's)
  pixel-l2   mean (G(x) - y)^2                        (SRResNet: PSNR's own loss)
  evaluator  mean (phi(G(x)) - phi(y))^2, phi the last conv maps of gankit's own evaluator
             for the dataset (a classifier trained on it; `gankit evaluator train`)
  vgg        the same with phi = torchvision's VGG19 features up to `layer` (vgg54: the
             paper's; vgg22: shallower), weights read from a local torchvision state dict
Every term is a frozen nn.Module: term(fake, real) -> a scalar, images in [-1, 1].
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.config import DataConfig
from gankit.errors import BadInput
from gankit.registry import Registry

CONTENT = Registry("content term")

VGG_LAYERS = {"vgg22": 9, "vgg54": 36}  # SRGAN's names -> how many of vgg19.features to keep
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class Pixel(nn.Module):
    def __init__(self, p: int) -> None:
        super().__init__()
        self.p = p

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        return F.l1_loss(fake, real) if self.p == 1 else F.mse_loss(fake, real)


class Features(nn.Module):
    """MSE between the feature maps a frozen network phi gives of the two images."""

    def __init__(self, phi: nn.Module, prepare=None) -> None:
        super().__init__()
        self.phi = phi.eval().requires_grad_(False)
        self.prepare = prepare or (lambda x: x)

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        with torch.no_grad():
            target = self.phi(self.prepare(real))
        return F.mse_loss(self.phi(self.prepare(fake)), target)


def imagenet_input(x: Tensor) -> Tensor:
    """Images in [-1, 1] (1 or 3 channels) -> what torchvision's ImageNet models expect."""
    x = (x + 1) / 2
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


@CONTENT.register("pixel-l1")
def pixel_l1(data: DataConfig, channels: int) -> nn.Module:
    """mean |G(x) - y| per pixel."""
    return Pixel(1)


@CONTENT.register("pixel-l2")
def pixel_l2(data: DataConfig, channels: int) -> nn.Module:
    """mean (G(x) - y)^2 per pixel (SRResNet's MSE)."""
    return Pixel(2)


@CONTENT.register("evaluator")
def evaluator_features(data: DataConfig, channels: int) -> nn.Module:
    """MSE of the own evaluator's last conv maps (trained on this dataset)."""
    from gankit.metrics import evaluator

    net = evaluator.load(data, channels).net
    return Features(conv_maps(net))


def conv_maps(classifier: nn.Module) -> nn.Module:
    """The evaluator's body up to (not with) its pooling: 128 maps at a quarter of the side."""
    layers = list(classifier.body)
    pool = next(i for i, m in enumerate(layers) if isinstance(m, nn.AdaptiveAvgPool2d))
    return nn.Sequential(*layers[:pool])


@CONTENT.register("vgg")
def vgg_features(
    data: DataConfig, channels: int, *, weights: str = "", layer: str = "vgg54"
) -> nn.Module:
    """MSE of VGG19 feature maps (SRGAN's VGG loss), weights from a local file."""
    if layer not in VGG_LAYERS:
        raise BadInput(f'content_options.layer "{layer}": use one of {", ".join(VGG_LAYERS)}.')
    features = load_vgg_features(weights)
    return Features(features[: VGG_LAYERS[layer]], imagenet_input)


def load_vgg_features(path: str | Path, layers: list[Any] | None = None) -> nn.Sequential:
    """torchvision's vgg19 `features` from a local state dict (torch.save of
    `vgg19().state_dict()`, as torchvision's own download is), read with weights_only: no
    unpickling of code. `layers` is torchvision's layer plan (default: VGG19's)."""
    from torchvision.models import vgg

    path = Path(path).expanduser() if path else None
    if path is None or not path.is_file():
        raise BadInput(
            f"content term vgg needs content_options.weights: a local vgg19 state dict file "
            f"(torchvision's vgg19-dcbb9e9d.pth), and {path or 'none was given'} is not a file."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a torch file, or one that holds code
        raise BadInput(f"{path} is not a readable torch state dict ({type(e).__name__}).") from None
    prefix = "features."
    own = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    features = vgg.make_layers(layers or vgg.cfgs["E"])
    try:
        features.load_state_dict(own)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if "\n" in str(e) else str(e)
        raise BadInput(
            f"{path} does not hold vgg19 features (keys features.0.weight ...): {first}"
        ) from None
    return features


def build(name: str, data: DataConfig, channels: int, options: dict[str, Any]) -> nn.Module:
    """The content term `name` with its options (unknown ones raise BadInput)."""
    builder = CONTENT.get(name)
    accepted = [
        p.name for p in inspect.signature(builder).parameters.values() if p.kind == p.KEYWORD_ONLY
    ]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise BadInput(
            f'content term "{name}" has no option "{unknown[0]}". '
            f"Its options: {', '.join(accepted) or 'none'}."
        )
    return builder(data, channels, **options)
