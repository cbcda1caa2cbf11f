"""The network registry and the one `build` every recipe calls."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from gankit import limits
from gankit.errors import BadInput, closest
from gankit.nets.layers import Packed
from gankit.registry import Registry

NETS = Registry("network")
# What a network may declare when it registers (NETS.register(name, traits=(...))):
TRAITS = {
    "translates": "G maps an image to an image (the translation recipes' generators)",
    "encodes": "G has encode(x, c) and tap_channels: its encoder's features (PatchNCE)",
    "taps": "D's forward(x, taps=True) also returns its hidden activations (feature matching)",
    "domain_head": "D built with num_classes > 0 returns (logits, class logits) (StarGAN)",
    "class_head": "D takes conditioning=...; 'classes' gives K class logits (SGAN, the VAE)",
    "zero_init": "residual branches start at zero (fix-up init): no spectral norm, which would "
    "divide by their zero singular value",
}

# Options every network takes (in nets.g_options / nets.d_options), and when each helps.
SWITCHES = {
    "nets.d_options.spectral_norm": "D's gradients explode or the game oscillates: each layer's "
    "largest singular value held at ~1 (true / false)",
    "nets.d_options.pack": "G drops modes: an unlabelled D judges m samples at once, PacGAN (m)",
}


def build(
    name: str,
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    spectral_norm: bool = False,
    pack: int = 1,
    **options: Any,
) -> nn.Module:
    """Build network `name` as a generator (role "g") or discriminator (role "d").

    `spectral_norm` wraps every conv and linear weight of any network in torch's spectral-norm
    parametrisation (Miyato et al. 2018), which bounds each layer's largest singular value by ~1.
    `pack` m > 1 makes an unlabelled D judge m samples at once (PacGAN, Lin et al. 2018): it
    helps when G drops modes, since a group of m fakes then lacks the variety of m real samples.
    """
    if role not in ("g", "d"):
        raise ValueError(f"role must be 'g' or 'd', got {role!r}")
    builder = NETS.get(name)
    accepted = [
        p.name for p in inspect.signature(builder).parameters.values() if p.kind == p.KEYWORD_ONLY
    ]
    accepted += ["spectral_norm", "pack"]
    for key in options:
        if key not in accepted:
            raise BadInput(
                f'network "{name}" has no option "{key}".{closest(key, accepted)}'
                f" Its options: {', '.join(accepted)}."
            )
    if pack != 1 and (role != "d" or num_classes or pack < 1):
        raise BadInput(
            f"pack: {pack} needs an unlabelled discriminator and pack >= 1: PacGAN groups the "
            f"samples D sees; put it in nets.d_options of an unconditional recipe."
        )
    if pack > 1:  # the body sees pack samples' channels (or features) stacked
        shape = (shape[0] * pack, *shape[1:])
    check_size(name, role, tuple(shape), z_dim, num_classes, options)
    try:
        net = builder(role, tuple(shape), z_dim, num_classes, **options)
    except ValueError as e:  # a builder's own check of shape or option values
        raise BadInput(f'network "{name}": {e}') from None
    if spectral_norm and NETS.has(name, "zero_init"):
        raise BadInput(
            f'network "{name}" starts its residual branches at zero, where spectral norm divides '
            "by zero: drop spectral_norm from its options (its game's R1/R2 penalty is its "
            "regulariser)."
        )
    if spectral_norm:
        for module in list(net.modules()):
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.utils.parametrizations.spectral_norm(module)
    return Packed(net, pack) if pack > 1 else net


def check_size(
    name: str,
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int,
    options: dict[str, Any],
) -> None:
    """Build the network on the meta device (shapes, no memory) and refuse it before the real
    build when its weights, gradients and two optimiser moments would not fit in memory; an
    option of the wrong type fails here too, as one line instead of torch's traceback."""
    builder, where = NETS.get(name), f"nets.{role}_options"
    try:
        with torch.device("meta"):
            probe = builder(role, shape, z_dim, num_classes, **options)
    except (TypeError, ValueError, OverflowError) as e:
        raise BadInput(f'network "{name}" cannot be built from {where} ({e}): fix them.') from None
    except (RuntimeError, NotImplementedError):  # an op meta tensors lack: the real build decides
        return
    tensors = [*probe.parameters(), *probe.buffers()]
    weights = sum(t.numel() * t.element_size() for t in tensors)
    count = sum(t.numel() for t in tensors)
    limits.check_memory(
        f'network "{name}" ({role}, {count:,} weights)',
        4 * weights,
        f"make it smaller in {where} or nets.z_dim",
    )
