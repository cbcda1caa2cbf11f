"""The protocol record every result carries, and the warning when two records differ.

Two scores are comparable only when they were measured the same way: same feature extractor (by
its weights' sha256), same resize, same sample counts, same reference split and seed.
"""

from __future__ import annotations

import warnings
from typing import Any

import gankit

# Keys that must agree for two results to be put side by side (gankit_version may differ).
COMPARED = (
    "dataset",
    "extractor",
    "extractor_sha256",
    "resize",
    "n_generated",
    "n_reference",
    "n_floor",
    "reference_split",
    "floor_split",
    "seed",
)


def record(
    dataset: str,
    extractor: str,
    extractor_sha256: str,
    resize: str,
    n_generated: int,
    n_reference: int,
    n_floor: int,
    seed: int,
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "extractor": extractor,
        "extractor_sha256": extractor_sha256,
        "resize": resize,
        "n_generated": int(n_generated),
        "n_reference": int(n_reference),
        "n_floor": int(n_floor),
        "reference_split": "train",
        "floor_split": "test",
        "seed": int(seed),
        "gankit_version": gankit.__version__,
    }


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The protocol keys on which two records disagree, as 'key: a != b'."""
    return [f"{k}: {a.get(k)!r} != {b.get(k)!r}" for k in COMPARED if a.get(k) != b.get(k)]


class ProtocolMismatch(UserWarning):
    """Two results measured under different protocols are being compared."""


def check_comparable(results: list[dict[str, Any]]) -> list[str]:
    """Warn (ProtocolMismatch) when results' protocol records differ; returns the differences."""
    if not results:
        return []
    first = results[0].get("protocol", {})
    found = []
    for i, r in enumerate(results[1:], 1):
        diff = differences(first, r.get("protocol", {}))
        if diff:
            found.append(f"result {i} vs result 0: " + "; ".join(diff))
    if found:
        warnings.warn(
            "comparing scores measured under different protocols: " + " | ".join(found),
            ProtocolMismatch,
            stacklevel=2,
        )
    return found
