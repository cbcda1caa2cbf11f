"""Tiny runs of cgan, projection, acgan and semi-supervised on digits; sampling by class; errors."""

import json

import numpy as np
import pytest
import torch
from conftest import tiny_digits

from gankit import api, config
from gankit.cli import main
from gankit.errors import BadInput


def tiny(recipe: str, net: str = "mlp", steps: int = 10, **extra) -> dict:
    raw = tiny_digits(steps)
    raw["recipe"] = recipe
    if net == "mlp":
        raw["nets"] |= {"g": "mlp", "d": "mlp", "g_options": {"hidden": 32}}
        raw["nets"]["d_options"] = {"hidden": 32}
    else:
        raw["nets"]["d_options"] = {"width": 8, "norm": "none"}
    return raw | extra


def records(run) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "recipe, net, loss",
    [
        ("cgan", "mlp", "non-saturating"),
        ("cgan", "dcgan", "non-saturating"),
        ("projection", "dcgan", "hinge"),
        ("acgan", "dcgan", "non-saturating"),
        ("semi-supervised", "mlp", "non-saturating"),
    ],
)
def test_tiny_run_per_recipe(tmp_path, recipe, net, loss):
    raw = tiny(recipe, net, loss={"name": loss})
    out = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    last = records(out)[-1]
    assert last["step"] == 10 and np.isfinite(last["d_loss"]) and np.isfinite(last["g_loss"])
    grid = out / "samples" / "classes-step-00000010.png"
    assert grid.is_file() == (recipe != "semi-supervised")  # SGAN's G takes no labels


@pytest.mark.parametrize("recipe", ["cgan", "semi-supervised"])
def test_resume_is_exact_with_a_penalty_or_noise_layers(tmp_path, recipe):
    # cgan: the gradient penalty's stream; SGAN: D's Gaussian noise draws from torch's generator
    raw = tiny(recipe, "mlp", steps=20, loss={"name": "wgan-gp" if recipe == "cgan" else "minimax"})
    if recipe == "semi-supervised":
        raw["nets"]["d_options"]["noise"] = [0.3, 0.5]
    whole = api.train(config.from_dict(raw), tmp_path / "whole")["run"]
    half = api.train(config.from_dict(raw), tmp_path / "half", ["train.steps=10"])["run"]
    api.resume(half, ["train.steps=20"])
    a, b = api.load(whole).recipe.modules, api.load(half).recipe.modules
    for name in ("g", "d"):
        sa, sb = a[name].state_dict(), b[name].state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name


def test_sample_by_class_index_and_name_with_labels(tmp_path, capsys):
    run = api.train(config.from_dict(tiny("acgan", "dcgan")), tmp_path / "run")["run"]
    out = tmp_path / "s.npz"
    assert main(["sample", str(run), "--n", "6", "--out", str(out), "--class", "3"]) == 0
    f = np.load(out)
    assert f["images"].dtype == np.uint8 and f["images"].shape == (6, 1, 28, 28)
    assert f["labels"].dtype == np.int64 and f["labels"].tolist() == [3] * 6
    # Digits' class names are "0".."9": the name "7" is class 7.
    assert api.sample(run, 2, class_index="7")["labels"].tolist() == [7, 7]
    spread = api.sample(run, 20)["labels"]
    assert np.bincount(spread).tolist() == [2] * 10  # no class given: a balanced spread
    # The class decides the image: the same latents, another class, other pixels.
    assert not np.array_equal(
        api.sample(run, 2, 0, 1)["images"], api.sample(run, 2, 0, 2)["images"]
    )


def test_class_out_of_range_and_unknown_name_exit_2(tmp_path, capsys):
    run = api.train(config.from_dict(tiny("cgan")), tmp_path / "run")["run"]
    capsys.readouterr()  # the training's own lines (its thread count)
    out = str(tmp_path / "s.npz")
    assert main(["sample", str(run), "--out", out, "--class", "10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--class 10 is out of range: this run has 10 classes, 0..9" in err[0]
    assert main(["sample", str(run), "--out", out, "--class", "-1"]) == 2
    assert main(["sample", str(run), "--out", out, "--class", "sevn"]) == 2
    assert '--class "sevn": no such class.' in capsys.readouterr().err


def test_class_names_resolve_case_insensitively():
    from gankit.core.sampling import class_index
    from gankit.data import DataSpec

    spec = DataSpec("fashion-mnist", "image", (1, 28, 28), ("T-shirt/top", "Ankle boot"))
    assert class_index(spec, "ankle boot") == 1 and class_index(spec, "0") == 0
    with pytest.raises(BadInput, match='Did you mean "Ankle boot"'):
        class_index(spec, "Ankle bot")


def test_dataset_without_labels(tmp_path, capsys):
    raw = {
        "data": {"name": "swiss-roll", "options": {"n": 512}},
        "nets": {"g": "mlp", "d": "mlp", "z_dim": 2},
        "train": {"steps": 2, "batch_size": 32, "progress": False},
    }
    with pytest.raises(BadInput, match='dataset "swiss-roll" has none'):
        api.train(config.from_dict(raw | {"recipe": "cgan"}), tmp_path / "cgan")
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    assert main(["sample", str(run), "--out", str(tmp_path / "s.npz"), "--class", "1"]) == 2
    assert 'dataset "swiss-roll" has no labels' in capsys.readouterr().err


def test_recipe_options_and_owned_head_are_checked(tmp_path):
    with pytest.raises(BadInput, match='"recipe_options.labeled". Did you mean "labelled"'):
        api.train(
            config.from_dict(tiny("semi-supervised", recipe_options={"labeled": 100})),
            tmp_path / "a",
        )
    with pytest.raises(BadInput, match="expected float"):
        api.train(
            config.from_dict(tiny("acgan", recipe_options={"class_weight": "x"})), tmp_path / "b"
        )
    raw = tiny("acgan")
    raw["nets"]["d_options"]["conditioning"] = "projection"
    with pytest.raises(BadInput, match=r"sets its discriminator's head itself \(aux\)"):
        api.train(config.from_dict(raw), tmp_path / "c")
