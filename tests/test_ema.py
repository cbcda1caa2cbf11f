"""The EMA of G: a decay per step (train.ema) or StyleGAN2-ADA's half-life in images
(train.ema_kimg) with its ramp (train.ema_rampup), against hand computations; the average's
start, its buffers, bad settings, an exact resume and a step without host syncs."""

import pytest
import torch
from conftest import tiny_digits, tiny_ring, whole_and_resumed
from test_doctor import Stub, history
from test_resume_policy import same, weights
from test_sync_free import family_config, syncs_in_steps

from gankit import api, config, data
from gankit.diagnostics import doctor as dr
from gankit.errors import BadInput
from gankit.train.step import ema_beta
from gankit.train.trainer import build_recipe

RAMPED = {"ema_kimg": 10, "ema_rampup": 0.05}


def train_config(**keys) -> config.TrainConfig:
    return config.from_dict({"train": {"batch_size": 64} | keys}).train


@pytest.mark.parametrize(
    "step, beta",
    [
        (1, 0.0),  # no image seen yet: a half-life of 0, the average becomes G
        (2, 0.5**20),  # 64 images seen: half-life 0.05 x 64 = 3.2 images, 64 / 3.2 = 20
        (100, 0.869332386766551),  # 99 x 64 = 6336 seen: half-life 316.8, 0.5 ** (64 / 316.8)
        (10_000, 0.9955736831881946),  # 0.05 x 639,936 > 10,000: the full 0.5 ** (64 / 10,000)
    ],
)
def test_the_ramped_decay_matches_a_hand_computation(step, beta):
    images = (step - 1) * 64  # seen before the step's update, as StyleGAN2-ADA counts cur_nimg
    assert ema_beta(train_config(**RAMPED), images) == pytest.approx(beta, rel=1e-12, abs=0)


def test_without_a_ramp_the_half_life_holds_from_the_first_step():
    train = train_config(ema_kimg=10)
    for images in (0, 6336, 639_936):
        assert ema_beta(train, images) == pytest.approx(0.9955736831881946, rel=1e-12)
    # the definition of a half-life: after 10,000 images (156.25 steps of 64) a weight counts half
    assert ema_beta(train, 0) ** (10_000 / 64) == pytest.approx(0.5, rel=1e-12)
    assert ema_beta(train_config(ema=0.999), 10**9) == 0.999  # a plain decay stays a decay


def tiny_recipe(**train):
    """A DCGAN G with batch norm (buffers) on digits, built as training builds it."""
    raw = tiny_digits()
    raw["nets"] |= {"z_dim": 8, "g_options": {"width": 4}, "d_options": {"width": 4}}
    raw["train"] |= {"batch_size": 8} | train
    cfg = config.from_dict(raw)
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, torch.device("cpu"))
    return recipe, data.BatchStream(ds, cfg.train.batch_size, cfg.train.seed, torch.device("cpu"))


def test_the_average_starts_as_g_and_follows_a_hand_rolled_lerp():
    # half-life 100 images, at most a quarter of those seen: 8 images a step, so the decay ramps
    # 0, 0.5 ** 4, 0.5 ** 2, ... and holds 0.5 ** (8 / 100) from step 51 (images 400) on
    recipe, stream = tiny_recipe(ema_kimg=0.1, ema_rampup=0.25)
    g, g_ema = recipe.modules["g"], recipe.modules["g_ema"]
    assert g_ema is not g and not any(p.requires_grad for p in g_ema.parameters())
    assert same(g.state_dict(), g_ema.state_dict())  # weights and batch-norm statistics
    hand = [p.detach().clone().double() for p in g.parameters()]
    for step in range(1, 61):
        recipe.step(stream)
        half_life = min(100.0, 0.25 * 8 * (step - 1))
        beta = 0.0 if half_life == 0 else 0.5 ** (8 / half_life)
        hand = [beta * h + (1 - beta) * p.detach().double() for h, p in zip(hand, g.parameters())]
        for h, p in zip(hand, g_ema.parameters()):
            torch.testing.assert_close(p.double(), h, rtol=1e-5, atol=1e-6)
        for b_ema, b in zip(g_ema.buffers(), g.buffers()):  # copied, not averaged
            assert torch.equal(b_ema, b)
    assert recipe.modules["ema_clock"].value("g_steps") == 60
    assert not same(g.state_dict(), g_ema.state_dict())  # the average lags G


