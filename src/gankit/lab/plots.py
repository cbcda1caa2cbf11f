"""Figure helpers shared by the labs: a headless matplotlib and one way to save a figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def figure(cols: int, rows: int = 1, size: float = 4.0) -> tuple[Figure, list]:
    """A figure of rows x cols panels, returned with the axes as one flat list."""
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * 0.8 * rows), dpi=100)
    flat = axes.ravel().tolist() if hasattr(axes, "ravel") else [axes]
    return fig, flat


def save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
