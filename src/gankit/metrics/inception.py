"""Inception-v3 features from a LOCAL weights file: 2048-d pool features and 1000-way logits.

torchvision's inception_v3 is built without weights (nothing is downloaded) and loads a state
dict from --inception-weights / $GANKIT_INCEPTION_WEIGHTS (.pth/.pt via torch.load with
weights_only, or .safetensors). Images are resized to 299x299 (bilinear, no antialias, as
torchmetrics/torch-fidelity do), grey is repeated to RGB, and pixels are scaled to [-1, 1], the
input of the Google-ported weights (torchvision's transform_input does the same mapping).
Scores are comparable with published FIDs only with the same weights (pt_inception-2015-12-05,
converted to this layout); the protocol record carries the weights' sha256 for that reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import inception_v3

from gankit.errors import BadInput
from gankit.files import sha256_file

ENV = "GANKIT_INCEPTION_WEIGHTS"
RESIZE = "bilinear-299"


class InceptionFeatures(nn.Module):
    """uint8 (N, C, H, W) images -> (pool features (N, 2048), logits (N, 1000))."""

    num_features = 2048  # lets torchmetrics use this module as a custom `feature` extractor

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.fc = net.fc
        net.fc = nn.Identity()
        self.net = net.eval()

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        x = images.float() / 127.5 - 1.0
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        features = self.net(x)
        return features, self.fc(features)


def build_network() -> nn.Module:
    """The bare torchvision Inception-v3 (random, uninitialised weights: they are loaded next)."""
    return inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)


def weights_path(path: str | None) -> Path:
    path = path or os.environ.get(ENV)
    if not path:
        raise BadInput(
            f"the inception extractor needs a local weights file: pass --inception-weights PATH "
            f"or set {ENV} (an Inception-v3 state dict, .pth or .safetensors); nothing is "
            f"downloaded."
        )
    p = Path(path).expanduser()
    if not p.is_file():
        raise BadInput(f"inception weights {p} not found: give the path of a local file.")
    return p


class InceptionExtractor:
    """The extractor interface (name, sha256, resize, embed) over InceptionFeatures."""

    resize = RESIZE

    def __init__(self, path: str | None = None) -> None:
        p = weights_path(path)
        state = _read_state(p)
        with torch.random.fork_rng(devices=[]):  # the random init must not move the global RNG
            net = build_network()
        state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
        try:
            net.load_state_dict(state)
        except RuntimeError as e:
            raise BadInput(
                f"{p} is not an Inception-v3 state dict for torchvision's layout "
                f"({str(e).splitlines()[0][:160]})."
            ) from None
        self.module = InceptionFeatures(net)
        self.sha256 = sha256_file(p)
        self.name = f"inception-v3:{p.name}"

    @torch.no_grad()
    def embed(self, images: Tensor, batch: int = 32) -> tuple[Tensor, Tensor]:
        feats, probs = [], []
        for chunk in images.split(batch):
            f, logits = self.module(chunk)
            feats.append(f)
            probs.append(logits.softmax(1))
        return torch.cat(feats), torch.cat(probs)


def _read_state(p: Path) -> dict[str, Tensor]:
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(p))
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file
        raise BadInput(f"cannot read inception weights {p}: {type(e).__name__}.") from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise BadInput(f"{p} does not hold a state dict.")
    return state
