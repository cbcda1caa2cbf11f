"""Pick the feature extractor for an evaluation: own evaluator, Inception, or raw points."""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import DataConfig
from gankit.errors import BadInput


class RawPoints:
    """Points are their own features (2-D toys have no classifier): FID/KID/PRDC on coordinates."""

    name = "points"
    sha256 = "none"
    resize = "none"

    def embed(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x.float(), torch.empty(len(x), 0)


def build(
    kind: str,
    cfg: DataConfig,
    channels: int,
    inception_weights: str | None,
    resize: str | None = None,
):
    """(extractor, cache key of the reference data) for `own` or `inception`."""
    from gankit.metrics import evaluator

    key = evaluator.key_for(cfg, channels)
    if kind == "own":
        if resize not in (None, "none"):
            raise BadInput(f"--resize {resize} applies to --extractor inception only.")
        ev = evaluator.load(cfg, channels)
        ev.resize = "none"
        return ev, key
    if kind == "inception":
        from gankit.metrics.inception import InceptionExtractor

        return InceptionExtractor(inception_weights, resize), key
    raise BadInput(f'unknown extractor "{kind}": use own or inception.')
