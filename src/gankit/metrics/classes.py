"""Class coverage: which classes the evaluator sees in the samples, against the data's mix."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def class_coverage(pred: Tensor, reference: Tensor, num_classes: int) -> dict[str, float]:
    """Histogram of predicted classes vs the reference labels' histogram.

    classes_seen: classes predicted at least once; class_kl: KL(samples || reference) in nats,
    with empty sample bins contributing 0 (reference bins are smoothed by 1e-12, so a class the
    data lacks but the samples show gives a large, finite number).
    """
    p = torch.bincount(pred.long(), minlength=num_classes).double()
    q = torch.bincount(reference.long(), minlength=num_classes).double()
    p, q = p / p.sum(), q / q.sum()
    seen = p > 0
    kl = (p[seen] * (p[seen].log() - q[seen].clamp_min(1e-12).log())).sum()
    return {
        "classes_seen": float(seen.sum()),
        "classes_total": float(num_classes),
        "class_kl": float(kl),
        "class_hist": [round(float(v), 6) for v in p],
    }


def kl_from_uniform(counts: Tensor) -> float:
    """sum p ln(p / (1/K)) of a histogram of counts over K bins (0 for a uniform histogram)."""
    total = counts.sum()
    if total == 0:
        return math.inf
    p = counts.double() / total
    p = p[p > 0]
    return float((p * (p * len(counts)).log()).sum())
