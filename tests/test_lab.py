"""The labs at tiny budgets: numbers, plots, JSON and the `gankit lab` command."""

import json
import math

import pytest

from gankit import lab
from gankit.cli import main
from gankit.errors import BadInput


def test_optimal_d_matches_theory(tmp_path):
    n = lab.run("optimal-d", tmp_path, {"steps": 600, "batch": 256, "lr": 5e-3})
    # Both sides of V(D*, G) = -log 4 + 2 JSD come from quadrature: they agree to rounding.
    assert n["theorem_gap"] < 1e-9
    assert 0 < n["jsd"] < math.log(2)
    assert n["v_d_trained"] <= n["v_d_star"] + 1e-9  # D* maximises V
    assert n["max_abs_error"] < 0.25  # a short training already follows D* closely
    assert (tmp_path / "optimal-d.png").stat().st_size > 0
    assert json.loads((tmp_path / "optimal-d.json").read_text())["lab"] == "optimal-d"


def test_js_stays_log2_while_w_is_theta(tmp_path):
    n = lab.run("js-vs-wasserstein", tmp_path, {"thetas": [0.0, 0.5], "steps": 30})
    zero, half = n["rows"]
    assert zero["js"] == 0 and half["js"] == pytest.approx(math.log(2))
    assert half["w_exact_ot"] == pytest.approx(0.5, abs=0.05)
    assert zero["w_exact_ot"] < 0.05
    assert (tmp_path / "js-vs-wasserstein.png").exists()


def test_saturation_gradients(tmp_path):
    n = lab.run("saturation", tmp_path, {"steps": 6, "every": 3})
    assert n["minimax_grad_at_d_0.01"] == pytest.approx(0.01, abs=2e-3)
    assert n["nonsat_grad_at_d_0.01"] == pytest.approx(0.99, abs=2e-3)
    assert len(n["runs"]["minimax"]["g_grad_norm"]) == 3  # steps 1, 3, 6


def test_vanishing_gradients_records_every_cost(tmp_path):
    n = lab.run("vanishing-gradients", tmp_path, {"epochs": [1], "d_iters": 3, "width": 8})
    curves = n["curves"]["1"]
    assert curves["iteration"] == [1, 2, 3]
    for cost in ("minimax", "non-saturating", "wgan-gp"):
        assert len(curves[cost]) == 3 and all(v > 0 for v in curves[cost])


def test_mode_collapse_grid(tmp_path):
    n = lab.run("mode-collapse", tmp_path, {"steps": 4, "columns": 2, "variants": ["vanilla"]})
    assert set(n["modes"]["vanilla"]) == {"2", "4"}
    assert (tmp_path / "mode-collapse.png").exists()


def test_unknown_setting_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match='no setting "stpes".*Did you mean "steps"'):
        lab.run("optimal-d", tmp_path, {"stpes": 3})


def test_lab_command(tmp_path, capsys):
    assert main(["lab", "optimal-d", "--out", str(tmp_path), "--set", "steps=50"]) == 0
    out = capsys.readouterr().out
    assert "max |D - D*|" in out and "V(D*, G)" in out
    assert main(["lab", "optimal-d", "--out", str(tmp_path), "--set", "nope=1"]) == 2
