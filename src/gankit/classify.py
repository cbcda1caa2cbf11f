"""A trained discriminator as a classifier: semi-supervised D (K+1-way) or ACGAN's class head.

`gankit classify RUN --input X` where X is a .npz (`images` uint8 (N, C, H, W), optional `labels`),
a folder of images (sub-folders named like the run's classes give the labels), or a dataset name
(its test split, labels included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit import data, files
from gankit.config import DataConfig
from gankit.core.images import from_uint8
from gankit.data import DATASETS, DataSpec
from gankit.data.dataset import fit_images
from gankit.errors import BadInput


def classifier_of(recipe: Any) -> nn.Module:
    """The run's D when it has a class head (recipes semi-supervised and acgan)."""
    d = recipe.modules.get("d")
    if getattr(d, "conditioning", None) not in ("aux", "classes"):
        raise BadInput(
            f"this run's recipe ({recipe.cfg.recipe}) has no classifier: classify needs a "
            f"semi-supervised or acgan run."
        )
    return d


def read_input(source: str, spec: DataSpec) -> tuple[torch.Tensor, torch.Tensor | None]:
    """uint8 images fitted to the run's shape, and labels in the run's class order (or None)."""
    path = Path(source)
    if path.suffix == ".npz" and path.is_file():
        return _from_npz(path, spec)
    if path.is_dir():
        cfg = DataConfig(
            name="image-folder", root=str(path), size=spec.shape[1], channels=spec.shape[0]
        )
        return _with_run_classes(data.build(cfg), spec)
    if source in DATASETS:
        cfg = DataConfig(name=source, size=spec.shape[1], channels=spec.shape[0], download=False)
        return _with_run_classes(data.build(cfg, "test"), spec)
    raise BadInput(
        f"--input {source}: give a .npz with `images`, a folder of images, or a dataset name "
        f"(its test split), e.g. {spec.name}."
    )


def _from_npz(path: Path, spec: DataSpec) -> tuple[torch.Tensor, torch.Tensor | None]:
    f = files.read_npz(path, "a sample export (.npz with uint8 `images`)")
    images, labels = f["images"], f.get("labels")
    if images.dtype != np.uint8 or images.ndim != 4:
        raise BadInput(
            f"{path}: `images` must be uint8 (N, C, H, W), got {images.dtype} {images.shape}."
        )
    x = fit_images(torch.from_numpy(images), spec.shape[1], spec.shape[0])
    return x, None if labels is None else torch.from_numpy(labels).long()


def _with_run_classes(ds: data.Dataset, spec: DataSpec) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The dataset's labels mapped to the run's classes by name; None when they do not all match."""
    if ds.y is None or not set(ds.class_names) <= set(spec.class_names):
        return ds.x, None
    index = torch.tensor([spec.class_names.index(name) for name in ds.class_names])
    return ds.x, index[ds.y]


@torch.no_grad()
def classify(
    run: Any, source: str, batch: int = 500
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Score images with a run's classifier: (summary, predicted class (N,), probabilities (N, K)).

    The summary holds n, the count predicted per class and, when labels are known, accuracy.
    """
    from gankit import api

    loaded = run if isinstance(run, api.LoadedRun) else api.load(run)
    d = classifier_of(loaded.recipe)
    x, labels = read_input(source, loaded.spec)
    was_training = d.training
    d.eval()
    device = loaded.recipe.device
    probs = torch.cat(
        [d.classify(from_uint8(c.to(device))).softmax(1).cpu() for c in x.split(batch)]
    )
    d.train(was_training)
    predicted = probs.argmax(1)
    names = loaded.spec.class_names
    summary: dict[str, Any] = {
        "n": len(x),
        "predicted": {names[k]: int((predicted == k).sum()) for k in range(len(names))},
    }
    if labels is not None:
        accuracy = float((predicted == labels).float().mean())
        summary |= {"accuracy": round(accuracy, 4), "error": round(1 - accuracy, 4)}
    return summary, predicted.numpy(), probs.numpy()
