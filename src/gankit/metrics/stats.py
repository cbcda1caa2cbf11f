"""FID statistics files that travel: `mu` and `sigma` (float64) plus the protocol as JSON.

The keys are those of pytorch-fid's and TTUR's stats files, so a file written here is read by
them and theirs are read here. gankit adds a `protocol` key (a JSON string, stored as a unicode
array so the file stays free of pickles): the extractor, the SHA-256 of its feature weights and
the resize, which must match the samples' for the FID to mean anything. A file without one
(written elsewhere) is accepted with a warning. Files are read with allow_pickle=False, always.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

import gankit
from gankit.errors import BadInput

# The protocol keys that decide whether two sets of statistics can be compared.
MATCHED = ("extractor", "extractor_sha256", "resize")


class ForeignStats(UserWarning):
    """A stats file without gankit's protocol record: its extractor and resize are unknown."""


@dataclass
class Stats:
    mu: np.ndarray
    sigma: np.ndarray
    protocol: dict[str, Any] | None


def protocol(extractor: Any, source: str, n: int, seed: int) -> dict[str, Any]:
    return {
        "extractor": extractor.name,
        "extractor_sha256": extractor.sha256,
        "resize": extractor.resize,
        "source": source,
        "n": int(n),
        "seed": int(seed),
        "gankit_version": gankit.__version__,
    }


def from_features(features: Tensor, record: dict[str, Any]) -> Stats:
    """Mean and covariance (unbiased, float64, as pytorch-fid's np.cov) of (N, D) features."""
    n, d = features.shape
    if n < 2:
        raise BadInput(f"statistics need at least 2 samples, got {n}.")
    if n <= d:
        warnings.warn(
            f"{n} samples for {d}-d features: the covariance is singular (rank {n - 1}), so an "
            f"FID against these statistics is dominated by the sample count; use more than {d}.",
            stacklevel=2,
        )
    x = features.double().numpy()
    return Stats(x.mean(0), np.cov(x, rowvar=False), record)


def save(stats: Stats, path: str | Path) -> Path:
    """Write atomically: an existing file is replaced only by a complete one."""
    path = Path(path)
    if path.suffix != ".npz":
        raise BadInput(f"stats files are .npz: give --out {path.with_suffix('.npz').name}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part{os.getpid()}.npz")
    arrays = {"mu": stats.mu, "sigma": stats.sigma}
    if stats.protocol is not None:
        arrays["protocol"] = np.array(json.dumps(stats.protocol))
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return path


