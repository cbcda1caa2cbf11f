"""Latent-space tools for a trained run: interpolation grids (linear and spherical), latent
arithmetic with class-mean latents found by gankit.metrics' evaluator, and GAN inversion
z* = argmin ||G(z) - x||^2 for held-out real images (its error measures mode coverage: images G
cannot reconstruct lie off its range).

They need a generator that draws a sample from a latent alone (G(z)): unconditional, BEGAN,
progressive, semi-supervised and VAE runs, not conditional, text or translation ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit import data
from gankit.api import LoadedRun
from gankit.core.images import to_uint8
from gankit.errors import BadInput
from gankit.metrics.evaluator import Evaluator
from gankit.recipes.translation import evaluating
from gankit.viz.grid import save_readable_grid


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    return a + (b - a) * t


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation (White 2016): stays at the norm Gaussian latents actually have."""
    na, nb = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = (na * nb).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7).acos()
    so = omega.sin()
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def need_latent_generator(run: LoadedRun, what: str, images: bool = True) -> None:
    """BadInput unless the run's G maps a latent alone to one item of the data's shape."""
    r = run.recipe
    alone = r.samples_from_noise and not getattr(r, "conditional", False) and "g" in r.modules
    if alone:  # a G of several outputs (CoGAN's pairs) draws items of another shape
        alone = tuple(r.generate(latents(run, 1, 0)).shape[1:]) == tuple(run.spec.shape)
    if not alone or (images and run.spec.kind != "image"):
        kind = "an image" if images else "a"
        raise BadInput(
            f"{what} needs {kind} run whose G draws samples from a latent alone (unconditional, "
            f"began, progressive, semi-supervised, vae); this one is {run.cfg.recipe} on "
            f"{run.spec.kind}."
        )


def latents(run: LoadedRun, n: int, seed: int) -> Tensor:
    """n latents of the run's prior, from a generator seeded with `seed` on the run's device."""
    return run.recipe.noise(n, torch.Generator(device=run.recipe.device).manual_seed(seed))


def interpolation_grid(
    run: LoadedRun, out: Path, mode: str = "linear", rows: int = 6, steps: int = 10, seed: int = 0
) -> Path:
    """rows x steps images: each row walks from one random latent to another."""
    need_latent_generator(run, "interpolation")
    if mode not in ("linear", "slerp"):
        raise BadInput(f'--interpolate "{mode}": use linear or slerp.')
    z = latents(run, 2 * rows, seed)
    a, b = z[:rows, None], z[rows:, None]
    t = torch.linspace(0, 1, steps, device=z.device).view(1, steps, 1)
    path_fn = lerp if mode == "linear" else slerp
    path = out / f"interpolate-{mode}.png"
    title = f"{mode} interpolation: each row walks from one random latent (left) to another"
    save_readable_grid(
        run.recipe.generate(path_fn(a, b, t).flatten(0, 1)), path, steps, None, title
    )
    return path


def load_evaluator(run: LoadedRun) -> Evaluator:
    from gankit.metrics import evaluator

    return evaluator.load(run.cfg.data, run.spec.shape[0])


