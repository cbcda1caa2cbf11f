"""R3GAN's parts: the relativistic pairing game, the R1 + R2 penalty and the r3gan networks,
checked against the paper's formulas and gradients known in closed form; a tiny run of the
shipped config; and the recipes that cannot pass D(x) to G refusing the game in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from conftest import TINY_TRAIN

from gankit import api, config, nets, recipes
from gankit.data import DataSpec
from gankit.errors import BadInput
from gankit.losses import LOSSES
from gankit.penalties import PENALTIES, r1_penalty, r1r2_penalty

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
DIGITS = DataSpec("digits", "image", (1, 28, 28))
SMALL_NETS = {
    "g": "r3gan",
    "d": "r3gan",
    "z_dim": 8,
    "g_options": {"width": 16},
    "d_options": {"width": 16},
}


def softplus(t: float) -> float:
    return math.log1p(math.exp(t))


# -- the game ------------------------------------------------------------------------------------
def test_rpgan_losses_are_the_paired_softplus_of_logit_differences():
    game = LOSSES.get("rpgan")()
    real, fake = torch.tensor([1.0, -2.0, 0.0]), torch.tensor([0.5, 1.0, 0.0])
    pairs = list(zip(real.tolist(), fake.tolist()))
    d_by_hand = sum(softplus(f - r) for r, f in pairs) / 3  # -E log sigmoid(D(x_i) - D(G(z_i)))
    g_by_hand = sum(softplus(r - f) for r, f in pairs) / 3  # -E log sigmoid(D(G(z_i)) - D(x_i))
    assert game.d_loss(real, fake).item() == pytest.approx(d_by_hand)
    assert game.g_loss(fake, real).item() == pytest.approx(g_by_hand)
    # pair by pair: another pairing of the same logits is another loss
    assert game.d_loss(real, fake.flip(0)).item() != pytest.approx(d_by_hand)


def test_rpgan_declares_what_the_recipes_read_and_needs_d_of_x_in_g_loss():
    game = LOSSES.get("rpgan")()
    assert game.relativistic and not game.probabilistic and game.d_loss_at is None
    assert game.default_penalty == "r1r2"
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(game.d_loss(big, -big)) and torch.isfinite(game.g_loss(big, -big))
    with pytest.raises(ValueError, match="needs D\\(x\\)"):
        game.g_loss(big)


def test_the_classic_games_ignore_d_of_x_in_g_loss():
    game = LOSSES.get("non-saturating")()
    fake = torch.tensor([0.3, -1.2])
    by_hand = (softplus(-0.3) + softplus(1.2)) / 2
    assert game.g_loss(fake).item() == pytest.approx(by_hand)
    assert game.g_loss(fake, torch.tensor([9.0, 9.0])).item() == pytest.approx(by_hand)


def test_label_smoothing_is_refused_for_rpgan():
    raw = {"loss": {"name": "rpgan"}, "nets": SMALL_NETS, "stabilisers": {"label_smoothing": 0.1}}
    with pytest.raises(BadInput, match="label_smoothing needs a game with a real target"):
        recipes.build(config.from_dict(raw), DIGITS, CPU)


# -- the penalties -------------------------------------------------------------------------------
def linear_critic(w: torch.Tensor):
    return lambda x: (x.flatten(1) * w).sum(1)  # grad D = w for every x: ||grad||^2 = ||w||^2


def quadratic_critic(a: torch.Tensor):
    return lambda x: 0.5 * (a * x.flatten(1) ** 2).sum(1)  # grad D = a * x


def test_r1_r2_of_a_linear_critic_are_half_the_squared_weight_norm_each():
    w = torch.tensor([1.0, -2.0, 2.0, 0.5])  # ||w||^2 = 9.25
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    g = torch.Generator()
    assert r1_penalty(linear_critic(w), real, fake, g).item() == pytest.approx(0.5 * 9.25)
    assert r1r2_penalty(linear_critic(w), real, fake, g).item() == pytest.approx(9.25)
    assert PENALTIES.get("r1r2")().term is r1r2_penalty


def test_r1_r2_of_a_quadratic_critic_match_its_analytic_gradient():
    a = torch.tensor([1.0, 2.0, -1.0, 3.0])
    real = torch.tensor([[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 0.0, 1.0]]).view(2, 1, 2, 2)
    fake = torch.tensor([[2.0, 1.0, 0.0, 0.0], [1.0, -1.0, 1.0, 0.0]]).view(2, 1, 2, 2)
    # ||a * x||^2 per sample: real 1 + 0 + 4 + 9 = 14 and 0 + 4 + 0 + 9 = 13; fake 8 and 6
    r1 = 0.5 * (14 + 13) / 2
    r2 = 0.5 * (8 + 6) / 2
    g = torch.Generator()
    assert r1_penalty(quadratic_critic(a), real, fake, g).item() == pytest.approx(r1)
    assert r1r2_penalty(quadratic_critic(a), real, fake, g).item() == pytest.approx(r1 + r2)


def test_lazy_r1r2_runs_one_d_step_in_k_weighted_k_times_gamma():
    raw = {
        "loss": {"name": "rpgan", "penalty_weight": 0.1, "penalty_every": 3},
        "nets": SMALL_NETS,
    }
    recipe = recipes.build(config.from_dict(raw), DIGITS, CPU)
    w = torch.tensor([1.0, -2.0, 2.0, 0.5])  # r1r2 = ||w||^2 = 9.25
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    got = [recipe.penalty_of(linear_critic(w), real, fake).item() for _ in range(6)]
    due = 3 * 0.1 * 9.25
    assert got == pytest.approx([due, 0, 0, due, 0, 0])


# -- the recipes ---------------------------------------------------------------------------------
def test_unconditional_g_loss_pairs_d_of_x_with_the_fakes():
    recipe = recipes.build(
        config.from_dict({"loss": {"name": "rpgan"}, "nets": SMALL_NETS}), DIGITS, CPU
    )
    real = torch.rand(4, 1, 28, 28) * 2 - 1
    fake = recipe.fake((real, None))
    loss, _ = recipe.g_loss((real, None), fake)
    with torch.no_grad():
        r, f = recipe.D(real).tolist(), recipe.D(fake).tolist()
    assert loss.item() == pytest.approx(sum(softplus(a - b) for a, b in zip(r, f)) / 4, rel=1e-5)


def test_recipes_without_d_of_x_in_g_loss_refuse_rpgan_in_one_line():
    labelled = DataSpec("digits", "image", (1, 28, 28), tuple("0123456789"))
    cfg = config.from_dict({"recipe": "acgan", "loss": {"name": "rpgan"}, "nets": SMALL_NETS})
    with pytest.raises(BadInput) as e:
        recipes.build(cfg, labelled, CPU)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("loss.name rpgan needs the real batch in G's loss; recipe acgan")
    assert "use recipe unconditional (or cgan, progressive, projection, sequence)" in message


def test_the_shipped_config_trains_three_finite_steps(tmp_path):
    path = ROOT / "configs" / "r3gan-fashion.yaml"
    steps = {**TINY_TRAIN, "steps": 3}
    overrides = ["data.name=digits", *(f"train.{k}={v}" for k, v in steps.items())]
    cfg = config.load(path, overrides)
    assert (cfg.loss.name, cfg.loss.penalty, cfg.nets.g, cfg.nets.d) == (
        "rpgan",
        "r1r2",
        "r3gan",
        "r3gan",
    )
    run = api.train(cfg, tmp_path / "run")["run"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 3
    for record in records:
        assert all(math.isfinite(record[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake"))


# -- the networks --------------------------------------------------------------------------------
@pytest.mark.parametrize("side", [28, 32, 64])
def test_r3gan_nets_make_images_and_one_logit_each(side):
    shape = (3, side, side)
    g = nets.build("r3gan", "g", shape, 8, width=16)
    d = nets.build("r3gan", "d", shape, 0, width=16)
    x = g(torch.randn(2, 8))
    assert x.shape == (2, *shape) and x.abs().max() <= 1
    assert d(x).shape == (2,)


def test_r3gan_starts_with_every_residual_branch_at_zero():
    from gankit.nets.r3gan import Block

    d = nets.build("r3gan", "d", (1, 28, 28), 0, width=16, blocks=2)
    blocks = [m for m in d.modules() if isinstance(m, Block)]
    assert len(blocks) == 6  # 3 stages of 2
    for block in blocks:
        x = torch.randn(2, block.expand.in_channels, 5, 5)
        assert torch.equal(block(x), x)


def test_r3gan_refuses_other_sides_and_bad_groups():
    with pytest.raises(BadInput, match='"r3gan" is built for 28, 32 or 64 px images, not 48'):
        nets.build("r3gan", "g", (1, 48, 48), 8)
    with pytest.raises(BadInput, match="not a multiple of group_size 8"):
        nets.build("r3gan", "d", (1, 28, 28), 0, width=12)


def test_r3gan_refuses_spectral_norm_in_one_line():
    with pytest.raises(BadInput, match="spectral norm"):
        nets.build("r3gan", "d", (1, 28, 28), 64, spectral_norm=True)
