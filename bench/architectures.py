"""Architectures x losses x stabilisers on Fashion-MNIST, each trained for the same wall-clock
budget over seeds, scored by gankit.metrics (own evaluator): FID, precision, recall, classes seen,
steps per second; beside bench/reference_dcgan.py (the plain eager DCGAN loop) given the same
budget and scored the same way.

    .venv/bin/python bench/architectures.py --budget 600 --seeds 0 1 2 --n 10000   # the full table
    .venv/bin/python bench/architectures.py --budget 60 --seeds 0 --n 2000 --only dcgan began

Runs are kept in --runs (default runs/architectures) and reused when there, so --train-only first
and scoring later give the same table; steps/s is steps reached / budget (setup excluded).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from gankit import api
from gankit.config import DataConfig
from gankit.metrics import evaluate_generator, evaluate_samples
from gankit.train import checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = Path(__file__).resolve().parent.parent
METRICS = ["fid", "precision_recall", "classes"]
FASHION = DataConfig(name="fashion-mnist", size=28)

# name -> (config, extra overrides): the combinations worth showing.
COMBINATIONS = {
    "dcgan": ("dcgan-fashion", []),
    "dcgan-resize": ("dcgan-resize-fashion", []),
    "dcgan-ema": ("dcgan-fashion", ["train.ema=0.999"]),
    "dcgan-diffaugment-ema": ("dcgan-diffaugment-ema-fashion", []),
    "dcgan-improved-techniques": ("improved-techniques-fashion", []),
    "dcgan-hinge-sn": ("hinge-fashion", []),
    "resnet-sn-hinge": ("resnet-sn-hinge-fashion", []),
    "progressive": ("progressive-fashion", []),
    "style": ("style-fashion", []),
    "began": ("began-fashion", []),
}


def gankit_run(
    name: str, seed: int, budget: float, n: int, runs: Path, train_only: bool = False
) -> dict | None:
    """Train a combination for `budget` seconds (kept in runs/, reused if there), then score it."""
    config, extra = COMBINATIONS[name]
    out = runs / f"{name}-{seed}"
    if not checkpoint.list_steps(out / "checkpoints"):
        overrides = [
            *extra,
            f"train.seed={seed}",
            f"train.budget_s={budget}",
            "train.steps=100000000",  # the budget decides when to stop
            "train.progress=false",
            "train.checkpoint_every=100000000",
            "train.sample_every=100000000",
        ]
        api.train(ROOT / "configs" / f"{config}.yaml", out, overrides)
    if train_only:
        return None
    loaded = api.load(out)
    cfg = loaded.cfg
    cfg.eval.n, cfg.eval.metrics = n, METRICS
    record = {"name": name, "seed": seed, "step": loaded.step, "steps_per_s": loaded.step / budget}
    scores = evaluate_generator(loaded.recipe, cfg) | record
    if loaded.generator(ema=True) is not loaded.generator(ema=False):
        # also the live G: an EMA lags far behind in short runs
        scores["live_g"] = evaluate_generator(loaded.recipe, cfg, ema=False)
    return scores


def reference_run(
    seed: int, budget: float, n: int, runs: Path, train_only: bool = False
) -> dict | None:
    """bench/reference_dcgan.py in its own process, its export scored like a gankit run."""
    out = runs / f"reference-dcgan-{seed}.npz"
    log = out.with_suffix(".log")
    if not out.exists():
        cmd = [sys.executable, str(ROOT / "bench" / "reference_dcgan.py")]
        cmd += ["--seconds", str(budget), "--n", str(n), "--seed", str(seed), "--out", str(out)]
        run = subprocess.run(cmd, check=True, capture_output=True, text=True)
        log.write_text(run.stdout)
    if train_only:
        return None
    steps = int(re.search(r"(\d+) G steps", log.read_text()).group(1))
    images = torch.from_numpy(np.load(out)["images"][:n])
    metrics = evaluate_samples(images, FASHION, METRICS, seed=seed)
    return (
        metrics
        | {"name": "reference-dcgan", "seed": seed, "step": steps}
        | {"steps_per_s": steps / budget}
    )


COLUMNS = ["fid", "precision", "recall", "classes_seen", "class_kl", "step", "steps_per_s"]


def cell(runs: list[dict], key: str) -> str:
    values = [float(r[key]) for r in runs if isinstance(r.get(key), (int, float))]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.mean(values):.3g} ± {statistics.pstdev(values):.2g}"


def table(results: dict[str, list[dict]]) -> str:
    lines = ["| combination | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, runs in results.items():
        lines.append(f"| {name} | " + " | ".join(cell(runs, k) for k in COLUMNS) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--budget", type=float, default=600, help="training seconds per run")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n", type=int, default=10_000, help="samples per evaluation")
    p.add_argument("--only", nargs="+", choices=sorted(COMBINATIONS), help="these combinations")
    p.add_argument("--no-reference", action="store_true", help="skip the reference loop")
    p.add_argument("--runs", type=Path, default=Path("runs/architectures"), help="run folders")
    p.add_argument("--train-only", action="store_true", help="train, do not score (yet)")
    records.argument(p, "architectures-600s")
    a = p.parse_args()
    a.runs.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict]] = {}
    jobs = [(name, seed) for name in a.only or COMBINATIONS for seed in a.seeds]
    if not a.no_reference:
        jobs += [("reference-dcgan", seed) for seed in a.seeds]
    for name, seed in jobs:
        if name == "reference-dcgan":
            r = reference_run(seed, a.budget, a.n, a.runs, a.train_only)
        else:
            r = gankit_run(name, seed, a.budget, a.n, a.runs, a.train_only)
        if r is None:
            continue
        if not a.train_only:
            r = records.append(a.record, r)
        print(json.dumps(records.strict(r), default=str), flush=True)
        results.setdefault(name, []).append(r)
        if "live_g" in r:
            results.setdefault(f"{name} (live G, not EMA)", []).append(r | r["live_g"])
    print(table(results))


if __name__ == "__main__":
    main()
