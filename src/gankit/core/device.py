"""The device a run asks for (train.device), checked against what the machine has."""

from __future__ import annotations

import torch

from gankit.errors import BadInput


def pick_device(name: str) -> torch.device:
    """ "auto": a CUDA GPU when one is visible, else the CPU; a named device as it is."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BadInput(f'train.device "{name}" asked for, but no CUDA GPU is visible: use "cpu".')
    return torch.device(name)
