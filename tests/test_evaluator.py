"""The own evaluator: training, caching with its sha256, reloading, missing-evaluator errors."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.config import DataConfig
from gankit.errors import BadInput
from gankit.files import sha256_file
from gankit.metrics import evaluator

SMALL = DataConfig(name="digits", size=12)  # 12 px digits: a few seconds on 2 cores


def test_train_caches_weights_and_metadata_and_reloads_the_same_network(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    state = torch.get_rng_state()
    ev = evaluator.train(SMALL, epochs=3, progress=False)
    assert torch.equal(torch.get_rng_state(), state)  # training moved no global random state
    meta = json.loads((tmp_path / "evaluators" / "digits-12px-1ch.json").read_text())
    weights = tmp_path / "evaluators" / meta["weights"]
    assert meta["sha256"] == sha256_file(weights)
    assert meta["dataset"] == "digits" and meta["size"] == 12 and meta["channels"] == 1
    assert meta["test_accuracy"] > 0.8  # ten classes: chance is 0.1
    again = evaluator.load(SMALL, 1)
    x = torch.randint(0, 256, (5, 1, 12, 12), dtype=torch.uint8)
    f1, p1 = ev.embed(x)
    f2, p2 = again.embed(x)
    assert f1.shape == (5, evaluator.FEATURES) and p1.shape == (5, 10)
    assert torch.allclose(f1, f2) and torch.allclose(p1, p2)
    assert torch.allclose(p1.sum(1), torch.ones(5))


def test_a_tampered_evaluator_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    evaluator.train(SMALL, epochs=1, progress=False)
    weights = tmp_path / "evaluators" / "digits-12px-1ch.safetensors"
    record = weights.with_suffix(".json")
    good = record.read_bytes()
    weights.write_bytes(weights.read_bytes()[:-1] + b" ")
    with pytest.raises(BadInput, match="does not match its record .*gankit evaluator train"):
        evaluator.load(SMALL, 1)
    # A torn or edited record is refused the same way, not a JSON traceback.
    for torn in (good[: len(good) // 2], b"[]", b"\xff\xfe"):
        record.write_bytes(torn)
        with pytest.raises(BadInput, match="does not match its record"):
            evaluator.load(SMALL, 1)


def test_a_declined_evaluator_names_the_command_and_its_time(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    with pytest.raises(BadInput, match="gankit evaluator train --dataset fashion-mnist") as e:
        evaluator.load(DataConfig(name="fashion-mnist"), 1, auto_train=False)
    assert isinstance(e.value, evaluator.NoEvaluator)  # a training run skips its eval on it
    assert "16 min on a 2-core CPU" in str(e.value)


def test_unlabelled_data_has_no_evaluator(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    with pytest.raises(BadInput, match="no class labels"):
        evaluator.train(DataConfig(name="ring"), progress=False)


def test_image_folder_with_class_subfolders_trains(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    g = torch.Generator().manual_seed(0)
    for cls, value in (("dark", 40), ("light", 215)):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(24):
            noise = torch.randint(-30, 30, (12, 12), generator=g)
            pixels = (value + noise).clamp(0, 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(tmp_path / "imgs" / cls / f"{i}.png")
    # The folder has no test split of its own: the same folder serves as both.
    cfg = DataConfig(name="image-folder", size=12, channels=1, root=str(tmp_path / "imgs"))
    ev = evaluator.train(cfg, 1, epochs=4, batch=16, progress=False)
    assert ev.meta["num_classes"] == 2 and ev.meta["test_accuracy"] > 0.9
    assert ev.meta["key"].startswith("image-folder-12px-1ch-")


def test_a_small_dataset_evaluator_is_trained_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    ev = evaluator.load(DataConfig(name="digits", size=8), 1)  # 8 px: the cheapest digits
    assert ev.meta["key"] == "digits-8px-1ch" and ev.meta["epochs"] == 10
    assert (tmp_path / "evaluators" / "digits-8px-1ch.safetensors").exists()
