"""Every shipped config: throughput, and quality and samples after a fixed short training budget.

For each configs/*.yaml: steps per second of the training step alone (median of 3 timed blocks,
after warm-up); then a real `gankit train` run of `--budget` seconds (logging, doctor, sample
grids and checkpoints included) scored at its end by the config's own evaluation with the
metrics' floors, and its last sample grid copied to docs/img/budget-<config>.png. One record per
config goes to docs/benchmarks/configs.jsonl; `bench/render.py` turns them into the summary table
at the top of docs/BENCHMARKS.md.

    python bench/configs.py --budget 30                     # the summary table (all configs)
    python bench/configs.py --budget 5 --steps 2 --only quickstart --no-record   # a quick check
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from gankit import api, config, data
from gankit.errors import BadInput
from gankit.train.trainer import build_recipe

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = records.ROOT
# The number a reader looks at first, per kind of evaluation, in the order tried.
HEADLINE = ("fid", "modes", "valid", "w1_mean")


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


def budget_run(path: Path, budget: float, out_png: Path) -> dict[str, Any]:
    """Train for `budget` seconds, score at the end; the run's step, metrics and sample grid."""
    with tempfile.TemporaryDirectory() as tmp:
        overrides = [
            f"train.budget_s={budget}",
            "train.progress=false",
            "eval.at_end=true",
            "eval.every=0",
            "train.steps=100000000",
        ]
        try:
            result = api.train(path, Path(tmp) / "run", overrides)
        except BadInput as e:  # no evaluation applies to this config: train without one
            print(f"{path.stem}: no end-of-run evaluation ({e}); training without", flush=True)
            retry = [o for o in overrides if not o.startswith("eval.at_end")]
            result = api.train(path, Path(tmp) / "run-no-eval", [*retry, "eval.at_end=false"])
        shutil.copy(result["samples"], out_png)
        return {"step": result["step"], "metrics": result.get("metrics") or {}}


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    for key in HEADLINE:
        if isinstance(metrics.get(key), (int, float)):
            return {
                "metric": key,
                "value": metrics[key],
                "floor": metrics.get(f"{key}_floor"),
                "total": metrics.get(f"{key}_total"),
            }
    return {"metric": None, "value": None, "floor": None, "total": None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--budget", type=float, default=30.0, help="seconds of training per config")
    p.add_argument("--steps", type=int, default=10, help="steps per timed block")
    p.add_argument("--only", nargs="*", help="config names (default: all)")
    p.add_argument("--no-record", action="store_true", help="print only; write no record")
    a = p.parse_args()
    paths = sorted((ROOT / "configs").glob("*.yaml"))
    if a.only:
        paths = [q for q in paths if q.stem in a.only]
    for path in paths:
        cfg = config.load(path)
        try:
            data.build(cfg.data)
        except BadInput as e:  # a template for the user's own data (folder-64.yaml, ...)
            skipped = {"config": path.stem, "description": cfg.description, "skipped": str(e)}
            print(json.dumps(records.append("" if a.no_record else "configs", skipped)))
            continue
        png = ROOT / "docs" / "img" / f"budget-{path.stem}.png"
        run = budget_run(path, a.budget, png)
        record = {
            "config": path.stem,
            "description": cfg.description,
            "recipe": cfg.recipe,
            "steps_per_s": round(steps_per_second(cfg, a.steps), 3),
            "batch_size": cfg.train.batch_size,
            "budget_s": a.budget,
            "budget_steps": run["step"],
            "headline": headline(run["metrics"]),
            "metrics": run["metrics"],
            "png": str(png.relative_to(ROOT / "docs")),
        }
        if not a.no_record:
            record = records.append("configs", record)
        print(json.dumps(records.strict(record), default=str), flush=True)


if __name__ == "__main__":
    main()
