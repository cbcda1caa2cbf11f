"""VAE vs GAN with one budget: the same generator network (configs/vae-fashion.yaml's decoder is
configs/dcgan-fashion.yaml's G), the same batch size and number of steps, one thread of the same
machine. Both are scored with gankit.metrics (FID with the own Fashion-MNIST evaluator, precision,
recall, each beside its real-data floor) and by sharpness: the mean variance of the Laplacian of
the samples (blur lowers it), beside that of real test images.

Prints one JSON line a model, then a markdown table and the command that reruns it; writes
docs/benchmarks/vae-vs-gan.jsonl.

    OMP_NUM_THREADS=1 .venv/bin/python bench/vae_vs_gan.py --steps 400 --n 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from gankit import api, config, data
from gankit.metrics import evaluate_samples
from gankit.train.runlog import read

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = Path(__file__).resolve().parent.parent
LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
METRICS = ["fid", "precision_recall"]


def sharpness(images: torch.Tensor) -> float:
    """Mean over images of the variance of their Laplacian, grey levels in [0, 1]."""
    grey = images.float().div(255).mean(1, keepdim=True)
    return float(F.conv2d(grey, LAPLACIAN).flatten(1).var(1).mean())


def budget(cfg: config.Config) -> tuple:
    """What must agree for a fair comparison: G's network, the data, batch size and steps."""
    n, t = cfg.nets, cfg.train
    return (n.g, n.z_dim, n.g_options, cfg.data, t.batch_size, t.steps)


def train_and_score(path: str, overrides: list[str], n: int, seed: int) -> dict[str, Any]:
    """Train one config in a scratch folder; its training wall time, metrics and sharpness."""
    cfg = config.load(path, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        run = api.train(cfg, Path(tmp) / "run")["run"]
        train_s = read(run)[-1]["time_s"]  # the training loop's clock (no evaluation in it)
        samples = torch.from_numpy(api.sample(run, n, seed)["images"])
    scores = evaluate_samples(samples, cfg.data, METRICS, seed=seed)
    keep = ("fid", "fid_floor", "precision", "precision_floor", "recall", "recall_floor")
    return {
        "model": Path(path).stem,
        "config": path,
        "steps": cfg.train.steps,
        "batch_size": cfg.train.batch_size,
        "train_s": train_s,
        "sharpness": sharpness(samples),
        "protocol": scores["protocol"],
    } | {k: scores[k] for k in keep}


def table(runs: list[dict[str, Any]], real_sharpness: float) -> str:
    lines = [
        "| model | config | steps x batch | train wall s | FID (floor) | precision (floor) | "
        f"recall (floor) | sharpness (real test: {real_sharpness:.4f}) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['model']} | {r['config']} | {r['steps']} x {r['batch_size']} | "
            f"{r['train_s']:.1f} | {r['fid']:.2f} ({r['fid_floor']:.2f}) | "
            f"{r['precision']:.3f} ({r['precision_floor']:.3f}) | "
            f"{r['recall']:.3f} ({r['recall_floor']:.3f}) | {r['sharpness']:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vae", default="configs/vae-fashion.yaml")
    p.add_argument("--gan", default="configs/dcgan-fashion.yaml")
    p.add_argument("--steps", type=int, default=400, help="training steps of each model")
    p.add_argument("--n", type=int, default=2000, help="samples scored per model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], help="extra override for both configs")
    records.argument(p, "vae-vs-gan")
    a = p.parse_args()
    overrides = [
        f"train.steps={a.steps}",
        f"train.seed={a.seed}",
        f"train.checkpoint_every={a.steps}",  # one checkpoint, at the end, for both
        f"train.sample_every={a.steps}",
        "train.progress=false",
        "eval.at_end=false",
        *a.set,
    ]
    vae, gan = config.load(a.vae, overrides), config.load(a.gan, overrides)
    if budget(vae) != budget(gan):
        sys.exit(
            f"{a.vae} and {a.gan} differ in G, data, batch or steps: {budget(vae)} vs {budget(gan)}"
        )
    runs = []
    for path in (a.vae, a.gan):
        runs.append(train_and_score(path, overrides, a.n, a.seed))
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "protocol"}), flush=True)
    test = data.build(vae.data, "test")
    real = sharpness(test.x[: a.n])
    result = {"n": a.n, "seed": a.seed, "real_test_sharpness": real, "runs": runs}
    result = records.append(a.record, result)
    print(f"\n{result['machine']}; {a.n} samples a model\n\n{table(runs, real)}")


if __name__ == "__main__":
    main()
