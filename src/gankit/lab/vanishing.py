"""vanishing-gradients: Arjovsky & Bottou (2017), Figures 2 and 3, on gankit's own parts.

A DCGAN is trained (non-saturating game) and its generator is kept after 1, 10 and 25 epochs.
For each kept G, held fixed, a discriminator is trained from scratch and the norm of the
generator's gradient is recorded over D's iterations, for three costs:

- minimax, log(1 - D(G(z))): as D approaches optimality the gradient vanishes;
- -log D(G(z)) (same D, since both games train D the same way): no vanishing, but the norm
  grows and becomes noisy (the paper's instability);
- a WGAN-GP critic (Wasserstein loss + gradient penalty): the gradient stays usable.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit import config, data, nets
from gankit.data import BatchStream
from gankit.diagnostics.gradnorm import frozen_buffers, generator_gradient_norm
from gankit.lab.plots import figure, save
from gankit.lab.registry import LABS
from gankit.losses import LOSSES, bce_d_loss, wasserstein_d_loss
from gankit.penalties import gradient_penalty
from gankit.train.trainer import build_recipe

COSTS = {
    "minimax": "log(1 - D(G(z)))",
    "non-saturating": "-log D(G(z))",
    "wgan-gp": "WGAN-GP critic",
}


def train_generators(
    dataset: str, epochs: list[int], width: int, z_dim: int, batch: int, seed: int
) -> tuple[dict[int, torch.nn.Module], BatchStream, Any]:
    """A DCGAN trained for max(epochs) epochs; copies of G after each epoch count asked for."""
    cfg = config.from_dict(
        {
            "data": {"name": dataset, "size": 28},
            "nets": {"z_dim": z_dim, "g_options": {"width": width}, "d_options": {"width": width}},
            "train": {"batch_size": batch, "seed": seed, "progress": False},
        }
    )
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, torch.device("cpu"))
    stream = BatchStream(ds, batch, seed, torch.device("cpu"))
    per_epoch = len(ds) // batch
    kept = {}
    for epoch in range(1, max(epochs) + 1):
        for _ in range(per_epoch):
            recipe.step(stream)
        if epoch in epochs:
            kept[epoch] = copy.deepcopy(recipe.G)
    return kept, stream, cfg


def log_points(n: int) -> set[int]:
    """Iterations to measure at: about 25 per decade from 1 to n."""
    return {int(round(v)) for v in np.logspace(0, np.log10(max(n, 1)), 60)} | {n}


def fresh_d(cfg, shape, critic: bool, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    opts = dict(cfg.nets.d_options)
    if critic:
        opts["norm"] = "layer"  # a gradient penalty needs a per-sample D (no batch norm)
    return nets.build("dcgan", "d", shape, cfg.nets.z_dim, **opts)


def gradient_curves(
    g: torch.nn.Module, stream: BatchStream, cfg, critic: bool, iters: int, seed: int
) -> dict[str, list[float]]:
    """Train a fresh D against fixed G; G's gradient norm (per cost) at log-spaced iterations."""
    d = fresh_d(cfg, stream.ds.shape, critic, seed)
    opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed)
    z_probe = torch.randn(64, cfg.nets.z_dim, generator=torch.Generator().manual_seed(seed + 1))
    costs = ["wgan-gp"] if critic else ["minimax", "non-saturating"]
    curves: dict[str, list[float]] = {c: [] for c in costs} | {"iteration": []}
    measure_at = log_points(iters)
    for it in range(1, iters + 1):
        real, _ = stream.next()
        with torch.no_grad(), frozen_buffers(g):
            fake = g(torch.randn(len(real), cfg.nets.z_dim, generator=gen))
        if critic:
            loss = wasserstein_d_loss(d(real), d(fake)) + 10 * gradient_penalty(d, real, fake, gen)
        else:
            loss = bce_d_loss(d(real), d(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it in measure_at:
            curves["iteration"].append(it)
            for c in costs:
                g_loss = LOSSES.get(c)().g_loss
                curves[c].append(generator_gradient_norm(g, d, g_loss, z_probe))
    return curves


@LABS.register("vanishing-gradients")
def vanishing_gradients(
    out: Path,
    *,
    dataset: str = "digits",
    epochs: list[int] = [1, 10, 25],  # noqa: B006
    d_iters: int = 300,
    width: int = 16,
    z_dim: int = 32,
    batch: int = 64,
    seed: int = 0,
) -> dict[str, Any]:
    """With G fixed, train D from scratch: G's gradient norm per cost over D's iterations."""
    epochs = sorted(set(epochs))
    kept, stream, cfg = train_generators(dataset, epochs, width, z_dim, batch, seed)
    results: dict[str, Any] = {}
    for epoch, g in kept.items():
        g.train()  # as during training (batch statistics); buffers are restored around use
        bce = gradient_curves(g, stream, cfg, False, d_iters, seed)
        wgan = gradient_curves(g, stream, cfg, True, d_iters, seed)
        results[str(epoch)] = {"iteration": bce["iteration"]} | {
            c: (wgan if c == "wgan-gp" else bce)[c] for c in COSTS
        }
    plot(results, out / "vanishing-gradients.png")
    numbers: dict[str, Any] = {"plots": ["vanishing-gradients.png"], "curves": results}
    numbers["summary"] = [
        f"G after {e} epoch(s) of {dataset}: ||grad G|| from D iteration 1 to {d_iters}: "
        + "; ".join(f"{COSTS[c]} {r[c][0]:.2g} -> {r[c][-1]:.2g}" for c in COSTS)
        for e, r in results.items()
    ]
    return numbers


def plot(results: dict[str, Any], path: Path) -> None:
    fig, axes = figure(len(results), size=4.4)
    for ax, (epoch, r) in zip(axes, results.items()):
        for c, label in COSTS.items():
            ax.semilogy(r["iteration"], r[c], label=label)
        ax.set(xlabel="D iterations (G fixed)", ylabel="||grad_theta_G||")
        ax.set_title(f"G after {epoch} epoch(s)")
        ax.legend(fontsize=8)
    save(fig, path)
