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
    auto_evaluator: bool = True,
    resize: str | None = None,
):
    """(extractor, cache key of the reference data) for `own` (trained on first use when
    `auto_evaluator`) or `inception` (images resized by `resize`)."""
    from gankit.metrics import evaluator

    key = evaluator.key_for(cfg, channels)
    if kind == "own":
        if resize not in (None, "none"):
            raise BadInput(f"--resize {resize} applies to --extractor inception only.")
        ev = evaluator.load(cfg, channels, auto_evaluator)
        ev.resize = "none"
        return ev, key
    if kind == "inception":
        from gankit.metrics.inception import InceptionExtractor

        try:
            return InceptionExtractor(inception_weights, resize), key
        except BadInput as e:  # no usable weights file: a training run skips its eval, not fail
            raise evaluator.NoEvaluator(str(e)) from None
    raise BadInput(f'unknown extractor "{kind}": use own or inception.')
