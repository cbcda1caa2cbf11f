"""mode-collapse: the ring of 8 Gaussians trained with the vanilla game, WGAN-GP and a stabiliser,
with the generated points drawn over time (a grid of scatter plots: one row per game).

Each variant is a real gankit recipe built from configs/ring.yaml's networks; the number of modes
captured and the share of high-quality samples are scored at every snapshot with gankit.metrics'
PacGAN protocol (toy_modes), the same numbers `gankit eval` reports for ring runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gankit.data.toy import ring_means
from gankit.errors import BadInput
from gankit.lab import toy
from gankit.lab.plots import figure, save
from gankit.lab.registry import LABS
from gankit.metrics.modes import toy_modes

VARIANTS = {  # name -> (title, config sections)
    "vanilla": ("vanilla GAN (non-saturating)", {"loss": {"name": "non-saturating"}}),
    "wgan-gp": (
        "WGAN-GP (n_critic 5)",
        {"loss": {"name": "wgan-gp"}, "train": {"n_critic": 5}, "optim": {"betas": [0.5, 0.9]}},
    ),
    "dragan": (
        "stabilised: non-saturating + DRAGAN penalty",
        {"loss": {"name": "non-saturating", "penalty": "dragan", "penalty_weight": 10.0}},
    ),
}


def train_variant(sections: dict[str, Any], steps: int, snapshots: list[int], seed: int, n: int):
    """Points generated from fixed latents at each snapshot step."""
    train = {"seed": seed, "progress": False} | sections.get("train", {})
    recipe, stream, _ = toy.build(toy.ring_config(**(sections | {"train": train})))
    z = recipe.noise(n, torch.Generator().manual_seed(seed + 2))
    points = {}
    for step in range(1, steps + 1):
        recipe.step(stream)
        if step in snapshots:
            points[step] = recipe.generate(z)
    return points


@LABS.register("mode-collapse")
def mode_collapse(
    out: Path,
    *,
    steps: int = 2000,
    columns: int = 5,
    variants: list[str] = ["vanilla", "wgan-gp", "dragan"],  # noqa: B006
    n: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The ring toy under the vanilla game, WGAN-GP and a stabiliser: samples over time."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise BadInput(f"mode-collapse: unknown variant(s) {unknown}; use {', '.join(VARIANTS)}.")
    snapshots = sorted({max(1, round(steps * (i + 1) / columns)) for i in range(columns)})
    means = ring_means()
    results, points = {}, {}
    for name in variants:
        points[name] = train_variant(VARIANTS[name][1], steps, snapshots, seed, n)
        results[name] = {str(s): toy_modes(p, means, 0.01) for s, p in points[name].items()}
    plot(points, snapshots, out / "mode-collapse.png")
    numbers: dict[str, Any] = {"plots": ["mode-collapse.png"], "modes": results}
    numbers["summary"] = [
        f"{VARIANTS[v][0]}: modes captured (of 8) at steps {', '.join(map(str, snapshots))}: "
        + ", ".join(f"{r['modes']:.0f}" for r in results[v].values())
        + f"; high-quality share at the end {list(results[v].values())[-1]['high_quality']:.2f}"
        for v in variants
    ]
    return numbers


def plot(points: dict[str, dict[int, torch.Tensor]], snapshots: list[int], path: Path) -> None:
    fig, axes = figure(len(snapshots), len(points), size=2.6)
    means = ring_means()
    for row, (name, by_step) in enumerate(points.items()):
        for col, step in enumerate(snapshots):
            ax = axes[row * len(snapshots) + col]
            p = by_step[step]
            ax.scatter(means[:, 0], means[:, 1], s=30, c="tab:blue", alpha=0.4)
            ax.scatter(p[:, 0], p[:, 1], s=1, c="tab:orange", alpha=0.5)
            ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), xticks=[], yticks=[], aspect="equal")
            ax.set_title(f"step {step}", fontsize=8)
            if col == 0:
                ax.set_ylabel(VARIANTS[name][0].split(":")[0].split("(")[0], fontsize=8)
    save(fig, path)
