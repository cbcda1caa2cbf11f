"""CLI commands of the metrics package: `gankit eval` and `gankit evaluator train`.

Registered into gankit.cli's table by importing this module (the last line of cli.py).
Everything heavy is imported inside the runners, so `gankit --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gankit.cli import add_ema_switch, command
from gankit.errors import BadInput

METRIC_NAMES = ["fid", "kid", "is", "precision_recall", "density_coverage", "classes", "modes"]


@command(
    "eval",
    "score a run or an exported .npz: metrics beside their real-data floors, as one JSON object",
    "gankit eval runs/fashion --n 10000   |   gankit eval samples.npz --dataset fashion-mnist",
)
def _eval(p: argparse.ArgumentParser):
    p.add_argument("target", help="run directory, or .npz of samples (sample export contract)")
    p.add_argument("--dataset", help="reference dataset (needed for a .npz; a run knows its own)")
    p.add_argument("--root", help="data.root of the reference dataset (for a .npz)")
    p.add_argument("--metrics", nargs="+", choices=METRIC_NAMES, help="(default: all that apply)")
    p.add_argument("--n", type=int, help="samples (run: eval.n of its config; .npz: all)")
    p.add_argument("--seed", type=int, help="seed of latents and real-data draws (run: its seed)")
    p.add_argument(
        "--extractor", choices=["own", "inception"], help="(default: the run's; own for a .npz)"
    )
    p.add_argument("--inception-weights", help="local Inception-v3 state dict (or env var)")
    add_ema_switch(p, "score")

    def run(a: argparse.Namespace) -> int:
        target = Path(a.target)
        if target.is_dir():
            result = _eval_run(target, a)
        elif target.suffix == ".npz" and target.is_file():
            result = _eval_npz(target, a)
        else:
            raise BadInput(f"{target} is neither a run directory nor an existing .npz file.")
        print(json.dumps(result))
        return 0

    return run


def _eval_run(run: Path, a: argparse.Namespace) -> dict[str, Any]:
    from gankit import api

    loaded = api.load(run)
    data_cfg = (
        None if a.dataset in (None, loaded.cfg.data.name) else _data_cfg(a, loaded.cfg.data.size)
    )
    result = api.evaluate(
        loaded, a.n, a.metrics, a.seed, data_cfg, a.extractor, a.inception_weights, ema=a.ema
    )
    record = {"step": loaded.step} | result
    with (run / "metrics.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")
    return record


def _eval_npz(path: Path, a: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    from gankit.metrics.evaluate import evaluate_samples

    if not a.dataset:
        raise BadInput(f"{path} does not say what it imitates: add --dataset NAME.")
    try:
        arrays = np.load(path)
        key = "images" if "images" in arrays.files else "points"
        values = arrays[key]
    except Exception as e:  # a truncated file, or no images/points array
        raise BadInput(
            f"{path} is not a sample export (.npz with `images` or `points`): {type(e).__name__}."
        ) from None
    x = torch.from_numpy(np.ascontiguousarray(values))
    if a.n is not None:
        if a.n > len(x):
            raise BadInput(f"--n {a.n}, but {path} holds only {len(x)} samples.")
        x = x[: a.n]
    size = x.shape[-1] if x.ndim == 4 else 28
    return evaluate_samples(
        x,
        _data_cfg(a, size),
        a.metrics,
        seed=a.seed or 0,
        extractor=a.extractor or "own",
        inception_weights=a.inception_weights,
    )


def _data_cfg(a: argparse.Namespace, size: int):
    from gankit.config import DataConfig

    return DataConfig(name=a.dataset, size=size, root=a.root)


@command(
    "evaluator",
    "train (and cache) gankit's own evaluator classifier for a labelled dataset",
    "gankit evaluator train --dataset fashion-mnist",
)
def _evaluator(p: argparse.ArgumentParser):
    p.add_argument("action", choices=["train"], help="what to do")
    p.add_argument("--dataset", required=True, help="labelled image dataset, e.g. fashion-mnist")
    p.add_argument("--root", help="data.root (image-folder: the folder of class sub-folders)")
    p.add_argument("--size", type=int, default=28, help="image side the samples will have")
    p.add_argument("--channels", type=int, choices=[1, 3], help="(default: the dataset's own)")
    p.add_argument(
        "--epochs", type=int, help="(default: about 250k images seen, at most 10 passes)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the training")

    def run(a: argparse.Namespace) -> int:
        from gankit.config import DataConfig
        from gankit.metrics import evaluator

        cfg = DataConfig(name=a.dataset, size=a.size, channels=a.channels, root=a.root)
        ev = evaluator.train(cfg, a.channels, a.epochs, seed=a.seed)
        m = ev.meta
        print(
            f"evaluator {m['key']}: test accuracy {m['test_accuracy']:.4f} on "
            f"{m['test_items']} items ({m['epochs']} epochs, {m['train_seconds']} s); "
            f"sha256 {m['sha256'][:16]}; saved {evaluator.folder() / m['weights']}"
        )
        return 0

    return run
