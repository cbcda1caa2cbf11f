"""Scalars a recipe carries from step to step (BEGAN's k_t, a step counter), kept as tensor
buffers of a module in `recipe.modules`, so checkpoints save them and resume restores them."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RecipeState(nn.Module):
    """Named float64 scalars as buffers: `state.k` reads one, `state.set("k", v)` writes it."""

    def __init__(self, **initial: float) -> None:
        super().__init__()
        for name, value in initial.items():
            self.register_buffer(name, torch.tensor(float(value), dtype=torch.float64))

    @torch.no_grad()
    def set(self, name: str, value: Tensor | float) -> None:
        getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float64))

    def value(self, name: str) -> float:
        return float(getattr(self, name))
