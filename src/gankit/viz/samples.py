"""Sample pictures: an image grid, or generated points over the real ones for toy data."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from gankit import files  # noqa: E402


def save_samples(
    fake: torch.Tensor, path: Path, real: torch.Tensor | None = None, title: str = ""
) -> None:
    """Images in [-1, 1] -> a PNG grid; points -> a scatter (2D) or histogram (1D) over `real`."""
    with files.writing(path):  # a full disk names the file
        _save(fake.detach().float().cpu(), path, real, title)


def _save(fake: torch.Tensor, path: Path, real: torch.Tensor | None, title: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fake.dim() == 4:
        from torchvision.utils import save_image  # slow import: only when saving

        save_image(
            fake,
            path,
            nrow=int(math.ceil(math.sqrt(len(fake)))),
            normalize=True,
            value_range=(-1, 1),
            padding=1,
        )
        return
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    real = real.detach().float().cpu() if real is not None else None
    if fake.shape[1] == 1:
        bins = 80
        if real is not None:
            ax.hist(real[:, 0].numpy(), bins=bins, density=True, alpha=0.5, label="real")
        ax.hist(fake[:, 0].numpy(), bins=bins, density=True, alpha=0.5, label="generated")
    else:
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=2, alpha=0.3, label="real", c="tab:blue")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, alpha=0.5, label="generated", c="tab:orange")
        ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper right", markerscale=4)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
