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


def test_lazy_penalty_runs_one_d_step_in_k_weighted_k_and_resumes_exactly(tmp_path, monkeypatch):
    from conftest import tiny_ring

    from gankit import api, config
    from gankit.recipes.base import Recipe

    raw = tiny_ring(steps=10)
    raw["loss"] = {"name": "non-saturating", "penalty": "r1", "penalty_every": 4}
    raw["train"].update(checkpoint_every=5, log_every=5)
    weights = []
    real_penalty_of = Recipe.penalty_of

    def spy(self, critic, real, fake):
        out = real_penalty_of(self, critic, real, fake)
        weights.append(bool(out.requires_grad))  # a real penalty has a graph; zero has none
        if out.requires_grad:  # R1 draws no randomness, so it can be recomputed here
            once = self.cfg.loss.penalty_weight * self.penalty.term(critic, real, fake, self.rng)
            assert torch.allclose(out, 4 * once)
        return out

    monkeypatch.setattr(Recipe, "penalty_of", spy)
    whole = api.train(config.from_dict(raw), tmp_path / "whole")["run"]
    assert weights == [i % 4 == 0 for i in range(10)]
    half = api.train(config.from_dict(raw), tmp_path / "half", ["train.steps=5"])["run"]
    api.resume(half, ["train.steps=10"])  # the clock resumes at D step 5, not 0
    assert weights[10:] == [i % 4 == 0 for i in range(10)]
    a, b = api.load(whole).recipe.modules["d"], api.load(half).recipe.modules["d"]
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_lazy_penalty_interval_is_checked():
    from conftest import tiny_ring

    from gankit import config
    from gankit.errors import BadInput

    raw = tiny_ring()
    raw["loss"] = {"penalty_every": 0}
    with pytest.raises(BadInput, match="loss.penalty_every"):
        config.from_dict(raw)