@pytest.mark.parametrize(
    "train, message",
    [
        ({"ema": 0.999, "ema_kimg": 10}, "train.ema = 0.999 and train.ema_kimg = 10.0 both set"),
        ({"ema_rampup": 0.05}, "train.ema_rampup = 0.05 ramps the half-life train.ema_kimg"),
        ({"ema": 0.999, "ema_rampup": 0.05}, "set train.ema_kimg"),
        ({"ema_kimg": 0}, "train.ema_kimg = 0.0: use a half-life in thousands of images"),
        ({"ema_kimg": -1}, "train.ema_kimg = -1.0"),
        ({"ema_kimg": float("inf")}, "train.ema_kimg = inf"),
        ({"ema_kimg": 10, "ema_rampup": 0}, r"train.ema_rampup = 0.0: use a fraction in \(0, 1\]"),
        ({"ema_kimg": 10, "ema_rampup": 1.5}, "train.ema_rampup = 1.5"),
        ({"ema_kimg": "ten"}, "train.ema_kimg = 'ten' has the wrong type"),
    ],
)
def test_bad_ema_settings_are_one_line_naming_the_keys_and_the_fix(train, message):
    with pytest.raises(BadInput, match=message) as caught:
        config.from_dict({"train": train})
    assert "\n" not in str(caught.value)


def test_the_settings_that_keep_an_ema():
    for train, kept in [({}, False), ({"ema": 0.99}, True), ({"ema_kimg": 10}, True)]:
        assert config.keeps_ema(config.from_dict({"train": train})) is kept
    assert config.from_dict({"train": RAMPED}).train.ema_rampup == 0.05


def ring_raw(steps: int, **train) -> dict:
    raw = tiny_ring(steps)
    raw["train"] |= {"checkpoint_every": 30, "log_every": 10, "sample_every": steps} | train
    return raw


def ring(steps: int, **train) -> config.Config:
    return config.from_dict(ring_raw(steps, **train))


def test_resume_with_a_ramped_half_life_is_bit_identical(tmp_path):
    # 128 images a step, half-life 2,000 images at most 5% of those seen: still ramping at 30
    ramped = {"ema_kimg": 2, "ema_rampup": 0.05}
    whole, half = whole_and_resumed(ring_raw(60, **ramped), tmp_path, at=30)
    a, b = weights(whole, 60, "module."), weights(half, 60, "module.")
    assert "module.g_ema.net.0.weight" in a and same(a, b)
    assert a["module.ema_clock.g_steps"].item() == 60


def test_a_resume_may_switch_the_half_life_on_and_the_average_starts_there(tmp_path):
    run = api.train(ring(30), tmp_path / "run")["run"]
    assert "module.g_ema.net.0.weight" not in weights(run, 30, "module.")
    api.resume(run, ["train.steps=40", "train.ema_kimg=2", "train.ema_rampup=0.05"])
    after = weights(run, 40, "module.")
    assert after["module.ema_clock.g_steps"].item() == 10  # its age: the steps since the resume
    assert not same(
        {k: v for k, v in after.items() if k.startswith("module.g.")},
        {k.replace("g_ema", "g", 1): v for k, v in after.items() if k.startswith("module.g_ema.")},
    )


def test_a_ramped_step_makes_no_host_sync(monkeypatch, tmp_path):
    raw = family_config("unconditional").to_dict()
    raw["train"] |= {"ema": None, "ema_kimg": 0.1, "ema_rampup": 0.05}
    sites = syncs_in_steps(monkeypatch, config.from_dict(raw), tmp_path / "run")
    assert not sites, f"host syncs inside the training step: {sorted(set(sites))}"


def test_the_doctor_suggests_an_ema_only_to_a_run_without_one():
    wild = history(d_loss=[0.1, 2.5, 0.2, 3.0, 0.1, 2.8, 0.3, 2.9])
    stub = Stub()
    assert any("train.ema_kimg" in fix for fix in dr.oscillation(wild, 800, stub).fixes)
    stub.cfg.train.ema_kimg = 10.0
    assert not any("EMA" in fix for fix in dr.oscillation(wild, 800, stub).fixes)
