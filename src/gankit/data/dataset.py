"""The in-memory dataset every recipe trains on, and the registry that builds it by name."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F

from gankit import limits
from gankit.config import DataConfig
from gankit.errors import BadInput, closest
from gankit.registry import Registry

DATASETS = Registry("dataset")


@dataclass(frozen=True)
class DataSpec:
    """What a model needs to know of its data (kept in checkpoints, so sampling needs no data)."""

    name: str
    kind: Literal["image", "points"]
    shape: tuple[int, ...]
    class_names: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass
class Dataset:
    """Images as uint8 (N, C, H, W) in 0..255, or points as float32 (N, D); labels int64 (N,)."""

    name: str
    x: torch.Tensor
    kind: Literal["image", "points"]
    y: torch.Tensor | None = None
    class_names: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files that could not be read

    def __post_init__(self) -> None:
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError("labels and items differ in number")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one item: (C, H, W) or (D,)."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def spec(self) -> DataSpec:
        return DataSpec(self.name, self.kind, self.shape, tuple(self.class_names))

    def to_model_range(self, x: torch.Tensor) -> torch.Tensor:
        """Stored items -> the float tensors the networks see (images in [-1, 1])."""
        if self.kind == "image":
            return x.float().div_(127.5).sub_(1.0)
        return x.float()


def build(cfg: DataConfig, split: str = "train") -> Dataset:
    """Build the dataset the config names, for split "train" or "test"."""
    builder = DATASETS.get(cfg.name)
    accepted = [
        p.name for p in inspect.signature(builder).parameters.values() if p.kind == p.KEYWORD_ONLY
    ]
    for key in cfg.options:
        if key not in accepted:
            raise BadInput(
                f'dataset "{cfg.name}" has no option "{key}".{closest(key, accepted)} '
                f"Its options: {', '.join(accepted) or 'none'}."
            )
    ds = builder(cfg, split, **cfg.options)
    if cfg.limit is not None and cfg.limit < len(ds):  # the first N, in the files' own order
        ds.x = ds.x[: cfg.limit]
        ds.y = ds.y[: cfg.limit] if ds.y is not None else None
    return ds


def fit_images(x: torch.Tensor, size: int, channels: int | None) -> torch.Tensor:
    """Resize a uint8 (N, C, H, W) batch to size x size and convert its channels, in chunks."""
    if channels is not None and channels != x.shape[1]:
        if channels == 3:
            x = x.expand(-1, 3, -1, -1)
        else:  # ITU-R 601 luma, as PIL's convert("L")
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            x = (x.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
    if x.shape[-1] == size and x.shape[-2] == size:
        return x.contiguous()
    # Checked before allocating: the uint8 result, plus one float chunk and its resized copy.
    pixels = x.shape[1] * size * size
    limits.check_memory(
        f"{len(x)} images at {size}x{size}",
        len(x) * pixels + min(len(x), 4096) * (pixels + x[0].numel()) * 4,
        "use a smaller image side (data.size; for `gankit eval`, samples at the dataset's size)",
    )
    chunks = [
        F.interpolate(c.float(), size=(size, size), mode="bilinear", antialias=True)
        .round()
        .clamp(0, 255)
        .to(torch.uint8)
        for c in x.split(4096)
    ]
    return torch.cat(chunks)
