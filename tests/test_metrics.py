"""The metric functions on cases with known answers (pure functions on feature tensors)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from gankit.data.toy import grid_means, ring_means
from gankit.errors import BadInput
from gankit.metrics import distances, protocol
from gankit.metrics.classes import class_coverage, kl_from_uniform
from gankit.metrics.modes import stacked_modes, toy_modes
from gankit.metrics.prdc import density_coverage, precision_recall


def gaussian(n: int, d: int, mean: float = 0.0, std: float = 1.0, seed: int = 0) -> torch.Tensor:
    return mean + std * torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


class Identity(nn.Module):
    """Features in, features out: lets torchmetrics score precomputed features."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.num_features = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_fid_matches_the_closed_form_for_diagonal_gaussians():
    a, b = gaussian(4000, 4, seed=1), gaussian(4000, 4, mean=1.0, std=2.0, seed=2)
    mu1, mu2 = a.double().mean(0), b.double().mean(0)
    v1, v2 = a.double().var(0), b.double().var(0)
    # The sample covariances are almost diagonal, so the closed form is close but not exact.
    expected = float((mu1 - mu2).square().sum() + (v1 + v2 - 2 * (v1 * v2).sqrt()).sum())
    assert distances.fid(a, b) == pytest.approx(expected, rel=0.02)
    assert distances.fid(a, a) == pytest.approx(0.0, abs=1e-6)


def test_fid_agrees_with_torchmetrics_on_the_same_features():
    from torchmetrics.image.fid import FrechetInceptionDistance

    a, b = gaussian(300, 8, seed=3), gaussian(300, 8, mean=0.3, std=1.5, seed=4)
    b[:, 0] += 0.5 * b[:, 1]  # a non-diagonal covariance
    tm = FrechetInceptionDistance(feature=Identity(8))
    tm.update(a, real=True)
    tm.update(b, real=False)
    assert distances.fid(a, b) == pytest.approx(float(tm.compute()), rel=1e-4)


