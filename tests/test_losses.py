"""Each game's value and gradient direction on hand-made logits."""

import math

import pytest
import torch

from gankit.losses import LOSSES, d_output_mean

REAL = torch.tensor([2.0, 0.5])
FAKE = torch.tensor([-1.0, 0.0])


def value_and_grad(fn, *args):
    args = [a.clone().requires_grad_(True) for a in args]
    out = fn(*args)
    out.backward()
    return out.item(), [a.grad for a in args]


def log_sigmoid(t):
    return math.log(1 / (1 + math.exp(-t)))


def test_minimax_matches_the_formula():
    game = LOSSES.get("minimax")()
    d, (g_real, g_fake) = value_and_grad(game.d_loss, REAL, FAKE)
    expected = (
        -sum(log_sigmoid(r) for r in REAL.tolist()) / 2
        - sum(math.log(1 - 1 / (1 + math.exp(-f))) for f in FAKE.tolist()) / 2
    )
    assert d == pytest.approx(expected, rel=1e-6)
    assert (g_real < 0).all() and (g_fake > 0).all()  # D raises real logits, lowers fake ones
    g, (grad,) = value_and_grad(game.g_loss, FAKE)
    assert g == pytest.approx(sum(math.log(1 - 1 / (1 + math.exp(-f))) for f in FAKE) / 2)
    assert (grad < 0).all()  # G raises D(G(z))


def test_minimax_saturates_where_non_saturating_does_not():
    confident_fake = torch.tensor([-10.0])  # D is sure the sample is fake
    _, (mm,) = value_and_grad(LOSSES.get("minimax")().g_loss, confident_fake)
    _, (ns,) = value_and_grad(LOSSES.get("non-saturating")().g_loss, confident_fake)
    assert abs(mm.item()) < 1e-4 < abs(ns.item())
    assert ns.item() == pytest.approx(-1.0, abs=1e-4)


def test_non_saturating_generator_loss():
    g, (grad,) = value_and_grad(LOSSES.get("non-saturating")().g_loss, FAKE)
    assert g == pytest.approx(-sum(log_sigmoid(f) for f in FAKE.tolist()) / 2)
    assert (grad < 0).all()


def test_lsgan():
    game = LOSSES.get("lsgan")()
    d, (g_real, g_fake) = value_and_grad(game.d_loss, REAL, FAKE)
    assert d == pytest.approx(0.5 * ((1.0**2 + 0.5**2) / 2) + 0.5 * ((1.0 + 0.0) / 2))
    assert g_real[0] > 0 and g_real[1] < 0  # pulled towards 1 from above and below
    g, (grad,) = value_and_grad(game.g_loss, FAKE)
    assert g == pytest.approx(0.5 * (4 + 1) / 2)
    assert (grad < 0).all()
    assert not game.probabilistic


@pytest.mark.parametrize("name", ["wgan", "wgan-gp"])
def test_wasserstein(name):
    game = LOSSES.get(name)()
    d, (g_real, g_fake) = value_and_grad(game.d_loss, REAL, FAKE)
    assert d == pytest.approx(FAKE.mean() - REAL.mean())
    assert (g_real == -0.5).all() and (g_fake == 0.5).all()  # linear: no sigmoid, no log
    g, (grad,) = value_and_grad(game.g_loss, FAKE)
    assert g == pytest.approx(-FAKE.mean().item()) and (grad == -0.5).all()
    assert game.default_penalty == ("clip" if name == "wgan" else "gp")


def test_hinge():
    game = LOSSES.get("hinge")()
    d, (g_real, g_fake) = value_and_grad(game.d_loss, REAL, FAKE)
    # real 2.0 is past the margin (no loss, no gradient); real 0.5 is inside it.
    assert d == pytest.approx((0 + 0.5) / 2 + (0 + 1.0) / 2)
    assert g_real.tolist() == [0.0, -0.5]
    assert g_fake.tolist() == [0.0, 0.5]  # fake -1.0 sits exactly on the margin


def test_reported_d_output_is_a_probability_only_for_probabilistic_games():
    logits = torch.tensor([0.0, 0.0])
    assert d_output_mean(LOSSES.get("minimax")(), logits).item() == 0.5
    assert d_output_mean(LOSSES.get("wgan")(), logits).item() == 0.0


def test_losses_stay_finite_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    for name in LOSSES.names():
        game = LOSSES.get(name)()
        assert torch.isfinite(game.d_loss(big, -big)) and torch.isfinite(game.g_loss(big, -big))
