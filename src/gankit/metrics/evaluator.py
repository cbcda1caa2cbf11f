"""gankit's own evaluator: a small CNN classifier trained on a labelled dataset's train split.

Its 128-d penultimate features and softmax probabilities drive FID/KID/IS/PRDC/class coverage
for that dataset, offline. Trained once and cached as safetensors weights plus JSON metadata
(accuracy, dataset, image size and channels, weights sha256) under $GANKIT_CACHE/evaluators/.
The first evaluation of a labelled dataset trains its evaluator on the spot, with a progress bar
and a time estimate, unless the caller declines (eval.auto_evaluator: false).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import Tensor, nn
from tqdm import tqdm

from gankit import data, files
from gankit.config import DataConfig
from gankit.core.images import from_uint8
from gankit.errors import BadInput
from gankit.files import sha256_file
from gankit.metrics.cache import cache_root, short_hash

FEATURES = 128
# Measured on the 2-core development CPU (torch 2 threads): Fashion-MNIST at 28 px, 60,000 images
# x 10 epochs in 4,680 batches of 128; the first 1,000 batches took 202 s with the machine lightly
# shared, so about 946 s for all. With eight other jobs on the same cores, batches took 0.85 s:
# the whole run took 3,280 s (test accuracy 0.929). The estimate printed before an evaluator
# trains scales the light rate by the images seen and their pixels.
MEASURED_S = 946.0
MEASURED_RATE = 60_000 * 10 * 28 * 28 / MEASURED_S  # image pixels per second


class NoEvaluator(BadInput):
    """No evaluator can be had for this data without a step the user declined or cannot take
    (none cached and auto-training off, or no class labels): a training run skips its evaluation
    with this message instead of failing after the training is done."""


class Classifier(nn.Module):
    """conv32-pool-conv64-pool-conv128-pool -> 128-d features -> classes; any side >= 8."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(
            *block(channels, 32),
            *block(32, 32),
            nn.MaxPool2d(2),
            *block(32, 64),
            nn.MaxPool2d(2),
            *block(64, 128),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(512, FEATURES),
            nn.BatchNorm1d(FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURES, num_classes))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Images in [-1, 1] -> (features (N, 128), logits (N, classes))."""
        f = self.body(x)
        return f, self.head(f)


@dataclass
class Evaluator:
    """A trained classifier ready to embed uint8 images; `meta` is its JSON record."""

    net: Classifier
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return f"own:{self.meta['key']}"

    @property
    def sha256(self) -> str:
        return self.meta["sha256"]

    @torch.no_grad()
    def embed(self, images: Tensor, batch: int = 1000) -> tuple[Tensor, Tensor]:
        """uint8 (N, C, H, W) -> (features (N, 128), class probabilities (N, K))."""
        self.net.eval()
        feats, probs = [], []
        for chunk in images.split(batch):
            f, logits = self.net(from_uint8(chunk))
            feats.append(f)
            probs.append(logits.softmax(1))
        return torch.cat(feats), torch.cat(probs)


def key_for(cfg: DataConfig, channels: int) -> str:
    """Cache key: dataset, image side and channels (and the folder, for image-folder)."""
    key = f"{cfg.name}-{cfg.size}px-{channels}ch"
    if cfg.name == "image-folder":
        key += "-" + short_hash(str(Path(cfg.root or ".").expanduser().resolve()))
    return key


def folder() -> Path:
    return cache_root() / "evaluators"


def load(cfg: DataConfig, channels: int, auto_train: bool = True) -> Evaluator:
    """The cached evaluator for this data; trains it on first use (NoEvaluator when declined)."""
    key = key_for(cfg, channels)
    weights, meta_path = folder() / f"{key}.safetensors", folder() / f"{key}.json"
    if not (weights.exists() and meta_path.exists()):
        if not auto_train:
            raise NoEvaluator(
                f"no evaluator for {key} in {folder()} (eval.auto_evaluator: false): train it "
                f"once with `{train_command(cfg, channels)}` (Fashion-MNIST takes about "
                f"{MEASURED_S / 60:.0f} min on a 2-core CPU), or set eval.auto_evaluator: true."
            )
        return train(cfg, channels, progress=True, announce=True)
    try:
        meta = json.loads(meta_path.read_bytes())
        recorded = meta["sha256"]
    except (ValueError, KeyError, TypeError):
        recorded = None  # an edited or torn record: the weights cannot be trusted either
    if recorded is None or sha256_file(weights) != recorded:
        raise BadInput(
            f"evaluator {weights} does not match its record {meta_path.name}: retrain it with "
            f"`{train_command(cfg, channels)}`."
        )
    with torch.random.fork_rng(devices=[]):  # initialisation must not move the global RNG
        net = Classifier(meta["channels"], meta["num_classes"])
    net.load_state_dict(load_file(str(weights)))
    return Evaluator(net.eval(), meta)


def train_command(cfg: DataConfig, channels: int) -> str:
    root = f" --root {cfg.root}" if cfg.root else ""
    return (
        f"gankit evaluator train --dataset {cfg.name} --size {cfg.size} --channels {channels}{root}"
    )


def estimate_s(items: int, epochs: int, side: int) -> float:
    """Training time at the rate measured for Fashion-MNIST (the cost grows with pixels seen)."""
    return items * epochs * side * side / MEASURED_RATE


def _with_channels(cfg: DataConfig, channels: int) -> DataConfig:
    return DataConfig(cfg.name, cfg.size, channels, cfg.root, cfg.download, dict(cfg.options))


def default_epochs(n_train: int) -> int:
    """About 600k images seen (10 epochs of Fashion-MNIST: 5 gave 91.95% test accuracy, short of
    the 92% the evaluation issue asks for), at most 10 passes over small sets."""
    return max(4, min(10, math.ceil(600_000 / max(n_train, 1))))


def train(
    cfg: DataConfig,
    channels: int | None = None,
    epochs: int | None = None,
    batch: int = 128,
    seed: int = 0,
    progress: bool = True,
    announce: bool = False,
) -> Evaluator:
    """Train, test and cache the evaluator for a labelled dataset; returns it. `announce` says
    first, on stderr, why it trains now and about how long it will take."""
    t0 = time.perf_counter()
    train_ds = data.build(_with_channels(cfg, channels) if channels else cfg, "train")
    channels = train_ds.shape[0] if train_ds.kind == "image" else 0
    cfg = _with_channels(cfg, channels)
    if train_ds.kind != "image" or train_ds.y is None or train_ds.num_classes < 2:
        raise NoEvaluator(
            f"dataset {cfg.name} has no class labels for an evaluator: use a labelled image set "
            f"(digits, mnist, fashion-mnist, cifar10, an image-folder with class sub-folders), "
            f"or eval.extractor: inception with eval.inception_weights."
        )
    test_ds = data.build(cfg, "test")
    epochs = epochs or default_epochs(len(train_ds))
    # At least ten batches an epoch: a 300-image folder would otherwise get 20 optimiser steps in
    # all, too few for the one-cycle schedule to leave chance accuracy.
    batch = min(batch, max(16, len(train_ds) // 10))
    if announce:
        minutes = estimate_s(len(train_ds), epochs, train_ds.shape[1]) / 60
        tqdm.write(
            f"gankit: no evaluator for {key_for(cfg, channels)} yet: training it once on "
            f"{len(train_ds):,} images x {epochs} epochs (about {max(minutes, 0.1):.1f} min at "
            f"the rate measured on a 2-core CPU; longer when the cores are busy), then cached in "
            f"{folder()} for every later run. eval.auto_evaluator: false skips this.",
            file=sys.stderr,
        )
    # fork_rng: training an evaluator in the middle of a GAN run (auto-training) must not move
    # the run's global random state; the seed makes initialisation and dropout repeatable.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Classifier(channels, train_ds.num_classes)
        fit(net, train_ds.x, train_ds.y, epochs, batch, seed, progress)
    evaluator = Evaluator(net.eval(), {})
    test_accuracy = accuracy(evaluator, test_ds.x, test_ds.y)
    meta = {
        "key": key_for(cfg, channels),
        "dataset": cfg.name,
        "size": cfg.size,
        "channels": channels,
        "num_classes": train_ds.num_classes,
        "class_names": list(train_ds.class_names),
        "test_accuracy": test_accuracy,
        "train_items": len(train_ds),
        "test_items": len(test_ds),
        "epochs": epochs,
        "batch": batch,
        "seed": seed,
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    evaluator.meta = _save(net, meta)
    return evaluator


def fit(
    net: Classifier, x: Tensor, y: Tensor, epochs: int, batch: int, seed: int, progress: bool
) -> None:
    """Train the classifier on uint8 images x and labels y (AdamW, one-cycle lr, shifts)."""
    g = torch.Generator().manual_seed(seed)
    steps = epochs * (len(x) // batch)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=max(steps, 1))
    net.train()
    bar = tqdm(total=steps, disable=not progress, unit="batch", desc="evaluator")
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(len(x) // batch):
            idx = order[i * batch : (i + 1) * batch]
            xb = _augment(from_uint8(x[idx]), g)
            loss = F.cross_entropy(net(xb)[1], y[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()


def _augment(x: Tensor, g: Tensor | torch.Generator) -> Tensor:
    """Random shifts of up to 2 pixels (padding with the background), for robustness."""
    pad = F.pad(x, (2, 2, 2, 2), value=-1.0)
    dx, dy = torch.randint(0, 5, (2,), generator=g).tolist()
    return pad[:, :, dy : dy + x.shape[2], dx : dx + x.shape[3]]


def accuracy(evaluator: Evaluator, x: Tensor, y: Tensor) -> float:
    _, probs = evaluator.embed(x)
    return float((probs.argmax(1) == y).float().mean())


def _save(net: Classifier, meta: dict[str, Any]) -> dict[str, Any]:
    folder().mkdir(parents=True, exist_ok=True)
    weights = folder() / f"{meta['key']}.safetensors"
    tmp = weights.with_suffix(f".part{os.getpid()}")  # concurrent writers never collide
    files.save_tensors({k: v.contiguous() for k, v in net.state_dict().items()}, tmp)
    tmp.replace(weights)
    meta = meta | {"sha256": sha256_file(weights), "weights": weights.name}
    (folder() / f"{meta['key']}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