def is_stats_file(path: Path) -> bool:
    """A readable .npz with `mu` and `sigma` (and so not a sample export)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {"mu", "sigma"} <= set(f.files)
    except Exception:  # not a zip, truncated: load() names the problem
        return False


def load(path: str | Path) -> Stats:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"stats file {path} not found.")
    try:
        with np.load(path, allow_pickle=False) as f:
            if not {"mu", "sigma"} <= set(f.files):
                raise BadInput(
                    f"{path} is not an FID stats file: it has {sorted(f.files)}, not `mu` and "
                    f"`sigma` (write one with gankit stats, or pytorch-fid --save-stats)."
                )
            mu, sigma = f["mu"], f["sigma"]
            record = str(f["protocol"]) if "protocol" in f.files else None
    except BadInput:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise BadInput(
                f"{path} holds a pickled object array; stats are read without unpickling: "
                f"save plain float arrays mu and sigma."
            ) from None
        raise BadInput(f"cannot read stats file {path}: {e}.") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise BadInput(f"cannot read stats file {path} ({type(e).__name__}): rewrite it.") from None
    return Stats(*_checked(path, mu, sigma), _protocol(path, record))


def _checked(path: Path, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if mu.dtype.kind not in "fiu" or sigma.dtype.kind not in "fiu":
        raise BadInput(f"{path}: mu and sigma must be numeric, got {mu.dtype} / {sigma.dtype}.")
    mu, sigma = np.atleast_1d(mu).astype(np.float64), np.atleast_2d(sigma).astype(np.float64)
    d = mu.shape[0]
    if mu.ndim != 1 or sigma.shape != (d, d):
        raise BadInput(
            f"{path}: mu is {mu.shape} and sigma {sigma.shape}; sigma must be (D, D) for a (D,) mu."
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise BadInput(f"{path}: mu or sigma holds NaN or Inf; recompute the statistics.")
    return mu, sigma


def _protocol(path: Path, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        raise BadInput(f"{path}: its `protocol` key is not a JSON object; rewrite the file.")
    return record


def check_against(ref: Stats, path: Path, theirs: dict[str, Any], what: str) -> None:
    """Refuse statistics measured otherwise than `theirs`; warn when the file has no record."""
    if ref.protocol is None:
        warnings.warn(
            f"{path} has no protocol record (written by another tool?): assuming it used the "
            f"same extractor and resize as {what} ({theirs['extractor']}, resize "
            f"{theirs['resize']}); pytorch-fid's files need --extractor inception --resize "
            f"torch, TTUR's and torch-fidelity's --resize tf1.",
            ForeignStats,
            stacklevel=2,
        )
        return
    diff = [
        f"{k} {ref.protocol.get(k)!r} != {theirs.get(k)!r}"
        for k in MATCHED
        if ref.protocol.get(k) != theirs.get(k)
    ]
    if diff:
        raise BadInput(
            f"{path} was measured otherwise than {what}: {'; '.join(diff)}; use the same "
            f"--extractor / --resize / weights, or recompute the statistics."
        )


def frechet(a: Stats, b: Stats) -> float:
    """FID between two sets of statistics (their feature dimensions must agree)."""
    if a.mu.shape != b.mu.shape:
        raise BadInput(
            f"statistics of {a.mu.shape[0]}-d and {b.mu.shape[0]}-d features cannot be compared: "
            f"use the same extractor for both."
        )
    from gankit.metrics.distances import frechet_distance

    t = [torch.from_numpy(v) for v in (a.mu, a.sigma, b.mu, b.sigma)]
    return frechet_distance(*t)


def extractor_for(kind: str, cfg: Any, channels: int, weights: str | None, resize: str | None):
    """A stats file's extractor: `inception` needs no dataset, `own` its dataset's evaluator."""
    if kind == "inception":
        from gankit.metrics.inception import InceptionExtractor

        return InceptionExtractor(weights, resize)
    if cfg is None:
        raise BadInput("--extractor own needs the dataset the images imitate: add --dataset NAME.")
    from gankit.metrics import extractors

    return extractors.build(kind, cfg, channels, weights, resize=resize)[0]


def of_images(
    images: Tensor,
    kind: str,
    cfg: Any,
    weights: str | None,
    resize: str | None,
    source: str,
    seed: int,
) -> Stats:
    """Statistics of uint8 (N, C, H, W) images (a run's samples, an exported .npz)."""
    from gankit.metrics.evaluate import check_images

    check_images(images)
    ex = extractor_for(kind, cfg, images.shape[1], weights, resize)
    record = protocol(ex, source, len(images), seed)
    if cfg is not None:
        record["dataset"] = cfg.name
    return from_features(ex.embed(images)[0], record)


def of_dataset(
    cfg: Any,
    split: str,
    n: int | None,
    seed: int,
    kind: str,
    weights: str | None,
    resize: str | None,
) -> Stats:
    """Statistics of n items of a dataset split (all when n is None); features are cached."""
    from gankit import data
    from gankit.metrics import evaluator, reference

    ds = data.build(cfg, split)
    if ds.kind != "image":
        raise BadInput(f"{cfg.name} holds points: stats files are for image features.")
    channels = ds.shape[0]
    ex = extractor_for(kind, cfg, channels, weights, resize)
    count = len(ds) if n is None else min(n, len(ds))
    key = evaluator.key_for(cfg, channels)
    features = reference.real_features(ex, cfg, key, split, count, seed).features
    record = protocol(ex, f"{cfg.name}:{split}", len(features), seed) | {"dataset": cfg.name}
    return from_features(features, record)