def test_fid_refuses_fewer_samples_than_dimensions():
    with pytest.raises(BadInput, match="more samples than feature dimensions"):
        distances.fid(gaussian(100, 128), gaussian(1000, 128))


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance`")
def test_kid_agrees_with_torchmetrics_on_one_full_subset():
    from torchmetrics.image.kid import KernelInceptionDistance

    a, b = gaussian(200, 6, seed=5), gaussian(200, 6, mean=0.5, seed=6)
    tm = KernelInceptionDistance(feature=Identity(6), subsets=1, subset_size=200)
    tm.update(a, real=True)
    tm.update(b, real=False)
    mean, std = distances.kid(a, b, subsets=1, subset_size=200)
    assert mean == pytest.approx(float(tm.compute()[0]), rel=1e-4)
    assert std == 0.0


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_apart():
    a, b = gaussian(1000, 8, seed=7), gaussian(1000, 8, seed=8)
    same, same_std = distances.kid(a, b, subsets=20, subset_size=500)
    apart, _ = distances.kid(a, gaussian(1000, 8, mean=1.0, seed=9), subsets=20, subset_size=500)
    assert abs(same) < 3 * same_std + 1e-3
    assert apart > 0.5 and apart > 20 * abs(same)


def test_kid_std_is_measured_when_subsets_would_cover_a_whole_set():
    a, b = gaussian(400, 8, seed=1), gaussian(400, 8, seed=2)
    mean, std = distances.kid(a, b, subsets=20, subset_size=1000)  # asks for more than 400
    one_mean, _ = distances.kid(a, b, subsets=1, subset_size=400)
    assert std > 0
    assert abs(mean - one_mean) < 3 * std  # halved subsets estimate the same MMD^2


def test_inception_score_of_confident_uniform_and_of_collapsed_predictions():
    k = 10
    spread = torch.eye(k).repeat(50, 1)  # every class, each predicted with certainty
    assert distances.inception_score(spread)[0] == pytest.approx(k, rel=1e-6)
    collapsed = torch.zeros(500, k)
    collapsed[:, 3] = 1
    assert distances.inception_score(collapsed)[0] == pytest.approx(1.0)
    assert distances.inception_score(torch.full((500, k), 1 / k))[0] == pytest.approx(1.0)


def test_precision_recall_density_coverage_on_identical_and_disjoint_sets():
    a = gaussian(500, 3, seed=10)
    assert precision_recall(a, a.clone()) == {"precision": 1.0, "recall": 1.0}
    assert density_coverage(a, a.clone())["coverage"] == 1.0
    far = gaussian(500, 3, mean=100.0, seed=11)
    assert precision_recall(a, far) == {"precision": 0.0, "recall": 0.0}
    assert density_coverage(a, far) == {"density": 0.0, "coverage": 0.0}


def test_precision_is_high_and_recall_low_for_a_collapsed_generator():
    real = gaussian(1000, 2, seed=12)
    collapsed = gaussian(1000, 2, std=0.05, seed=13)  # all near the centre of the real data
    pr = precision_recall(real, collapsed)
    assert pr["precision"] > 0.95 and pr["recall"] < 0.3
    dc = density_coverage(real, gaussian(1000, 2, seed=14))
    assert 0.8 < dc["density"] < 1.2 and dc["coverage"] > 0.9


def test_class_coverage_counts_classes_and_kl():
    ref = torch.arange(1000) % 10  # uniform data
    pred = torch.tensor([0] * 50 + [1] * 50)  # two classes, half each
    c = class_coverage(pred, ref, 10)
    assert c["classes_seen"] == 2.0
    assert c["class_kl"] == pytest.approx(math.log(5))
    assert sum(c["class_hist"]) == pytest.approx(1.0)
    assert class_coverage(ref, ref, 10)["class_kl"] == pytest.approx(0.0, abs=1e-12)


def test_ring_means_are_eight_distinct_points_on_the_unit_circle():
    m = ring_means()
    assert len(torch.unique(m.round(decimals=4), dim=0)) == 8
    assert torch.allclose(m.norm(dim=1), torch.ones(8))


def test_toy_modes_of_a_perfect_sampler_and_of_a_collapsed_one():
    g = torch.Generator().manual_seed(0)
    means, std = grid_means(), 0.05
    labels = torch.arange(2500) % 25
    perfect = means[labels] + std * torch.randn(2500, 2, generator=g)
    r = toy_modes(perfect, means, std)
    assert r["modes"] == 25 and r["modes_total"] == 25
    # P(|N(0, I_2)| < 3) = 1 - exp(-4.5) = 0.9889: PacGAN's "about 98.9%" for a perfect sampler.
    assert r["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert r["reverse_kl"] < 0.01
    collapsed = means[7] + std * torch.randn(2500, 2, generator=g)
    r = toy_modes(collapsed, means, std)
    assert r["modes"] == 1 and r["reverse_kl"] == pytest.approx(math.log(25))
    assert toy_modes(torch.full((10, 2), 50.0), means, std)["reverse_kl"] == math.inf


def test_stacked_modes_and_kl_from_uniform():
    all_modes = torch.tensor([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
    r = stacked_modes(all_modes.repeat(26, 1))
    zero = pytest.approx(0.0, abs=1e-9)
    assert r == {"modes": 1000.0, "modes_total": 1000.0, "kl": zero, "kl_marginals": zero}
    r = stacked_modes(torch.tensor([[1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6]]))
    assert r["modes"] == 2 and r["kl"] == pytest.approx(math.log(500))
    # each channel: two classes, half each (ln 5); the rest is the channels' dependence (ln 4)
    assert r["kl_marginals"] == pytest.approx(3 * math.log(5))
    assert kl_from_uniform(torch.tensor([1, 0, 0, 0])) == pytest.approx(math.log(4))


def test_protocol_differences_warn():
    a = {"protocol": protocol.record("digits", "own", "ab", "none", 100, 100, 100, 0)}
    b = {"protocol": protocol.record("digits", "own", "cd", "none", 100, 100, 100, 0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert protocol.check_comparable([a, a]) == []
    with pytest.warns(protocol.ProtocolMismatch, match="extractor_sha256"):
        assert protocol.check_comparable([a, b])
