"""Checkerboard artifacts of transposed-convolution vs resize-convolution DCGAN generators.

Trains configs/dcgan-fashion.yaml (transposed convolutions) and configs/dcgan-resize-fashion.yaml
(nearest upsample + 3x3 conv) for the same wall-clock budget and seed, samples each, and reports
gankit.diagnostics.checkerboard's share of spectral energy at the upsampling frequencies, beside
the same share for real Fashion-MNIST test images (the floor).

    .venv/bin/python bench/checkerboard.py --budget 120 --seeds 0     # docs/benchmarks table
    .venv/bin/python bench/checkerboard.py --budget 10 --n 200        # a quick check
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from gankit import api, config, data
from gankit.diagnostics.checkerboard import checkerboard_share

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {"transposed": "dcgan-fashion", "resize": "dcgan-resize-fashion"}


def train_and_measure(name: str, budget: float, seed: int, n: int, work: Path) -> dict:
    """One budgeted run of a config; its samples' checkerboard shares and its speed."""
    overrides = [
        f"train.budget_s={budget}",
        "train.steps=1000000",
        f"train.seed={seed}",
        "train.progress=false",
        "train.checkpoint_every=1000000",
        "train.sample_every=1000000",
        "train.log_every=50",
    ]
    result = api.train(ROOT / "configs" / f"{name}.yaml", work / f"{name}-{seed}", overrides)
    images = api.sample(result["run"], n, seed=seed + 100)["images"]
    return {
        "steps": result["step"],
        "steps_per_s": round(result["step"] / budget, 2),
        "share": checkerboard_share(images),
        "share_period2": checkerboard_share(images, periods=(2,)),
    }


def real_floor(n: int) -> dict:
    cfg = config.load(ROOT / "configs" / "dcgan-fashion.yaml")
    ds = data.build(cfg.data, split="test")
    x = ds.to_model_range(ds.x[:n])
    return {"share": checkerboard_share(x), "share_period2": checkerboard_share(x, periods=(2,))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--budget", type=float, default=120, help="training seconds per run")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--n", type=int, default=1000, help="samples per run")
    p.add_argument("--threads", type=int, default=2)
    records.argument(p, "checkerboard")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    results: dict = {"budget_s": a.budget, "seeds": a.seeds, "n": a.n, "real": real_floor(a.n)}
    with tempfile.TemporaryDirectory() as tmp:
        for label, name in CONFIGS.items():
            runs = [train_and_measure(name, a.budget, s, a.n, Path(tmp)) for s in a.seeds]
            results[label] = {"config": name, "runs": runs}
            results[label]["mean_share"] = statistics.mean(r["share"] for r in runs)
    results = records.append(a.record, results)
    print(json.dumps(results, indent=1))
    print(markdown(results))


def markdown(results: dict) -> str:
    lines = [
        "| generator | config | seed | steps | share (periods 2, 4) | share (period 2) |",
        "|---|---|---|---|---|---|",
    ]
    for label in CONFIGS:
        for seed, r in zip(results["seeds"], results[label]["runs"]):
            lines.append(
                f"| {label} | {results[label]['config']} | {seed} | {r['steps']} | "
                f"{r['share']:.4f} | {r['share_period2']:.4f} |"
            )
    real = results["real"]
    lines.append(
        f"| real test images | - | - | - | {real['share']:.4f} | {real['share_period2']:.4f} |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
