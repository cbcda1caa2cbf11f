"""The semi-supervised D as a classifier: `gankit classify` on a dataset, an .npz and a folder."""

import json

import numpy as np
import pytest
from conftest import tiny_digits
from PIL import Image

from gankit import api, config, data
from gankit.cli import main
from gankit.config import DataConfig


@pytest.fixture(scope="module")
def sgan_run(tmp_path_factory):
    raw = tiny_digits(200)
    raw["recipe"] = "semi-supervised"
    raw["nets"] |= {"g": "mlp", "d": "mlp", "g_options": {"hidden": 64}}
    raw["nets"]["d_options"] = {"hidden": [128, 64]}
    raw["optim"] = {"lr_g": 1e-3, "lr_d": 1e-3}
    raw["train"] |= {"batch_size": 32, "log_every": 100, "sample_every": 200}
    raw["recipe_options"] = {"labelled": 50}  # 5 labelled images a class
    return api.train(config.from_dict(raw), tmp_path_factory.mktemp("sgan") / "run")["run"]


def test_classify_a_dataset_prints_accuracy_well_above_chance(sgan_run, capsys):
    assert main(["classify", str(sgan_run), "--input", "digits"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 360 and sum(summary["predicted"].values()) == 360
    assert summary["accuracy"] > 0.6, summary  # chance is 0.1; 50 labels, 200 steps
    assert summary["error"] == pytest.approx(1 - summary["accuracy"], abs=1e-3)


def test_classify_an_npz_and_a_folder(sgan_run, tmp_path, capsys):
    test = data.build(DataConfig(name="digits"), "test")
    api.save_npz({"images": test.x[:40].numpy(), "labels": test.y[:40].numpy()}, tmp_path / "t.npz")
    preds = tmp_path / "p.npz"
    args = ["classify", str(sgan_run), "--input", str(tmp_path / "t.npz"), "--out", str(preds)]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    saved = np.load(preds)
    assert saved["predictions"].shape == (40,) and saved["probabilities"].shape == (40, 10)
    assert np.allclose(saved["probabilities"].sum(1), 1, atol=1e-5)
    assert summary["accuracy"] == pytest.approx(
        np.mean(saved["predictions"] == test.y[:40].numpy())
    )
    # A folder whose sub-folders are named like the run's classes carries its labels.
    for i in range(6):
        label = int(test.y[i])
        (tmp_path / "imgs" / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(test.x[i, 0].numpy()).save(tmp_path / "imgs" / str(label) / f"{i}.png")
    assert main(["classify", str(sgan_run), "--input", str(tmp_path / "imgs")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 6 and "accuracy" in summary


def test_classify_needs_a_classifier_and_readable_input(sgan_run, tmp_path, capsys):
    raw = tiny_digits(2)
    raw["recipe"] = "cgan"
    cgan = api.train(config.from_dict(raw), tmp_path / "cgan")["run"]
    assert main(["classify", str(cgan), "--input", "digits"]) == 2
    assert "has no classifier" in capsys.readouterr().err
    assert main(["classify", str(sgan_run), "--input", str(tmp_path / "nothing")]) == 2
    assert "give a .npz with `images`" in capsys.readouterr().err
    # An .npz that numpy cannot read safely: one line, never unpickled.
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.array([{"a": 1}], dtype=object))
    assert main(["classify", str(sgan_run), "--input", str(bad)]) == 2
    assert "numpy cannot read it (a pickled object array)" in capsys.readouterr().err
    bad.write_text("hi")
    assert main(["classify", str(sgan_run), "--input", str(bad)]) == 2
    assert "is not a sample export" in capsys.readouterr().err
