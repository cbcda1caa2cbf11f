"""Latent-space tools for a trained run: interpolation grids (linear and spherical), latent
arithmetic with class-mean latents found by gankit.metrics' evaluator, and GAN inversion
z* = argmin ||G(z) - x||^2 for held-out real images (its error measures mode coverage: images G
cannot reconstruct lie off its range).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.utils import save_image

from gankit import data
from gankit.api import LoadedRun, to_uint8
from gankit.errors import BadInput


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    return a + (b - a) * t


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation (White 2016): stays at the norm Gaussian latents actually have."""
    na, nb = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = (na * nb).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7).acos()
    so = omega.sin()
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def need_images(run: LoadedRun, what: str) -> None:
    if run.spec.kind != "image" or getattr(run.recipe, "conditional", False):
        raise BadInput(f"{what} needs an unconditional image run (this one is {run.cfg.recipe} on "
                       f"{run.spec.kind}).")  # fmt: skip


def interpolation_grid(
    run: LoadedRun, out: Path, mode: str = "linear", rows: int = 6, steps: int = 10, seed: int = 0
) -> Path:
    """rows x steps images: each row walks from one random latent to another."""
    need_images(run, "interpolation")
    if mode not in ("linear", "slerp"):
        raise BadInput(f'--interpolate "{mode}": use linear or slerp.')
    g = torch.Generator().manual_seed(seed)
    a, b = run.recipe.noise(rows, g).cpu(), run.recipe.noise(rows, g).cpu()
    t = torch.linspace(0, 1, steps).view(1, steps, 1)
    path_fn = lerp if mode == "linear" else slerp
    z = path_fn(a[:, None], b[:, None], t).reshape(rows * steps, -1)
    path = out / f"interpolate-{mode}.png"
    save_grid(run.recipe.generate(z.to(run.recipe.device)), path, steps)
    return path


def class_mean_latents(run: LoadedRun, n: int = 2000, seed: int = 0) -> tuple[Tensor, Tensor]:
    """(mean latent of the samples the evaluator puts in each class (K, z), counts (K,))."""
    from gankit.metrics.evaluator import load

    evaluator = load(run.cfg.data, run.spec.shape[0])
    z = run.recipe.noise(n, torch.Generator().manual_seed(seed)).cpu()
    images = to_uint8(torch.cat([run.recipe.generate(c.to(run.recipe.device)).cpu()
                                 for c in z.split(500)]))  # fmt: skip
    predicted = evaluator.embed(images)[1].argmax(1)
    k = evaluator.meta["num_classes"]
    counts = torch.bincount(predicted, minlength=k)
    means = torch.stack([z[predicted == c].mean(0) if counts[c] else z.new_zeros(z.shape[1])
                         for c in range(k)])  # fmt: skip
    return means, counts


def arithmetic(run: LoadedRun, out: Path, a: int, b: int, c: int, seed: int = 0) -> dict[str, Any]:
    """G(mean_A), G(mean_B), G(mean_C) and G(mean_A - mean_B + mean_C), with the class the
    evaluator sees in the result."""
    need_images(run, "latent arithmetic")
    from gankit.metrics.evaluator import load

    means, counts = class_mean_latents(run, seed=seed)
    for cls in (a, b, c):
        if not 0 <= cls < len(means) or counts[cls] == 0:
            raise BadInput(f"class {cls}: no generated sample was classified so (counts "
                           f"{counts.tolist()}); pick classes G produces.")  # fmt: skip
    z = torch.stack([means[a], means[b], means[c], means[a] - means[b] + means[c]])
    images = run.recipe.generate(z.to(run.recipe.device)).cpu()
    probs = load(run.cfg.data, run.spec.shape[0]).embed(to_uint8(images))[1]
    path = out / f"arithmetic-{a}-{b}+{c}.png"
    save_grid(images, path, 4)
    return {"arithmetic": f"{a} - {b} + {c}", "grid": str(path), "class_counts": counts.tolist(),
            "predicted": probs.argmax(1).tolist()}  # fmt: skip


def invert(
    run: LoadedRun, x: Tensor, steps: int = 300, lr: float = 0.05, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """z* = argmin_z ||G(z) - x||^2 by Adam from a random start; returns (z*, per-item MSE)."""
    g_net = run.recipe.modules["g_ema" if "g_ema" in run.recipe.modules else "g"].eval()
    g_net.requires_grad_(False)
    z = run.recipe.noise(len(x), torch.Generator().manual_seed(seed)).cpu().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        loss = (g_net(z) - x).pow(2).flatten(1).mean(1)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
    with torch.no_grad():
        return z.detach(), (g_net(z) - x).pow(2).flatten(1).mean(1)


def inversion_report(
    run: LoadedRun, out: Path, n: int = 64, steps: int = 300, seed: int = 0
) -> dict[str, Any]:
    """Reconstruction error of held-out real items vs of G's own samples (its floor)."""
    test = data.build(run.cfg.data, "test")
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n]
    real = test.to_model_range(test.x[idx])
    own = run.recipe.generate(run.recipe.noise(n, torch.Generator().manual_seed(seed + 1))).cpu()
    z_real, err_real = invert(run, real, steps, seed=seed)
    _, err_own = invert(run, own, steps, seed=seed + 2)
    result = {"n": n, "steps": steps, "mse_held_out": float(err_real.mean()),
              "mse_own_samples": float(err_own.mean()),
              "mse_held_out_worst_decile": float(err_real.quantile(0.9))}  # fmt: skip
    if run.spec.kind == "image":
        recon = run.recipe.generate(z_real.to(run.recipe.device)).cpu()
        pairs = torch.stack([real[:16], recon[:16]], 1).flatten(0, 1)
        save_grid(pairs, out / "invert.png", 8)
        result["grid"] = str(out / "invert.png")
    return result


def save_grid(images: Tensor, path: Path, nrow: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1, 1),
               padding=1)  # fmt: skip
