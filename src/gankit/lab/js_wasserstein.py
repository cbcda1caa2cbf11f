"""js-vs-wasserstein: the parallel lines of the WGAN paper (Arjovsky et al. 2017, Example 1).

P_0 is uniform on the segment {0} x [0, 1], P_theta on {theta} x [0, 1]. For theta != 0 the
supports are disjoint, so JS(P_0, P_theta) = log 2 whatever the distance (no gradient), while
W(P_0, P_theta) = |theta| (a gradient everywhere). The lab plots both against theta, and checks
them with estimates: W by exact optimal transport between samples, and both from learned critics
built from gankit's parts (an MLP with the BCE game gives JS = (V(D) + log 4) / 2; a WGAN-GP
critic gives W), whose derivative in theta is what a generator would follow.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from gankit import nets
from gankit.lab.plots import figure, save
from gankit.lab.registry import LABS
from gankit.losses import bce_d_loss, wasserstein_d_loss
from gankit.penalties import gradient_penalty


def segment(theta: torch.Tensor | float, n: int, g: torch.Generator) -> torch.Tensor:
    """n points of P_theta: x = theta, y ~ U[0, 1] (theta may carry a gradient)."""
    y = torch.rand(n, 1, generator=g)
    return torch.cat([torch.zeros(n, 1) + theta, y], 1)


def exact_w1(a: torch.Tensor, b: torch.Tensor) -> float:
    """W1 between two equal-size samples: the optimal assignment's mean distance."""
    cost = torch.cdist(a.double(), b.double()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def learned(theta: float, game: str, steps: int, batch: int, seed: int) -> tuple[float, float]:
    """(estimate, d estimate / d theta) from a critic trained on P_0 vs P_theta."""
    torch.manual_seed(seed)
    d = nets.build("mlp", "d", (2,), 2, hidden=[64, 64], activation="leaky_relu")
    opt = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.9))
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        real, fake = segment(0.0, batch, g), segment(theta, batch, g)
        if game == "js":
            loss = bce_d_loss(d(real), d(fake))
        else:
            loss = wasserstein_d_loss(d(real), d(fake)) + 10 * gradient_penalty(d, real, fake, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    t = torch.tensor(float(theta), requires_grad=True)
    real, fake = segment(0.0, 4096, g), segment(t, 4096, g)
    if game == "js":
        estimate = (math.log(4) - bce_d_loss(d(real), d(fake))) / 2  # V(D) = -d_loss
    else:
        estimate = -wasserstein_d_loss(d(real), d(fake))
    (grad,) = torch.autograd.grad(estimate, t)
    return float(estimate.detach()), float(grad)


@LABS.register("js-vs-wasserstein")
def js_vs_wasserstein(
    out: Path,
    *,
    thetas: list[float] = [-1.0, -0.6, -0.3, -0.1, 0.0, 0.1, 0.3, 0.6, 1.0],  # noqa: B006
    steps: int = 400,
    batch: int = 256,
    n_exact: int = 256,
    seed: int = 0,
) -> dict[str, Any]:
    """JS stays log 2 for theta != 0 while W = |theta|: both plotted against theta."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for theta in thetas:
        js_hat, js_grad = learned(theta, "js", steps, batch, seed)
        w_hat, w_grad = learned(theta, "w", steps, batch, seed)
        rows.append(
            {
                "theta": theta,
                "js": 0.0 if theta == 0 else math.log(2),
                "w": abs(theta),
                "w_exact_ot": exact_w1(segment(0.0, n_exact, g), segment(theta, n_exact, g)),
                "js_learned": js_hat,
                "js_learned_grad": js_grad,
                "w_learned": w_hat,
                "w_learned_grad": w_grad,
            }
        )
    plot(rows, out / "js-vs-wasserstein.png")
    far = [r for r in rows if abs(r["theta"]) >= 0.3]
    w_err = max(abs(r["w_exact_ot"] - r["w"]) for r in rows)
    numbers = {"plots": ["js-vs-wasserstein.png"], "rows": rows, "w_exact_max_error": w_err}
    numbers["summary"] = [
        f"JS = log 2 = {math.log(2):.4f} for every theta != 0; learned JS at |theta| >= 0.3: "
        + ", ".join(f"{r['js_learned']:.3f}" for r in far),
        f"W = |theta|: exact OT on samples within {w_err:.2e}; learned WGAN-GP critic: "
        + ", ".join(f"{r['theta']:+.1f}->{r['w_learned']:.2f}" for r in far),
        "d/dtheta at |theta| >= 0.3: JS "
        + ", ".join(f"{r['js_learned_grad']:+.2g}" for r in far)
        + "; W "
        + ", ".join(f"{r['w_learned_grad']:+.2g}" for r in far),
    ]
    return numbers


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    fig, (left, right) = figure(2, size=4.6)
    col = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    fine = np.linspace(col["theta"].min(), col["theta"].max(), 401)
    left.plot(fine, np.where(fine == 0, 0, math.log(2)), "C0", label="JS (exact): log 2")
    left.plot(fine, np.abs(fine), "C1", label="W (exact): |theta|")
    left.plot(col["theta"], col["js_learned"], "C0o", label="JS from a trained D")
    left.plot(col["theta"], col["w_learned"], "C1s", label="W from a WGAN-GP critic")
    left.plot(col["theta"], col["w_exact_ot"], "k+", label="W by optimal transport")
    left.set(xlabel="theta", title="distance between P_0 and P_theta")
    left.legend(fontsize=8)
    right.axhline(0, color="0.7")
    right.plot(col["theta"], col["js_learned_grad"], "C0o-", label="d JS / d theta (learned)")
    right.plot(col["theta"], col["w_learned_grad"], "C1s-", label="d W / d theta (learned)")
    right.set(xlabel="theta", title="the gradient a generator would get")
    right.legend(fontsize=8)
    save(fig, path)
