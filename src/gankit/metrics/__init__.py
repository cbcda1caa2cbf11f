"""Evaluation: feature extractors (own classifier, the FID Inception network), FID / KID / IS /
precision-recall / density-coverage / class coverage, mode counting, floors, protocol records and
FID stats files (mu, sigma) that pytorch-fid and TTUR read too.

Heavy parts load on first use, so that importing one metrics module stays quick.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate_generator", "evaluate_samples", "check_comparable"]


def __getattr__(name: str) -> Any:
    if name in ("evaluate_generator", "evaluate_samples"):
        from gankit.metrics import evaluate

        return getattr(evaluate, name)
    if name == "check_comparable":
        from gankit.metrics.protocol import check_comparable

        return check_comparable
    raise AttributeError(f"module 'gankit.metrics' has no attribute {name!r}")
