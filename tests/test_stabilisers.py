"""Each stabiliser changes what it claims, and with all off the step is the plain one."""

import json

import pytest
import torch
from conftest import tiny_digits

from gankit import api, config
from gankit.augment import diff_augment
from gankit.errors import BadInput
from gankit.losses import lsgan, non_saturating
from gankit.nets import build
from gankit.nets.layers import MinibatchDiscriminationHead
from gankit.stabilisers import (
    HistoricalAverage,
    add_minibatch_discrimination,
    head_of,
    logits_and_features,
    noise_std,
)


def test_spectral_norm_bounds_the_largest_singular_value_of_a_resnet_d():
    d = build("resnet", "d", (1, 28, 28), 8, width=8, spectral_norm=True)
    for _ in range(30):  # power iterations converge as the network runs in train mode
        d(torch.randn(4, 1, 28, 28))
    d.eval()
    sigmas = [
        torch.linalg.matrix_norm(m.weight.flatten(1), ord=2)
        for m in d.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    assert len(sigmas) > 5 and max(sigmas) < 1.05


def test_one_sided_label_smoothing_moves_only_the_real_target():
    real, fake = torch.full((4,), 10.0), torch.full((4,), -10.0)
    game = non_saturating()
    plain, smoothed = game.with_label_smoothing(0.0).d_loss, game.with_label_smoothing(0.1).d_loss
    assert plain(real, fake) < 1e-3  # a confident, correct D has ~0 loss ...
    assert smoothed(real, fake) > 0.9  # ... but is penalised once the real target is 0.9
    # the minimiser over the real logit is logit(0.9), the fake side is unchanged
    t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([t], lr=1.0)
    for _ in range(500):
        opt.zero_grad()
        smoothed(t, torch.full((1,), -10.0)).backward()
        opt.step()
    assert abs(torch.sigmoid(t).item() - 0.9) < 1e-3
    ls = lsgan().with_label_smoothing(0.2).d_loss
    assert ls(torch.full((3,), 0.8), torch.zeros(3)) == 0


def test_diffaugment_is_differentiable_and_the_same_for_the_same_seed():
    x = torch.rand(6, 3, 16, 16, requires_grad=True) * 2 - 1
    policies = ["color", "translation", "cutout"]
    a = diff_augment(x, policies, torch.Generator().manual_seed(3))
    b = diff_augment(x, policies, torch.Generator().manual_seed(3))
    c = diff_augment(x, policies, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.shape == x.shape
    (grad,) = torch.autograd.grad(a.sum(), x)
    assert grad.abs().sum() > 0  # colour mixes pixels through their means: all get gradient
    cut = diff_augment(x, ["translation", "cutout"], torch.Generator().manual_seed(3))
    (grad,) = torch.autograd.grad(cut.sum(), x)
    assert (grad == 0).any() and (grad == 1).any()  # cut-out pixels get none, kept ones pass


def test_translation_shifts_and_cutout_zeroes_a_square():
    x = torch.ones(4, 1, 16, 16)
    out = diff_augment(x, ["cutout"], torch.Generator().manual_seed(0))
    zeros = (out == 0).flatten(1).sum(1)
    assert ((zeros > 0) & (zeros <= 64)).all()  # an 8x8 square, clipped at the border


def test_instance_noise_anneals_to_zero():
    assert noise_std(0.1, 0, 100) == 0.1
    assert noise_std(0.1, 50, 100) == pytest.approx(0.05)
    assert noise_std(0.1, 100, 100) == 0 and noise_std(0.1, 500, 100) == 0


def test_historical_average_is_the_mean_of_past_weights():
    net = torch.nn.Linear(3, 1)
    hist = HistoricalAverage(net)
    seen = [net.weight.detach().clone()]
    for _ in range(4):
        with torch.no_grad():
            net.weight.add_(torch.randn_like(net.weight))
        seen.append(net.weight.detach().clone())
        hist.update(net)
    mean = torch.stack(seen).mean(0)
    assert torch.allclose(hist.means()[0], mean, atol=1e-6)
    expected = (net.weight - mean).pow(2).sum() + (net.bias - hist.means()[1]).pow(2).sum()
    assert torch.allclose(hist.penalty(net), expected)


@pytest.mark.parametrize("name", ["dcgan", "mlp", "resnet", "progressive"])
def test_feature_hook_and_minibatch_head_fit_any_discriminator(name):
    shape = (1, 28, 28)
    d = build(name, "d", shape, 8, **({} if name == "mlp" else {"width": 8}))
    x = torch.randn(4, *shape)
    before = d(x)
    add_minibatch_discrimination(d, 5, shape)
    assert isinstance(head_of(d), MinibatchDiscriminationHead)
    logits, features = logits_and_features(d, x, head_of(d))
    assert torch.allclose(logits, before, atol=1e-6)  # starts as the plain head
    assert features.shape[0] == 4 and features.dim() == 2


def stabilised(steps: int = 6, **switches) -> dict:
    raw = tiny_digits(steps=steps)
    raw["train"].update(log_every=1, checkpoint_every=steps, sample_every=steps)
    raw["stabilisers"] = switches
    return raw


def losses(run) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items() if "loss" in k} for x in lines]


SWITCHES = {
    "minibatch_discrimination": 4,
    "feature_matching": 1.0,
    "label_smoothing": 0.1,
    "historical_averaging": 0.01,
    "diffaugment": ["color", "translation", "cutout"],
    "instance_noise": 0.1,
    "instance_noise_steps": 6,  # fixed: the default (train.steps) differs between the runs
}


def test_all_switches_train_resume_exactly_and_change_the_losses(tmp_path):
    plain = api.train(config.from_dict(stabilised()), tmp_path / "plain")["run"]
    whole = api.train(config.from_dict(stabilised(**SWITCHES)), tmp_path / "whole")["run"]
    half = api.train(
        config.from_dict(stabilised(**SWITCHES)), tmp_path / "half", ["train.steps=3"]
    )["run"]
    api.resume(half, ["train.steps=6"])
    assert losses(whole) == losses(half)  # hist means, noise clock, rng all restored
    assert losses(whole) != losses(plain)
    assert api.sample(whole, 3)["images"].shape == (3, 1, 28, 28)


@pytest.mark.parametrize(
    "switches,message",
    [
        ({"label_smoothing": 0.1, "_loss": "hinge"}, "real target"),
        ({"diffaugment": ["colour"]}, "unknown policy"),
        ({"label_smoothing": 1.5}, r"\[0, 1\)"),
    ],
)
def test_bad_switches_are_named(tmp_path, switches, message):
    loss = switches.pop("_loss", "non-saturating")
    raw = stabilised(**switches) | {"loss": {"name": loss}}
    with pytest.raises(BadInput, match=message):
        api.train(config.from_dict(raw), tmp_path / "run")
