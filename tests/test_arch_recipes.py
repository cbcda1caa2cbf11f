"""Recipes beyond DCGAN in tiny runs: BEGAN's k_t, progressive growing, style sampling."""

import json

import numpy as np
import pytest
import torch
from conftest import tiny_digits

from gankit import api, config
from gankit.cli import main
from gankit.errors import BadInput
from gankit.recipes.began import convergence, next_k


def tiny(g: str, d: str, steps: int = 8, recipe: str = "unconditional", **extra) -> dict:
    raw = tiny_digits(steps=steps)
    raw["recipe"] = recipe
    raw["nets"].update(g=g, d=d)
    raw["train"].update(log_every=1, checkpoint_every=4, sample_every=steps)
    return raw | extra


def records(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def without_clock(run) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k not in ("time_s", "steps_per_s")} for r in records(run)
    ]


def test_k_t_control_step_and_convergence_measure():
    k = torch.tensor(0.5)
    # D reconstructs fakes too well for the equilibrium (L(G(z)) < gamma L(x)): k rises
    assert next_k(k, torch.tensor(1.0), torch.tensor(0.2), 0.5, 0.1) == pytest.approx(0.53)
    assert next_k(k, torch.tensor(1.0), torch.tensor(0.9), 0.5, 0.1) == pytest.approx(0.46)
    assert next_k(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(1.0), 0.5, 0.1) == 0  # clip
    assert next_k(torch.tensor(1.0), torch.tensor(9.0), torch.tensor(0.0), 0.5, 0.1) == 1
    assert convergence(torch.tensor(1.0), torch.tensor(0.2), 0.5) == pytest.approx(1.3)


def test_began_logs_k_and_m_global_every_step_and_resumes_exactly(tmp_path):
    opts = {"recipe_options": {"lambda_k": 0.05, "gamma": 0.7}}
    raw = tiny("began", "began", steps=6, recipe="began", **opts)
    raw["nets"]["d_options"] = {"width": 8, "h_dim": 16}
    raw["train"]["checkpoint_every"] = 3
    whole = api.train(config.from_dict(raw), tmp_path / "whole")["run"]
    logged = records(whole)
    assert [r["step"] for r in logged] == list(range(1, 7))
    assert all({"k_t", "m_global", "d_loss", "g_loss"} <= set(r) for r in logged)
    assert logged[0]["k_t"] == 0 and logged[-1]["k_t"] > 0  # the control moved k
    half = api.train(config.from_dict(raw), tmp_path / "half", ["train.steps=3"])["run"]
    api.resume(half, ["train.steps=6"])  # k_t comes back from the checkpoint
    assert without_clock(whole) == without_clock(half)


def test_began_refuses_a_logit_discriminator(tmp_path):
    with pytest.raises(BadInput, match="nets.d: began"):
        api.train(config.from_dict(tiny("began", "dcgan", recipe="began")), tmp_path / "r")


def test_progressive_grows_with_fade_in_and_resumes_exactly(tmp_path):
    opts = {"recipe_options": {"fade_steps": 2, "stable_steps": 2}}
    raw = tiny("progressive", "progressive", steps=10, recipe="progressive", **opts)
    raw["train"]["ema"] = 0.9
    whole = api.train(config.from_dict(raw), tmp_path / "whole")["run"]
    phases = [(r["level"], r["alpha"]) for r in records(whole)]
    assert phases == [
        (0, 1), (0, 1), (1, 0), (1, 0.5), (1, 1), (1, 1), (2, 0), (2, 0.5), (2, 1), (2, 1)
    ]  # fmt: skip
    half = api.train(config.from_dict(raw), tmp_path / "half", ["train.steps=5"])["run"]
    api.resume(half, ["train.steps=10"])
    assert without_clock(whole) == without_clock(half)
    assert api.sample(whole, 3)["images"].shape == (3, 1, 28, 28)


def test_progressive_sample_mid_growth_is_full_size(tmp_path):
    opts = {"recipe_options": {"fade_steps": 100, "stable_steps": 100}}
    raw = tiny("progressive", "progressive", steps=3, recipe="progressive", **opts)
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    assert records(run)[-1]["level"] == 0
    assert api.sample(run, 2)["images"].shape == (2, 1, 28, 28)  # 7x7 upsampled


@pytest.mark.parametrize(
    "g,d,d_options",
    [
        ("resnet", "resnet", {"width": 8, "spectral_norm": True}),
        ("style", "progressive", {"width": 8}),
        ("style", "resnet", {"width": 8}),
    ],
)
def test_networks_train_in_the_unconditional_recipe(tmp_path, g, d, d_options):
    raw = tiny(g, d, steps=4, loss={"name": "hinge"})
    raw["nets"]["d_options"] = d_options
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    assert all(np.isfinite(r["d_loss"]) for r in records(run))
    assert api.sample(run, 2)["images"].shape == (2, 1, 28, 28)


def test_sample_truncation_pulls_styles_to_the_mean(tmp_path):
    raw = tiny("style", "dcgan", steps=4)
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    free = api.sample(run, 64, truncation=1.0)["images"].astype(float)
    tight = api.sample(run, 64, truncation=0.0)["images"].astype(float)
    assert tight.std(0).mean() < free.std(0).mean()
    assert np.array_equal(api.sample(run, 8)["images"], api.sample(run, 8)["images"])
    out = tmp_path / "t.npz"
    assert main(["sample", str(run), "--n", "64", "--truncation", "0", "--out", str(out)]) == 0
    assert np.array_equal(np.load(out)["images"], tight.astype(np.uint8))


def test_truncation_needs_a_style_generator(tmp_path):
    run = api.train(config.from_dict(tiny("dcgan", "dcgan", steps=2)), tmp_path / "run")["run"]
    with pytest.raises(BadInput, match="style-based generator"):
        api.sample(run, 4, truncation=0.7)
