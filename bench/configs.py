"""Throughput of every shipped config, and its samples after a fixed short training budget.

For each configs/*.yaml: steps per second of the training step (median of 3 timed blocks, after
warm-up), the ratio to the classic MLP config measured in the same process, and a sample grid after
`--budget` seconds of real training (written to docs/img/budget-<config>.png).

    .venv/bin/python bench/configs.py --budget 60        # the docs/BENCHMARKS.md table
    .venv/bin/python bench/configs.py --budget 5 --steps 5 --only quickstart   # a quick check
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gankit import api, config, data
from gankit.train.trainer import build_recipe

ROOT = Path(__file__).resolve().parent.parent


def steps_per_second(cfg: config.Config, steps: int, repeats: int = 3) -> float:
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, torch.device("cpu"))
    stream = data.BatchStream(ds, cfg.train.batch_size, cfg.train.seed, torch.device("cpu"))
    for _ in range(3):  # warm-up: allocator, lazy init
        recipe.step(stream)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            recipe.step(stream)
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def budget_samples(path: Path, budget: float, out_png: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        result = api.train(
            path,
            Path(tmp) / "run",
            [
                f"train.budget_s={budget}",
                "train.progress=false",
                "eval.at_end=false",
                "eval.every=0",
                "train.steps=100000000",
            ],
        )
        shutil.copy(result["samples"], out_png)
        return result["step"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--budget", type=float, default=60.0, help="seconds of training per config")
    p.add_argument("--steps", type=int, default=20, help="steps per timed block")
    p.add_argument("--only", nargs="*", help="config names (default: all)")
    a = p.parse_args()
    paths = sorted((ROOT / "configs").glob("*.yaml"))
    if a.only:
        paths = [q for q in paths if q.stem in a.only]
    rows = []
    baseline = None
    for path in paths:
        cfg = config.load(path)
        if cfg.recipe != "unconditional":
            continue
        rate = steps_per_second(cfg, a.steps)
        if path.stem == "mlp-fashion":
            baseline = rate
        png = ROOT / "docs" / "img" / f"budget-{path.stem}.png"
        steps = budget_samples(path, a.budget, png)
        rows.append(
            {
                "config": path.stem,
                "steps_per_s": rate,
                "budget_steps": steps,
                "png": str(png.relative_to(ROOT)),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(
        f"\nCPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; budget {a.budget:g} s per config\n"
    )
    print("| config | steps/s (median of 3) | vs mlp-fashion | steps in budget | samples |")
    print("|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['steps_per_s'] / baseline:.3f}" if baseline else "n/a"
        print(
            f"| {r['config']} | {r['steps_per_s']:.1f} | {ratio} | {r['budget_steps']} | "
            f"![]({r['png'].removeprefix('docs/')}) |"
        )


if __name__ == "__main__":
    main()
