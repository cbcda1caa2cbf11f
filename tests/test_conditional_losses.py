"""The conditional families' losses on hand-made logits and features."""

import math

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import BadInput
from gankit.recipes.acgan import class_loss
from gankit.recipes.semi_supervised import (
    feature_matching,
    pick_labelled,
    supervised_loss,
    unsupervised_loss,
)


def test_acgan_class_loss_is_softmax_cross_entropy():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    labels = torch.tensor([0, 2])
    expected = (-(2 - math.log(math.exp(2) + 2)) + math.log(3)) / 2
    assert class_loss(logits, labels).item() == pytest.approx(expected)


def test_sgan_unsupervised_loss_by_hand():
    # Two class logits of 0: Z = 2, so P(real) = Z / (Z + 1) = 2/3 for both batches.
    zeros = torch.zeros(1, 2)
    expected = -math.log(2 / 3) - math.log(1 / 3)
    assert unsupervised_loss(zeros, zeros).item() == pytest.approx(expected)


def test_sgan_logsumexp_equals_the_explicit_k_plus_1_softmax():
    torch.manual_seed(0)
    real, fake = torch.randn(6, 10) * 3, torch.randn(6, 10) * 3
    with_fake = lambda l: torch.cat([l, torch.zeros(len(l), 1)], 1)  # noqa: E731
    p_fake_real = with_fake(real).softmax(1)[:, -1]
    p_fake_fake = with_fake(fake).softmax(1)[:, -1]
    explicit = -(1 - p_fake_real).log().mean() - p_fake_fake.log().mean()
    assert unsupervised_loss(real, fake).item() == pytest.approx(explicit.item(), rel=1e-5)
    # The supervised part: p(y | x, not fake) is the softmax over the K real classes only.
    y = torch.randint(10, (6,))
    p = with_fake(real).softmax(1)
    conditional = p[torch.arange(6), y] / p[:, :10].sum(1)
    assert supervised_loss(real, y).item() == pytest.approx(-conditional.log().mean().item())


def test_sgan_unsupervised_loss_stays_finite_for_huge_logits():
    big = torch.full((2, 3), 1e4)
    assert torch.isfinite(unsupervised_loss(big, -big))
    assert unsupervised_loss(big, -big).item() == pytest.approx(0.0, abs=1e-6)


def test_feature_matching_by_hand():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # means (2, 3)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)  # means (1, 1)
    loss = feature_matching(real, fake)
    assert loss.item() == pytest.approx((1 + 4) / 2)
    loss.backward()
    # d loss / d fake_ij = -2 (m_j - f_j) / (F n) = -gap_j / 2 here (F = n = 2).
    assert torch.allclose(fake.grad, torch.tensor([[-0.5, -1.0], [-0.5, -1.0]]))
    assert F.mse_loss(real.mean(0), fake.mean(0)).item() == pytest.approx(loss.item())


def test_labelled_subset_is_balanced_fixed_by_seed_and_checked():
    labels = torch.arange(1000) % 10
    chosen = pick_labelled(labels, 100, 10, seed=3)
    assert len(chosen) == 100 and len(set(chosen.tolist())) == 100
    assert torch.bincount(labels[chosen], minlength=10).tolist() == [10] * 10
    assert torch.equal(chosen, pick_labelled(labels, 100, 10, seed=3))
    assert not torch.equal(chosen, pick_labelled(labels, 100, 10, seed=4))
    assert torch.bincount(labels[pick_labelled(labels, 13, 10, 0)]).tolist() == [2, 2, 2] + [1] * 7
    with pytest.raises(BadInput, match="lower recipe_options.labelled"):
        pick_labelled(labels, 2000, 10, seed=0)


def test_acgan_d_class_loss_with_and_without_the_fake_term():
    from types import SimpleNamespace

    from gankit.recipes.acgan import ACGAN

    real_cls, fake_cls = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    y, c = torch.tensor([0]), torch.tensor([0])
    seen = {}
    for fakes_teach in (True, False):
        recipe = SimpleNamespace(
            D=SimpleNamespace(heads=lambda x: (torch.zeros(1), x)),
            game=SimpleNamespace(d_loss=lambda r, f: torch.tensor(0.0)),
            opts={"class_weight": 1.0, "fakes_teach_classes": fakes_teach},
            penalty_of=lambda *a: torch.tensor(0.0),
            d_outputs=lambda real, fake: {},
        )
        loss, _ = ACGAN.d_loss(recipe, (real_cls, y, c), fake_cls)
        seen[fakes_teach] = float(loss)
    real_term = F.cross_entropy(real_cls, y).item()
    assert seen[False] == pytest.approx(real_term)
    assert seen[True] == pytest.approx(real_term + F.cross_entropy(fake_cls, c).item())
