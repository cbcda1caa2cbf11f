"""saturation: why G minimises -log D(G(z)) instead of log(1 - D(G(z))) (Goodfellow et al. 2014).

Early in training D rejects the fakes easily, so D(G(z)) is near 0. There log(1 - D) is flat: its
gradient with respect to D's logit is -D(G(z)) itself, while -log D's is -(1 - D(G(z))) ~ -1.
The lab shows both sides: the per-sample gradient of each gankit loss against D(G(z)), and the
norm of the generator's gradient measured over the first steps of two real trainings on the ring
toy (same seed, same strong D; only G's loss differs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.diagnostics.gradnorm import generator_gradient_norm
from gankit.lab import toy
from gankit.lab.plots import figure, save
from gankit.lab.registry import LABS
from gankit.losses import LOSSES

GAMES = {"minimax": "log(1 - D(G(z)))  [minimax]", "non-saturating": "-log D(G(z))"}


def per_sample_gradient(game: str, logits: torch.Tensor) -> np.ndarray:
    """|d g_loss / d logit| for each sample (the loss is a mean, so scale by the count)."""
    logits = logits.clone().requires_grad_(True)
    loss = LOSSES.get(game)().g_loss(logits) * len(logits)
    (grad,) = torch.autograd.grad(loss, logits)
    return grad.abs().numpy()


def early_training(game: str, steps: int, every: int, lr_d: float, n_critic: int, seed: int):
    """(steps, G gradient norms, mean D(G(z))) over the first `steps` steps of a ring run."""
    raw = toy.ring_config(
        loss={"name": game},
        optim={"lr_g": 1e-4, "lr_d": lr_d},
        train={"n_critic": n_critic, "seed": seed, "batch_size": 256, "progress": False},
    )
    recipe, stream, _ = toy.build(raw)
    g = torch.Generator().manual_seed(seed + 99)
    rows = []
    for step in range(1, steps + 1):
        stats = recipe.step(stream)
        if step % every == 0 or step == 1:
            z = recipe.noise(256, g)
            norm = generator_gradient_norm(recipe.G, recipe.D, recipe.game.g_loss, z)
            rows.append((step, norm, float(stats["d_fake"])))
    return [list(col) for col in zip(*rows)]


@LABS.register("saturation")
def saturation(
    out: Path,
    *,
    steps: int = 200,
    every: int = 5,
    lr_d: float = 5e-3,
    n_critic: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """G's gradient under log(1 - D(G(z))) vs -log D(G(z)) early in training, side by side."""
    logits = torch.linspace(-9, 9, 400)
    d = torch.sigmoid(logits).numpy()
    analytic = {game: per_sample_gradient(game, logits) for game in GAMES}
    runs = {game: early_training(game, steps, every, lr_d, n_critic, seed) for game in GAMES}
    plot(d, analytic, runs, out / "saturation.png")
    numbers: dict[str, Any] = {"plots": ["saturation.png"], "runs": {}}
    for game, (at, norms, d_fake) in runs.items():
        numbers["runs"][game] = {"step": at, "g_grad_norm": norms, "d_fake": d_fake}
    at_small = float(np.interp(0.01, d, analytic["minimax"]))
    median = {g: float(np.median(runs[g][1])) for g in GAMES}
    numbers |= {
        "minimax_grad_at_d_0.01": at_small,
        "nonsat_grad_at_d_0.01": float(np.interp(0.01, d, analytic["non-saturating"])),
        "median_g_grad_norm": median,
        "median_d_fake": {g: float(np.median(runs[g][2])) for g in GAMES},
    }
    numbers["summary"] = [
        f"at D(G(z)) = 0.01 the per-sample gradient is {at_small:.3f} for log(1 - D) and "
        f"{numbers['nonsat_grad_at_d_0.01']:.3f} for -log D",
        f"first {steps} steps on the ring (median): ||grad G|| {median['minimax']:.3g} "
        f"(minimax, D(G(z)) {numbers['median_d_fake']['minimax']:.3g}) vs "
        f"{median['non-saturating']:.3g} (-log D, D(G(z)) "
        f"{numbers['median_d_fake']['non-saturating']:.3g})",
    ]
    return numbers


def plot(d, analytic, runs, path: Path) -> None:
    fig, (left, mid, right) = figure(3)
    for game, label in GAMES.items():
        left.plot(d, analytic[game], label=label)
        at, norms, d_fake = runs[game]
        mid.semilogy(at, norms, label=label)
        right.plot(at, d_fake, label=label)
    left.set(xscale="log", xlabel="D(G(z))", ylabel="|d loss / d logit|")
    left.set_title("per-sample gradient of G's loss")
    mid.set(xlabel="training step", ylabel="||grad_theta_G||")
    mid.set_title("G's gradient early in training (ring)")
    right.set(xlabel="training step", ylabel="mean D(G(z))", ylim=(0, 1))
    right.set_title("D(G(z)) in the same runs")
    for ax in (left, mid, right):
        ax.legend(fontsize=8)
    save(fig, path)
