"""Gradient penalties and weight clipping on critics whose gradients are known."""

import pytest
import torch
from torch import nn

from gankit.penalties import PENALTIES, clip_weights, gradient_penalty, r1_penalty


def linear_critic(w: torch.Tensor):
    return lambda x: x.flatten(1) @ w  # grad wrt x is w everywhere


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    w = torch.tensor([0.6, 0.8])  # norm 1
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert gradient_penalty(linear_critic(w), real, fake, g).item() == pytest.approx(0, abs=1e-10)
    assert gradient_penalty(linear_critic(3 * w), real, fake, g).item() == pytest.approx(4.0)


def test_gradient_penalty_backpropagates_to_critic_weights():
    d = nn.Linear(2, 1)
    pen = gradient_penalty(
        lambda x: d(x).flatten(),
        torch.randn(4, 2),
        torch.randn(4, 2),
        torch.Generator().manual_seed(0),
    )
    pen.backward()
    assert d.weight.grad is not None and d.weight.grad.abs().sum() > 0


def test_r1_is_half_the_squared_gradient_norm():
    w = torch.tensor([3.0, 4.0])
    g = torch.Generator()
    assert r1_penalty(linear_critic(w), torch.randn(5, 2), None, g).item() == pytest.approx(12.5)


def test_clip_bounds_every_weight():
    d = nn.Linear(10, 10)
    nn.init.normal_(d.weight, std=5)
    clip_weights(d, 0.01)
    assert max(p.abs().max().item() for p in d.parameters()) <= 0.01


def test_registry_names_each_penalty():
    assert {"gp", "r1", "dragan", "clip", "none"} <= set(PENALTIES.names())
    assert PENALTIES.get("clip")().term is None and PENALTIES.get("gp")().constraint is None
