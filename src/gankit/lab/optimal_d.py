"""optimal-d: for a fixed p_g, the discriminator that maximises V(D, G) is D* = p_data/(p_data+p_g)
(Goodfellow et al. 2014, Prop. 1), and at D*, V(D*, G) = -log 4 + 2 JSD(p_data || p_g) (Thm. 1).

p_data is gankit's `gaussians-1d` toy (a mixture of Gaussians), p_g a fixed Gaussian. A gankit MLP
discriminator is trained on samples of both with the game's own D loss until it converges; its
sigmoid output is compared with D* on a grid, and both sides of the theorem are computed by
quadrature from the densities: V(D*, G) directly, and the JSD from its definition.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.special import xlogy

from gankit import data, nets
from gankit.config import DataConfig
from gankit.lab.plots import figure, save
from gankit.lab.registry import LABS
from gankit.losses import bce_d_loss


def mixture_pdf(x: np.ndarray, means: list[float], std: float) -> np.ndarray:
    """Density of an equal-weight Gaussian mixture (the gaussians-1d toy)."""
    z = (x[:, None] - np.asarray(means)[None, :]) / std
    return np.exp(-0.5 * z**2).mean(1) / (std * math.sqrt(2 * math.pi))


def value_at(d: np.ndarray, p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """V(D, G) = E_p[log D] + E_q[log(1 - D)] by the trapezoid rule (0 log 0 = 0)."""
    return float(np.trapezoid(xlogy(p, d) + xlogy(q, 1 - d), x))


def jsd(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, by the trapezoid rule."""
    m = 0.5 * (p + q)
    kl_p = xlogy(p, p) - xlogy(p, m)
    kl_q = xlogy(q, q) - xlogy(q, m)
    return float(0.5 * np.trapezoid(kl_p, x) + 0.5 * np.trapezoid(kl_q, x))


def train_discriminator(
    real: torch.Tensor, g_mean: float, g_std: float, steps: int, batch: int, lr: float,
    hidden: list[int], seed: int,
) -> torch.nn.Module:  # fmt: skip
    torch.manual_seed(seed)
    d = nets.build("mlp", "d", (1,), 1, hidden=hidden, activation="leaky_relu")
    opt = torch.optim.Adam(d.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)  # settle to the optimum
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = real[torch.randint(len(real), (batch,), generator=g)]
        fake = g_mean + g_std * torch.randn(batch, 1, generator=g)
        loss = bce_d_loss(d(x), d(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return d.eval()


@LABS.register("optimal-d")
def optimal_d(
    out: Path,
    *,
    steps: int = 3000,
    batch: int = 512,
    lr: float = 2e-3,
    hidden: list[int] = [64, 64],  # noqa: B006  (read only)
    data_means: list[float] = [-2.0, 2.0],  # noqa: B006
    data_std: float = 0.5,
    g_mean: float = 0.0,
    g_std: float = 1.5,
    threshold: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """D trained to convergence vs D* = p_data/(p_data+p_g); V(D*,G) vs -log 4 + 2 JSD."""
    cfg = DataConfig("gaussians-1d", options={"means": tuple(data_means), "std": data_std})
    real = data.build(cfg).x
    d = train_discriminator(real, g_mean, g_std, steps, batch, lr, list(hidden), seed)
    x = np.linspace(-12, 12, 48001)
    p = mixture_pdf(x, data_means, data_std)
    q = mixture_pdf(x, [g_mean], g_std)
    d_star = p / np.maximum(p + q, 1e-300)
    with torch.no_grad():
        d_net = torch.sigmoid(d(torch.from_numpy(x).float().view(-1, 1))).double().numpy()
    region = np.maximum(p, q) >= threshold * max(p.max(), q.max())
    err = np.abs(d_net - d_star)
    v_star, js = value_at(d_star, p, q, x), jsd(p, q, x)
    numbers = {
        "max_abs_error": float(err[region].max()),
        "mean_abs_error": float(err[region].mean()),
        "region": [float(x[region].min()), float(x[region].max())],
        "v_d_star": v_star,
        "jsd": js,
        "minus_log4_plus_2jsd": -math.log(4) + 2 * js,
        "theorem_gap": abs(v_star - (-math.log(4) + 2 * js)),
        "v_d_trained": value_at(np.clip(d_net, 1e-12, 1 - 1e-12), p, q, x),
    }
    plot(x, p, q, d_star, d_net, region, out / "optimal-d.png")
    numbers["plots"] = ["optimal-d.png"]
    numbers["summary"] = [
        f"max |D - D*| = {numbers['max_abs_error']:.4f} over x in "
        f"[{numbers['region'][0]:.2f}, {numbers['region'][1]:.2f}] "
        f"(mean {numbers['mean_abs_error']:.4f})",
        f"V(D*, G) = {v_star:.6f};  -log 4 + 2 JSD = {numbers['minus_log4_plus_2jsd']:.6f} "
        f"(JSD {js:.6f}, gap {numbers['theorem_gap']:.1e})",
        f"V(D_trained, G) = {numbers['v_d_trained']:.6f} (<= V(D*, G): D* is the maximiser)",
    ]
    return numbers


def plot(x, p, q, d_star, d_net, region, path: Path) -> None:
    fig, (left, right) = figure(2)
    view = (x > -6) & (x < 6)
    left.plot(x[view], p[view], label="p_data")
    left.plot(x[view], q[view], label="p_g (fixed)")
    left.set_title("densities")
    left.legend()
    right.plot(x[view], d_star[view], "k--", label="D* = p_data / (p_data + p_g)")
    right.plot(x[view], d_net[view], label="D trained (sigmoid of the MLP's logit)")
    lo, hi = x[region].min(), x[region].max()
    right.axvspan(max(lo, -6), min(hi, 6), color="0.92", zorder=0, label="region scored")
    right.set_ylim(-0.05, 1.05)
    right.set_title("the optimal discriminator")
    right.legend(fontsize=8)
    save(fig, path)
