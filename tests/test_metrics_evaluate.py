"""End to end: scoring samples and generators, floors, protocol records, bad input, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gankit import data
from gankit.cli import main
from gankit.config import DataConfig, from_dict
from gankit.errors import BadInput
from gankit.metrics import evaluate_generator, evaluate_samples, evaluator

DIGITS = DataConfig(name="digits", size=12)
IMAGE_METRICS = ["fid", "kid", "is", "precision_recall", "density_coverage", "classes"]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for the module, holding a small digits evaluator trained once (3 epochs)."""
    root = tmp_path_factory.mktemp("gankit-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANKIT_CACHE", str(root))
        evaluator.train(DIGITS, epochs=3, progress=False)
    return root


@pytest.fixture
def cache(shared_cache, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(shared_cache))
    return shared_cache


def real_digits(split: str, n: int) -> torch.Tensor:
    return data.build(DIGITS, split).x[:n]


def test_real_held_out_digits_score_like_the_floor_and_noise_scores_far_worse(cache):
    real = evaluate_samples(real_digits("test", 300), DIGITS, IMAGE_METRICS)
    noise = torch.randint(0, 256, (300, 1, 12, 12), dtype=torch.uint8)
    bad = evaluate_samples(noise, DIGITS, IMAGE_METRICS)
    for key in ("fid", "kid", "precision", "recall", "density", "coverage", "is", "class_kl"):
        assert f"{key}_floor" in real and math.isfinite(real[key]), key
    assert bad["fid"] > 5 * real["fid"]
    assert bad["fid_floor"] == pytest.approx(real["fid_floor"])  # same reference, same floor
    assert real["classes_seen"] == 10 and bad["recall"] < real["recall"]
    assert real["precision"] > 0.7 and bad["precision"] < 0.2
    p = real["protocol"]
    assert p["extractor"] == "own:digits-12px-1ch" and len(p["extractor_sha256"]) == 64
    assert (p["n_generated"], p["n_reference"], p["n_floor"]) == (300, 300, 300)
    assert p["reference_split"] == "train" and p["floor_split"] == "test" and p["resize"] == "none"
    assert len(list((cache / "features").glob("digits-12px-1ch-*-n300-s0.st"))) == 2  # cached


def test_toy_modes_for_ring_points_and_their_floor(cache):
    points = data.build(DataConfig(name="ring"), "test").x[:2500]
    r = evaluate_samples(points, DataConfig(name="ring"))
    assert r["modes"] == 8 and r["modes_floor"] == 8
    assert r["high_quality"] > 0.97 and r["reverse_kl"] < 0.02
    assert r["protocol"]["n_generated"] == 2500


def test_other_point_data_gets_distances_on_coordinates(cache):
    cfg = DataConfig(name="swiss-roll")
    points = data.build(cfg, "test").x[:500]
    r = evaluate_samples(points, cfg, ["fid", "precision_recall", "classes"])
    assert r["fid"] < 0.05 and "classes_seen" not in r and r["protocol"]["extractor"] == "points"


@pytest.mark.parametrize(
    "samples, match",
    [
        (torch.rand(50, 1, 12, 12), "uint8"),
        (torch.zeros(50, 12, 12, 1, dtype=torch.uint8), "NHWC"),
        (torch.ones(50, 1, 12, 12, dtype=torch.uint8), "0 and 1"),
        (torch.full((50, 3, 12, 12), 9, dtype=torch.uint8), "channel"),
        (torch.full((50, 1, 12, 10), 9, dtype=torch.uint8), "square"),
    ],
)
def test_bad_images_are_refused(cache, samples, match):
    with pytest.raises(BadInput, match=match):
        evaluate_samples(samples, DIGITS)


def test_too_few_samples_for_fid_is_refused(cache):
    with pytest.raises(BadInput, match="more samples than feature dimensions"):
        evaluate_samples(real_digits("test", 50), DIGITS, ["fid"])


def test_points_that_diverged_are_refused(cache):
    with pytest.raises(BadInput, match="NaN"):
        evaluate_samples(torch.full((10, 2), math.nan), DataConfig(name="ring"))


