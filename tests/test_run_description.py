"""A run's description follows the data it trains on, not the config file's claim about it."""

from __future__ import annotations

import numpy as np
from conftest import tiny_digits
from PIL import Image

from gankit import api, config, describe

CLAIM = "Radford et al. 2015 on digits at 28x28"


def photo_folder(root):
    rng = np.random.default_rng(0)
    root.mkdir()
    for i in range(20):
        pixels = rng.integers(0, 255, (20, 20, 3)).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"{i}.png")
    return root


def test_a_folder_run_describes_the_folder_not_the_files_dataset(tmp_path, write_config):
    path = write_config(tiny_digits(steps=2) | {"description": CLAIM})
    folder = photo_folder(tmp_path / "photos")
    sets = ["data.name=image-folder", f"data.root={folder}", "data.size=16"]
    run = api.train(path, tmp_path / "run", sets)["run"]
    saved = config.load(run / "config.yaml").description
    assert CLAIM not in saved
    assert f"trained on image-folder {folder} at 16x16 instead of" in saved
    assert f"from {path}" in saved and "Recipe unconditional (G dcgan, D dcgan" in saved
    page = (run / "report.html").read_text()
    assert CLAIM not in page and f"image-folder {folder} at 16x16" in page


def test_the_description_stays_when_the_data_does():
    cfg = config.from_dict(tiny_digits() | {"description": CLAIM})
    same = config.from_dict(config.apply_overrides(cfg.to_dict(), ["train.steps=5"]))
    assert describe.follow_data(same, cfg.to_dict()["data"], "x").description == CLAIM
    # the file says nothing of the size (28 by default); saying 28 again changes nothing
    assert describe.follow_data(cfg, {"name": "digits"}, "x").description == CLAIM
    bigger = config.from_dict(config.apply_overrides(cfg.to_dict(), ["data.size=32"]))
    text = describe.follow_data(bigger, {"name": "digits", "size": 28}, "x").description
    assert text.startswith("Recipe unconditional") and "digits at 32x32" in text


def test_data_phrases():
    phrase = describe.data_phrase
    assert phrase(config.DataConfig("mnist", 32)) == "mnist at 32x32"
    assert phrase(config.DataConfig("ring", options={"std": 0.01})) == "ring, options std 0.01"
    folder = config.DataConfig("image-folder", 64, 3, "/p")
    assert phrase(folder) == "image-folder /p at 64x64, 3 channels"
