"""Benchmarks of the pyramid, super-resolution and colourisation families: short CPU training
runs of the shipped configs, each measured on held-out data.

    python bench/families.py --only lapgan|sr-fashion-x4|sr-fashion-x2|sr-photos-x4|colourise
        [--steps N] [--n 2000] [--record]

lapgan         configs/lapgan-fashion.yaml and configs/dcgan-fashion.yaml for the same number
               of G steps at the same batch size (each run's wall time reported): FID with the
               own Fashion-MNIST evaluator, as `gankit eval` computes it (train split reference).
sr-*           bicubic, SRResNet (the srgan config with recipe_options.adversarial=false) and
               SRGAN, the same steps each: PSNR and SSIM (torchmetrics) of the upscaled test
               images against the originals, and for Fashion-MNIST FID of the upscaled test
               images against the test images (own evaluator; there is none for the photos);
               the grid docs/img/<benchmark>.png (input | bicubic | SRResNet | SRGAN | original).
colourise      the L1-only U-Net, the GAN, and the GAN trained with hints (shown 10 true pixels
               of each test crop, fixed seed): L1 in CIELAB and Hasler-Suesstrunk colourfulness
               on the test crops of the sample photos, and the grid docs/img/colourise-photos.png.
Prints one JSON object per benchmark; --record appends it to docs/benchmarks/<family>.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)
from torchvision.utils import save_image

from gankit import api, data
from gankit.config import DataConfig
from gankit.metrics import evaluator
from gankit.metrics.colour import colourfulness, lab_l1
from gankit.metrics.distances import fid
from gankit.recipes.srgan import bicubic, downscale

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = Path(__file__).resolve().parent.parent
CONFIGS, RECORDS = ROOT / "configs", ROOT / "docs/benchmarks"
RUNS = Path("/tmp/gankit-bench-families")
REUSE = False  # --reuse: measure runs an earlier invocation trained to the same step count
TRAIN_ONLY = False  # --train-only: stop after training (the evaluator may not be there yet)
SR = {  # benchmark -> (config, its dataset)
    "sr-fashion-x4": "srgan-fashion-x4",
    "sr-fashion-x2": "srgan-fashion-x2",
    "sr-photos-x4": "srgan-photos-x4",
}


def train(config: str, name: str, steps: int, extra: tuple[str, ...] = ()) -> tuple[object, float]:
    """configs/CONFIG.yaml trained `steps` G steps into RUNS/NAME; (the loaded run, wall s)."""
    out = RUNS / name
    log = out / "metrics.jsonl"
    if REUSE and log.is_file():  # trained by an earlier invocation: its logged training time
        last = json.loads(log.read_text().splitlines()[-1])
        if last["step"] == steps:
            return api.load(out), round(last["time_s"], 1)
    start = time.perf_counter()
    overrides = [f"train.steps={steps}", "train.progress=false", "eval.every=0", *extra]
    with torch.enable_grad():  # the benchmarks measure under no_grad
        api.train(CONFIGS / f"{config}.yaml", out, overrides)
    if TRAIN_ONLY:
        return None, 0.0
    return api.load(out), round(time.perf_counter() - start, 1)


def as_uint8(x: torch.Tensor) -> torch.Tensor:
    return api.to_uint8(x)


def spread(x: torch.Tensor, k: int = 8) -> torch.Tensor:
    """k items evenly spread over x, for a picture (neighbouring crops look alike)."""
    return x[torch.linspace(0, len(x) - 1, k).long()]


@torch.no_grad()
def bench_lapgan(steps: int, n: int) -> dict:
    result = {"benchmark": "lapgan vs dcgan, fashion-mnist 28px", "steps": steps, "n": n}
    for arm, config in (("lapgan", "lapgan-fashion"), ("dcgan", "dcgan-fashion")):
        loaded, wall = train(config, arm, steps)
        scores = api.evaluate(loaded, n=n, metrics=["fid"])
        result[arm] = {"wall_s": wall, "fid": round(scores["fid"], 3)}
        result["protocol"] = scores["protocol"]
    return result


def sr_scores(out: torch.Tensor, target: torch.Tensor, embed) -> dict:
    """PSNR (dB) and SSIM per image, averaged, on [0, 1], and PSNR of the whole set's MSE (a
    mean of dB is ruled by flat images, where bicubic is almost exact: on the photos' crops of
    sky the pooled figure says more); FID when there is an evaluator."""
    a, b = out.float() / 255, target.float() / 255
    psnr = peak_signal_noise_ratio(a, b, data_range=1.0, reduction="none", dim=(1, 2, 3))
    pooled = peak_signal_noise_ratio(a, b, data_range=1.0)
    ssim = structural_similarity_index_measure(a, b, data_range=1.0, reduction="none")
    scores = {"psnr": round(float(psnr.mean()), 3), "psnr_pooled": round(float(pooled), 3),
              "ssim": round(float(ssim.mean()), 4)}  # fmt: skip
    if embed is not None:
        scores["fid"] = round(fid(embed(target), embed(out)), 3)
    return scores


@torch.no_grad()
def bench_sr(name: str, steps: int, n: int) -> dict:
    config = SR[name]
    loaded, wall = train(config, f"{name}-srgan", steps)
    baseline, wall_base = train(
        config, f"{name}-srresnet", steps, ("recipe_options.adversarial=false",)
    )
    cfg, scale = loaded.cfg, loaded.recipe.scale
    test = data.build(cfg.data, "test").x[:n]
    hr = test.float() / 127.5 - 1
    lr = downscale(hr, scale)
    embed = None
    if cfg.data.name == "fashion-mnist":
        ev = evaluator.load(DataConfig("fashion-mnist", cfg.data.size), test.shape[1])
        embed = lambda x: ev.embed(x)[0]  # noqa: E731
    outputs = {
        "bicubic": bicubic(lr, scale),
        "srresnet": baseline.recipe.upscale(lr),
        "srgan": loaded.recipe.upscale(lr),
    }
    result = {
        "benchmark": f"{name}: {cfg.data.name} {hr.shape[-1] // scale} -> {hr.shape[-1]}",
        "config": config,
        "steps": steps,
        "n": len(test),
        "wall_s": {"srresnet": wall_base, "srgan": wall},
    }
    for arm, x in outputs.items():
        result[arm] = sr_scores(as_uint8(x), test, embed)
    # a picture: input (enlarged, nearest) | bicubic | SRResNet | SRGAN | original, 8 test items
    rows = [F.interpolate(lr, scale_factor=scale, mode="nearest"), *outputs.values(), hr]
    grid = ROOT / f"docs/img/{name}.png"
    save_image(
        torch.cat([as_uint8(spread(r)) for r in rows]).float() / 255, grid, nrow=8, padding=1
    )
    result["grid"] = str(grid.relative_to(ROOT))
    if embed is None:
        result["fid"] = "no evaluator for these photos (no class labels to train one)"
    return result


@torch.no_grad()
def bench_colourise(steps: int, n: int) -> dict:
    arms = {
        "l1_only": ("recipe_options.hints=0", "recipe_options.adversarial=false"),
        "gan": ("recipe_options.hints=0",),
        "gan_hints": ("recipe_options.hints=10",),
    }
    result = {"benchmark": "colourise sample-photos 32px", "steps": steps}
    shown = {}
    test = None
    for arm, extra in arms.items():
        loaded, wall = train("colourise-photos", f"colourise-{arm}", steps, extra)
        recipe = loaded.recipe
        if test is None:
            test = data.build(loaded.cfg.data, "test").x[:n]
            result["n"] = len(test)
        x = test.float() / 127.5 - 1
        c, target = recipe.condition(x)
        if recipe.opts["hints"]:  # exactly 10 true pixels each (training draws 0..10), seed 0
            c = reveal(x, 10, torch.Generator().manual_seed(0))
        g = recipe.generator_net()
        g.eval()
        out = as_uint8(g(c))
        real = as_uint8(target)
        result[arm] = {
            "wall_s": wall,
            "lab_l1": round(lab_l1(out, real), 3),
            "colourfulness": round(float(colourfulness(out).mean()), 2),
        }
        shown[arm] = spread(out)
        if arm == "gan_hints":
            shown["hints_shown"] = spread(as_uint8(recipe.shown(c)))
    result["real_colourfulness"] = round(float(colourfulness(real).mean()), 2)
    rows = [spread(as_uint8(x[:, :3])), shown["l1_only"], shown["gan"], shown["hints_shown"]]
    rows += [shown["gan_hints"], spread(real)]
    grid = ROOT / "docs/img/colourise-photos.png"
    save_image(torch.cat(rows).float() / 255, grid, nrow=8, padding=1)
    result["grid"] = str(grid.relative_to(ROOT))
    return result


def reveal(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """The condition with exactly k true pixels of each target revealed."""
    from gankit.data.translation import split
    from gankit.recipes.colourise import hint_planes

    grey, colour = split(x)
    n, _, h, w = colour.shape
    where = torch.stack([torch.randperm(h * w, generator=generator)[:k] for _ in range(n)])
    mask = torch.zeros(n, h * w).scatter_(1, where, 1.0).view(n, 1, h, w)
    return torch.cat([grey, hint_planes(colour, mask)], 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", required=True, choices=["lapgan", *SR, "colourise"])
    p.add_argument("--steps", type=int, default=1000, help="G steps of every training run")
    p.add_argument("--n", type=int, default=2000, help="test items measured")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--record", action="store_true", help="append to docs/benchmarks/")
    p.add_argument("--reuse", action="store_true", help="measure runs already trained")
    p.add_argument(
        "--train-only", action="store_true", help="train the arms and stop (measure with --reuse)"
    )
    a = p.parse_args()
    global REUSE, TRAIN_ONLY
    REUSE, TRAIN_ONLY = a.reuse, a.train_only
    torch.manual_seed(a.seed)
    if a.train_only:  # every arm trained, nothing measured
        for arm in ("lapgan-fashion", "dcgan-fashion") if a.only == "lapgan" else ():
            train(arm, arm.split("-")[0], a.steps)
        if a.only in SR:
            for arm, extra in (("srgan", ()), ("srresnet", ("recipe_options.adversarial=false",))):
                train(SR[a.only], f"{a.only}-{arm}", a.steps, extra)
        return
    if a.only == "lapgan":
        result, family = bench_lapgan(a.steps, a.n), "lapgan"
    elif a.only in SR:
        result, family = bench_sr(a.only, a.steps, a.n), "srgan"
    else:
        result, family = bench_colourise(a.steps, a.n), "colourise"
    result |= {"seed": a.seed, "threads": torch.get_num_threads()}
    result = records.append(family if a.record else "", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
