"""`gankit generate RUN --text "..."`: images from a caption with a trained text-to-image run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gankit.errors import BadInput

if TYPE_CHECKING:  # torch is imported when the command runs, so `gankit --help` stays quick
    import torch


def generate(
    run: str | Path,
    text: str,
    n: int = 16,
    seed: int = 0,
    stage: int = 2,
    ema: bool = True,
    snap: float | None = None,
) -> torch.Tensor:
    """n images in [-1, 1] (N, C, H, W) for one caption, from a run of a text-to-image recipe;
    `snap` overrides the run's recipe_options.snap (0: the caption goes to G as encoded)."""
    import torch

    from gankit import api

    if n < 1:
        raise BadInput(f"--n {n}: ask for at least one image.")
    loaded = api.load(run)
    recipe = loaded.recipe
    if not hasattr(recipe, "generate_from_text"):
        raise BadInput(
            f"run {run} (recipe {loaded.cfg.recipe}) does not take text: generate needs a "
            f"text-to-image run (recipe: stackgan); use `gankit sample` for this one."
        )
    g = torch.Generator(device=recipe.device).manual_seed(seed)
    return recipe.generate_from_text(recipe.noise(n, g), [text] * n, stage, ema, snap)