def class_mean_latents(
    run: LoadedRun, evaluator: Evaluator, n: int = 2000, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """(mean latent of the samples the evaluator puts in each class (K, z), counts (K,))."""
    z = latents(run, n, seed)
    images = torch.cat([to_uint8(run.recipe.generate(c)).cpu() for c in z.split(500)])
    predicted = evaluator.embed(images)[1].argmax(1).to(z.device)
    k = evaluator.meta["num_classes"]
    counts = torch.bincount(predicted, minlength=k)
    means = torch.stack([z[predicted == c].mean(0) if counts[c] else z.new_zeros(z.shape[1])
                         for c in range(k)])  # fmt: skip
    return means, counts.cpu()


def arithmetic(run: LoadedRun, out: Path, a: int, b: int, c: int, seed: int = 0) -> dict[str, Any]:
    """G(mean_A), G(mean_B), G(mean_C) and G(mean_A - mean_B + mean_C), with the class the
    evaluator sees in each."""
    need_latent_generator(run, "latent arithmetic")
    evaluator = load_evaluator(run)
    means, counts = class_mean_latents(run, evaluator, seed=seed)
    for cls in (a, b, c):
        if not 0 <= cls < len(means):
            raise BadInput(f"--arithmetic class {cls} is out of range: the evaluator knows "
                           f"classes 0..{len(means) - 1}.")  # fmt: skip
        if counts[cls] == 0:
            raise BadInput(f"--arithmetic class {cls}: no generated sample was classified so "
                           f"(counts {counts.tolist()}); pick classes G produces.")  # fmt: skip
    z = torch.stack([means[a], means[b], means[c], means[a] - means[b] + means[c]])
    images = run.recipe.generate(z)
    probs = evaluator.embed(to_uint8(images).cpu())[1]
    path = out / f"arithmetic-{a}-{b}+{c}.png"
    names = evaluator.meta.get("class_names") or [str(k) for k in range(len(means))]
    seen = [f"seen: {names[k]}" for k in probs.argmax(1).tolist()]
    labels = [f"A: {names[a]}", f"B: {names[b]}", f"C: {names[c]}", "A - B + C"]
    labels = [f"{label}\n{s}" for label, s in zip(labels, seen)]
    title = "G(class-mean latents), and G(A - B + C)"
    save_readable_grid(images, path, 4, labels, title)
    return {"expression": f"{a} - {b} + {c}", "grid": str(path), "class_counts": counts.tolist(),
            "predicted": probs.argmax(1).tolist()}  # fmt: skip


def reconstruction_error(g_net: nn.Module, z: Tensor, x: Tensor) -> Tensor:
    """Per-item mean squared error of G(z) against x, in the model's range: (N,)."""
    return (g_net(z) - x).pow(2).flatten(1).mean(1)


def invert(
    run: LoadedRun, x: Tensor, steps: int = 300, lr: float = 0.05, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """z* = argmin_z ||G(z) - x||^2 by Adam from a random start; returns (z*, per-item MSE)."""
    need_latent_generator(run, "inversion", images=False)
    g_net = run.generator()
    z = latents(run, len(x), seed).requires_grad_(True)
    x = x.to(z.device)
    opt = torch.optim.Adam([z], lr=lr)
    with evaluating([g_net]):  # batch norm on running statistics, as when sampling
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            reconstruction_error(g_net, z, x).sum().backward(inputs=[z])  # G's weights stay
            opt.step()
        with torch.no_grad():
            return z.detach(), reconstruction_error(g_net, z, x).cpu()


def inversion_report(
    run: LoadedRun, out: Path, n: int = 64, steps: int = 300, seed: int = 0
) -> dict[str, Any]:
    """Reconstruction error of held-out real items vs of G's own samples (its floor)."""
    if n < 1:
        raise BadInput(f"--invert {n}: invert at least one item.")
    test = data.build(run.cfg.data, "test")
    idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n]
    real = test.to_model_range(test.x[idx])
    own = run.recipe.generate(latents(run, len(real), seed + 1))
    z_real, err_real = invert(run, real, steps, seed=seed)
    _, err_own = invert(run, own, steps, seed=seed + 2)
    result = {"n": len(real), "steps": steps, "mse_held_out": float(err_real.mean()),
              "mse_own_samples": float(err_own.mean()),
              "mse_held_out_worst_decile": float(err_real.quantile(0.9))}  # fmt: skip
    if run.spec.kind == "image":
        recon = run.recipe.generate(z_real).cpu()
        pairs = torch.stack([real[:16], recon[:16]], 1).flatten(0, 1)
        labels = ["held out", "G(z*)"] * len(pairs[::2])
        title = "GAN inversion: each held-out image, then G(z*) at its best latent z*"
        save_readable_grid(pairs, out / "invert.png", 8, labels, title)
        result["grid"] = str(out / "invert.png")
    return result
