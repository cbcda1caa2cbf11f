"""Drawing samples from a recipe's generator: the labels a conditional G is given, and n samples
in chunks (so memory stays bounded for any n), as sampling, evaluation and the doctor need."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from gankit.errors import BadInput, closest

if TYPE_CHECKING:
    from gankit.data import DataSpec


def class_index(spec: DataSpec, wanted: int | str) -> int:
    """A class given by index or name (a name matching exactly wins over reading it as a number)."""
    names = list(spec.class_names)
    listing = ", ".join(f"{i} {name}" for i, name in enumerate(names))
    if isinstance(wanted, str) and wanted in names:
        return names.index(wanted)
    if isinstance(wanted, str):
        folded = [n.casefold() for n in names]
        if wanted.casefold() in folded:
            return folded.index(wanted.casefold())
        try:
            wanted = int(wanted)
        except ValueError:
            raise BadInput(
                f'--class "{wanted}": no such class.{closest(wanted, names)} Classes: {listing}.'
            ) from None
    if not 0 <= wanted < len(names):
        raise BadInput(
            f"--class {wanted} is out of range: this run has {len(names)} classes, "
            f"0..{len(names) - 1} ({listing})."
        )
    return wanted


def sample_labels(recipe: Any, n: int, wanted: int | str | None) -> Tensor | None:
    """Labels for n samples: all of one class, a balanced spread, or None (G takes no labels)."""
    if not getattr(recipe, "conditional", False):
        if wanted is None:
            return None
        if recipe.spec.num_classes == 0:
            raise BadInput(
                f'this run\'s dataset "{recipe.spec.name}" has no labels, so there is no class '
                f"to ask for: drop --class."
            )
        raise BadInput(
            f"this run's recipe ({recipe.cfg.recipe}) does not condition G on a class: drop "
            f"--class, or train a cgan, acgan or projection recipe."
        )
    if wanted is None:
        return recipe.balanced_labels(n)
    return torch.full((n,), class_index(recipe.spec, wanted), device=recipe.device)


def sample_in_chunks(
    recipe: Any,
    n: int,
    g: torch.Generator,
    labels: Tensor | None = None,
    batch: int = 500,
    ema: bool = True,
) -> Tensor:
    """n samples in the model's range on the CPU, G run on `batch` latents from g at a time."""
    chunks = []
    for i in range(0, n, batch):
        y = None if labels is None else labels[i : i + batch]
        chunks.append(recipe.generate(recipe.noise(min(batch, n - i), g), y, ema=ema).cpu())
    return torch.cat(chunks)
