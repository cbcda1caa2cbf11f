"""Mode counting: the PacGAN protocol on the toy mixtures, and Stacked-MNIST style 1000 modes.

Toys (fjxmlzn/PacGAN, synthetic_data_experiments MetricLogger): each sample goes to its nearest
mean; it is high quality when its distance to that mean is under 3 std; a mode is captured when
at least one high-quality sample lands on it. reverse_kl = sum_i p_i ln(p_i K), where p is the
histogram of the high-quality samples over the K modes (as PacGAN's), i.e. KL(samples || uniform);
it is inf when no sample is of high quality.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.metrics.classes import kl_from_uniform


def toy_modes(
    points: Tensor, means: Tensor, std: float, threshold: float = 3.0
) -> dict[str, float]:
    points, means = points.double(), means.double()
    dist = torch.cdist(points, means)
    nearest_dist, nearest = dist.min(1)
    good = nearest_dist < threshold * std
    counts = torch.bincount(nearest[good], minlength=len(means))
    return {
        "modes": float((counts > 0).sum()),
        "modes_total": float(len(means)),
        "high_quality": float(good.double().mean()),
        "reverse_kl": kl_from_uniform(counts),
    }


def stacked_modes(channel_labels: Tensor, base_classes: int = 10) -> dict[str, float]:
    """Modes of 3-channel samples from per-channel class predictions (N, 3): out of classes^3.

    kl = sum p ln(p / (1 / classes^3)) of the mode histogram (VEEGAN / PacGAN Stacked MNIST).
    kl_marginals = the sum of each channel's class-histogram KL from uniform: the part of kl that
    the channels' own class balance explains (the rest, kl - kl_marginals, is their dependence).
    """
    c = channel_labels.long()
    mode = (c[:, 0] * base_classes + c[:, 1]) * base_classes + c[:, 2]
    counts = torch.bincount(mode, minlength=base_classes**3)
    channels = [torch.bincount(c[:, i], minlength=base_classes) for i in range(3)]
    return {
        "modes": float((counts > 0).sum()),
        "modes_total": float(base_classes**3),
        "kl": kl_from_uniform(counts),
        "kl_marginals": sum(kl_from_uniform(h) for h in channels),
    }
