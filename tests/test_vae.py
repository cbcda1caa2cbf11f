"""The VAE baseline: its ELBO terms, the reparameterisation gradient, and a tiny run
that trains, samples, exports and resumes like any GAN recipe."""

import json
import math

import numpy as np
import pytest
import torch
from conftest import tiny_digits, tiny_ring
from torch.distributions import Normal, kl_divergence

from gankit import api, config
from gankit.cli import main
from gankit.errors import BadInput
from gankit.recipes.vae import bernoulli_nll, kl_to_standard_normal, reparameterise


def tiny_vae(steps: int = 6) -> dict:
    raw = tiny_digits(steps=steps) | {"recipe": "vae"}
    raw["optim"] = {"lr_g": 1e-3, "betas": [0.9, 0.999]}
    raw["train"].update(log_every=1, checkpoint_every=3, sample_every=steps)
    return raw


def records(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def without_clock(run) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k not in ("time_s", "steps_per_s")} for r in records(run)
    ]


def test_kl_matches_its_closed_form_on_hand_made_posteriors():
    mu = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, -2.0]])
    logvar = torch.tensor([[0.0, 0.0], [0.0, math.log(4.0)], [-1.0, 0.7]])
    kl = kl_to_standard_normal(mu, logvar)
    assert kl[0] == 0  # the prior itself
    # 0.5 (mu^2 + sigma^2 - 1 - log sigma^2): 0.5 (1 + 1 - 1 - 0) + 0.5 (0 + 4 - 1 - log 4)
    assert float(kl[1]) == pytest.approx(0.5 + 0.5 * (3 - math.log(4.0)))
    q = Normal(mu, (0.5 * logvar).exp())
    expected = kl_divergence(q, Normal(torch.zeros(2), torch.ones(2))).sum(1)
    assert torch.allclose(kl, expected)


def test_bernoulli_nll_reads_pixels_in_minus_one_to_one_as_probabilities():
    x = torch.tensor([[[[-1.0, 1.0], [0.0, 1.0]]]])  # targets 0, 1, 0.5, 1
    x_hat = torch.tensor([[[[-0.8, 0.6], [0.0, 1.0]]]])  # probabilities 0.1, 0.8, 0.5, 1
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.5) + 0.0)
    assert float(bernoulli_nll(x_hat, x)[0]) == pytest.approx(expected, rel=1e-5)


def test_the_reparameterised_sample_carries_gradients_to_mu_and_logvar():
    mu = torch.tensor([0.5, -1.0], requires_grad=True)
    logvar = torch.tensor([0.0, 1.0], requires_grad=True)
    eps = torch.tensor([2.0, -0.5])
    z = reparameterise(mu, logvar, eps)
    assert torch.allclose(z, mu + (0.5 * logvar).exp() * eps)
    z.sum().backward()
    assert torch.equal(mu.grad, torch.ones(2))  # dz/dmu = 1
    assert torch.allclose(logvar.grad, 0.5 * (0.5 * logvar.detach()).exp() * eps)


def test_one_step_updates_encoder_and_decoder():
    from gankit import data
    from gankit.train.trainer import build_recipe

    cfg = config.from_dict(tiny_vae())
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, torch.device("cpu"))
    mu, logvar = recipe.modules["encoder"](ds.to_model_range(ds.x[:3]))
    assert mu.shape == logvar.shape == (3, cfg.nets.z_dim)
    before = {n: [p.clone() for p in m.parameters()] for n, m in recipe.modules.items()}
    stats = recipe.step(data.BatchStream(ds, 16, 0, torch.device("cpu")))
    assert set(stats) == {"recon_loss", "kl_loss", "elbo"}
    assert float(stats["elbo"]) == pytest.approx(-float(stats["recon_loss"] + stats["kl_loss"]))
    for name in ("g", "encoder"):  # the gradient reached both halves through z
        after = list(recipe.modules[name].parameters())
        assert any(not torch.equal(a, b) for a, b in zip(after, before[name])), name


def test_a_tiny_vae_learns_samples_and_resumes_exactly(tmp_path):
    long = tiny_vae(steps=60)
    long["train"].update(log_every=10, checkpoint_every=60)
    run = api.train(config.from_dict(long), tmp_path / "long")["run"]
    logged = records(run)
    assert {"recon_loss", "kl_loss", "elbo"} <= set(logged[0])
    assert logged[-1]["recon_loss"] < 0.85 * logged[0]["recon_loss"]  # loss falls
    assert logged[-1]["elbo"] > logged[0]["elbo"]
    images = api.sample(run, 5)["images"]  # G(z), z ~ N(0, I), in the export format
    assert images.dtype == np.uint8 and images.shape == (5, 1, 28, 28)
    assert len(np.unique(images.reshape(5, -1), axis=0)) == 5
    raw = tiny_vae(steps=6)
    whole = api.train(config.from_dict(raw), tmp_path / "whole")["run"]
    half = api.train(config.from_dict(raw), tmp_path / "half", ["train.steps=3"])["run"]
    api.resume(half, ["train.steps=6"])  # encoder, decoder, Adam and the eps stream come back
    assert without_clock(whole) == without_clock(half)
    out = tmp_path / "s.npz"
    assert main(["sample", str(whole), "--n", "4", "--out", str(out)]) == 0
    assert np.load(out)["images"].shape == (4, 1, 28, 28)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"nets": {"d": "resnet", "g": "dcgan", "z_dim": 8}}, "nets.d: dcgan or mlp"),
        ({"recipe_options": {"beta": 2.0}}, 'no option "recipe_options.beta"'),
        ({"stabilisers": {"feature_matching": 1.0}}, "feature_matching"),
    ],
)
def test_settings_the_vae_cannot_honour_are_bad_input(tmp_path, change, message):
    raw = tiny_vae() | change
    with pytest.raises(BadInput, match=message):
        api.train(config.from_dict(raw), tmp_path / "r")


def test_point_data_is_bad_input(tmp_path):
    raw = tiny_ring(steps=2) | {"recipe": "vae"}
    with pytest.raises(BadInput, match="recipe vae models images"):
        api.train(config.from_dict(raw), tmp_path / "r")


def test_the_shipped_config_uses_dcgan_fashions_generator():
    vae, gan = config.load("configs/vae-fashion.yaml"), config.load("configs/dcgan-fashion.yaml")
    assert vae.recipe == "vae"
    assert (vae.nets.g, vae.nets.z_dim, vae.nets.g_options) == (
        gan.nets.g,
        gan.nets.z_dim,
        gan.nets.g_options,
    )
    assert (vae.data, vae.train.batch_size) == (gan.data, gan.train.batch_size)
