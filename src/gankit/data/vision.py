"""Labelled image datasets: scikit-learn's digits (no download) and torchvision's MNIST family.

Lookup order for torchvision sets: `data.root` (torchvision's own layout), then Debian's
`dataset-fashion-mnist` files, then a download when allowed, else a message saying how to get them.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset, fit_images
from gankit.errors import BadInput

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def default_root() -> Path:
    return Path(os.environ.get("GANKIT_DATA", Path.home() / ".cache" / "gankit" / "data"))


@DATASETS.register("digits")
def digits(cfg: DataConfig, split: str) -> Dataset:
    """scikit-learn's 1,797 8x8 handwritten digits, upscaled: the default that needs no download."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # Every fifth image is held out, so both splits cover all ten classes.
    held_out = np.arange(len(bunch.target)) % 5 == 0
    keep = held_out if split == "test" else ~held_out
    pixels = torch.from_numpy(bunch.images[keep] * (255.0 / 16.0)).round().to(torch.uint8)
    x = fit_images(pixels.unsqueeze(1), cfg.size, cfg.channels)
    y = torch.from_numpy(bunch.target[keep]).long()
    return Dataset("digits", x, "image", y, [str(i) for i in range(10)])


def _torchvision_set(name: str, cls_name: str, cfg: DataConfig, split: str, classes: list[str]):
    import torchvision  # seconds to import (it pulls torch._dynamo): only when a set is loaded

    cls = getattr(torchvision.datasets, cls_name)
    root = Path(cfg.root) if cfg.root else default_root()
    train = split != "test"
    ds = _local(cls, name, root, train)
    if ds is None and cls_name == "FashionMNIST" and _copy_debian_files(root):
        ds = _local(cls, name, root, train)
    if ds is None and cfg.download:
        try:
            ds = cls(str(root), train=train, download=True)
        except Exception as e:  # no network, a mirror down, a full disk ...
            reason = f"{type(e).__name__}: {e}".splitlines()[0][:200]
            raise BadInput(_missing(name, root, reason)) from None
    if ds is None:
        raise BadInput(_missing(name, root, "downloading is off (data.download: false)"))
    data = torch.as_tensor(np.asarray(ds.data))
    x = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)
    y = torch.as_tensor(np.asarray(ds.targets)).long()
    return Dataset(name, fit_images(x, cfg.size, cfg.channels), "image", y, classes)


def _local(cls: type, name: str, root: Path, train: bool) -> Any:
    """torchvision's copy under root, or None where it has none (torchvision's RuntimeError; for
    CIFAR also a failed md5 check). Files that are there but unreadable (MNIST's reader asserts on
    a bad header) are named, with the fix."""
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError:
        return None
    except Exception as e:
        raise BadInput(
            f"{name} files under {root} are damaged ({type(e).__name__}): delete "
            f"{root / cls.__name__} and get them again (one online run with data.download: true)."
        ) from None


def _copy_debian_files(root: Path) -> bool:
    """Unpack Debian's Fashion-MNIST .gz files into torchvision's layout under root."""
    files = sorted(DEBIAN_FASHION_MNIST.glob("*-ubyte.gz"))
    if len(files) < 4:
        return False
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = raw / f.name.removesuffix(".gz")
        if not target.exists():
            tmp = target.with_suffix(".part")
            with gzip.open(f, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            tmp.replace(target)
    return True


def _missing(name: str, root: Path, reason: str) -> str:
    hint = {
        "fashion-mnist": "`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or ",
    }.get(name, "")
    return (
        f"{name} not found under {root} and not downloaded ({reason}). Get it with {hint}"
        f"one online run with data.download: true, or set data.root to a folder holding "
        f"torchvision's layout of it."
    )


@DATASETS.register("mnist")
def mnist(cfg: DataConfig, split: str) -> Dataset:
    """MNIST handwritten digits (70k, 28x28) through torchvision."""
    return _torchvision_set("mnist", "MNIST", cfg, split, [str(i) for i in range(10)])


@DATASETS.register("fashion-mnist")
def fashion_mnist(cfg: DataConfig, split: str) -> Dataset:
    """Fashion-MNIST clothing items (70k, 28x28) through torchvision or Debian's package."""
    return _torchvision_set("fashion-mnist", "FashionMNIST", cfg, split, FASHION_CLASSES)


@DATASETS.register("cifar10")
def cifar10(cfg: DataConfig, split: str) -> Dataset:
    """CIFAR-10 natural images (60k, 32x32 colour) through torchvision."""
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    return _torchvision_set("cifar10", "CIFAR10", cfg, split, classes)