def tiny_recipe(cfg_dict):
    from gankit.train.trainer import build_recipe

    cfg = from_dict(cfg_dict)
    spec = data.build(cfg.data).spec
    return cfg, build_recipe(cfg, spec, torch.device("cpu"))


def test_evaluate_generator_moves_no_random_state(cache):
    cfg, recipe = tiny_recipe(
        {
            "data": {"name": "digits", "size": 12},
            "nets": {"g": "mlp", "d": "mlp", "z_dim": 8},
            "eval": {"n": 200, "metrics": ["kid", "precision_recall", "classes"]},
        }
    )
    global_state, noise_state = torch.get_rng_state(), recipe.rng.get_state()
    first = evaluate_generator(recipe, cfg)
    assert torch.equal(torch.get_rng_state(), global_state)
    assert torch.equal(recipe.rng.get_state(), noise_state)
    assert evaluate_generator(recipe, cfg) == first  # same latents, same numbers
    assert {"kid", "kid_floor", "precision", "recall_floor", "classes_seen"} <= set(first)


def test_evaluate_generator_on_the_ring(cache):
    cfg, recipe = tiny_recipe(
        {"data": {"name": "ring"}, "nets": {"g": "mlp", "d": "mlp", "z_dim": 2}, "eval": {"n": 500}}
    )
    r = evaluate_generator(recipe, cfg)
    assert 0 <= r["modes"] <= 8 and r["modes_floor"] == 8 and r["high_quality_floor"] > 0.95


def test_stacked_digits_labels_and_mode_count(cache):
    cfg = DataConfig(name="stacked-digits", size=12, options={"n": 1000})
    ds = data.build(cfg, "test")
    assert ds.shape == (3, 12, 12) and ds.num_classes == 1000
    base = data.build(DataConfig(name="digits", size=12), "test")
    # Channel 0 of item 0 is one of the base items, and the label encodes the three classes.
    match = (base.x[:, 0] == ds.x[0, 0]).all(-1).all(-1)
    assert int(ds.y[0]) // 100 in base.y[match].tolist()
    r = evaluate_samples(ds.x, cfg)
    assert r["modes_floor"] == r["modes"] and 400 < r["modes"] <= 1000  # the same items
    assert r["protocol"]["extractor"].endswith("per channel")


def test_cli_eval_of_an_npz_prints_one_json_object(cache, tmp_path, capsys):
    points = data.build(DataConfig(name="grid"), "test").x[:2500].numpy()
    np.savez(tmp_path / "s.npz", points=points)
    assert main(["eval", str(tmp_path / "s.npz"), "--dataset", "grid"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (
        out["modes"] == 25 and out["high_quality"] > 0.96 and out["protocol"]["dataset"] == "grid"
    )


def test_cli_eval_bad_input_exits_2_with_one_line(cache, tmp_path, capsys):
    np.savez(tmp_path / "f.npz", images=np.random.rand(20, 1, 12, 12).astype(np.float32))
    assert main(["eval", str(tmp_path / "f.npz"), "--dataset", "digits"]) == 2
    err = capsys.readouterr().err.strip()
    assert "uint8" in err and len(err.splitlines()) == 1
    assert main(["eval", str(tmp_path / "f.npz")]) == 2  # no --dataset


def test_cli_eval_of_a_run_appends_to_its_metrics(cache, tmp_path, capsys):
    from gankit import api

    run = tmp_path / "run"
    cfg = from_dict(
        {
            "data": {"name": "ring"},
            "nets": {"g": "mlp", "d": "mlp", "z_dim": 2},
            "train": {"steps": 3, "progress": False, "batch_size": 32},
        }
    )
    api.train(cfg, run)
    before = (run / "metrics.jsonl").read_text().splitlines()
    assert main(["eval", str(run), "--n", "300"]) == 0
    printed = json.loads(capsys.readouterr().out)
    after = (run / "metrics.jsonl").read_text().splitlines()
    assert len(after) == len(before) + 1 and json.loads(after[-1]) == printed
    assert printed["step"] == 3 and printed["protocol"]["n_generated"] == 300
