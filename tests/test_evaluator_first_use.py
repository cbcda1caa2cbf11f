"""Evaluators train themselves on first use for any labelled dataset, and a run whose evaluator
is declined still finishes with its report (the evaluation skipped, with the reason)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gankit import api
from gankit.config import DataConfig
from gankit.metrics import evaluator


def write_idx(path: Path, array: np.ndarray) -> None:
    """An MNIST-format idx file (big-endian dims after a magic of type ubyte and rank)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def small_fashion_mnist(root: Path, train: int = 200, test: int = 150) -> Path:
    """A Fashion-MNIST-shaped set (28x28 grey, ten classes, torchvision's file layout) small
    enough to train an evaluator on in seconds: class k is a square of brightness 60 + 19k on a
    dark noisy background, at a random place."""
    rng = np.random.default_rng(0)
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", train), ("t10k", test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, (n, 28, 28))
        for i, k in enumerate(labels):
            top, left = rng.integers(2, 12, 2)
            images[i, top : top + 14, left : left + 14] = 60 + 19 * k
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
    return root


def tiny_run(root: Path, auto_evaluator: bool) -> dict:
    return {
        "description": "DCGAN on Fashion-MNIST at 28x28",
        "data": {"name": "fashion-mnist", "size": 28, "root": str(root)},
        "nets": {"g": "dcgan", "d": "dcgan", "z_dim": 8, "g_options": {"width": 8},
                 "d_options": {"width": 8}},
        "train": {"steps": 4, "batch_size": 16, "log_every": 2, "sample_every": 4,
                  "checkpoint_every": 4, "progress": False},
        "eval": {"at_end": True, "n": 150, "metrics": ["fid", "classes"],
                 "auto_evaluator": auto_evaluator},
    }  # fmt: skip


@pytest.fixture
def fashion_root(tmp_path: Path) -> Path:
    return small_fashion_mnist(tmp_path / "fashion")


def test_a_run_on_a_fresh_cache_trains_its_evaluator_and_scores_without_a_manual_step(
    fashion_root, tmp_path, monkeypatch, write_config, capsys
):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "fresh"))
    result = api.train(write_config(tiny_run(fashion_root, True)), out=tmp_path / "run")
    err = capsys.readouterr().err
    assert "no evaluator for fashion-mnist-28px-1ch yet: training it once on 200 images" in err
    assert " min at the rate measured" in err and "evaluator:" in err  # estimate, progress bar
    metrics = result["metrics"]
    assert metrics["fid"] > 0 and metrics["fid_floor"] >= 0 and "classes_seen" in metrics
    assert metrics["protocol"]["extractor"] == "own:fashion-mnist-28px-1ch"
    assert (tmp_path / "run" / "report.html").exists()
    cfg = DataConfig(name="fashion-mnist", size=28, root=str(fashion_root))
    ev = evaluator.load(cfg, 1)  # cached now: no second training
    assert "training it once" not in capsys.readouterr().err
    assert ev.meta["test_accuracy"] > 0.9  # ten classes: chance is 0.1


def test_a_declined_evaluator_skips_the_eval_and_the_run_still_reports(
    fashion_root, tmp_path, monkeypatch, write_config, capsys
):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "fresh"))
    result = api.train(write_config(tiny_run(fashion_root, False)), out=tmp_path / "run")
    assert "gankit: evaluation skipped: no evaluator for fashion-mnist-28px-1ch" in (
        capsys.readouterr().err
    )
    assert list(result["metrics"]) == ["eval_skipped"]
    assert "gankit evaluator train --dataset fashion-mnist" in result["metrics"]["eval_skipped"]
    page = (tmp_path / "run" / "report.html").read_text()
    assert "evaluation skipped" in page and "eval.auto_evaluator: false" in page
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 4 and "eval_skipped" in last
    assert not (tmp_path / "fresh" / "evaluators").exists()  # nothing was trained


def test_a_missing_inception_weights_file_skips_the_eval_too(tmp_path, write_config):
    from conftest import tiny_digits

    missing = str(tmp_path / "no-such-weights.safetensors")
    raw = tiny_digits(steps=2) | {
        "eval": {"at_end": True, "n": 50, "extractor": "inception", "inception_weights": missing}
    }
    result = api.train(write_config(raw), out=tmp_path / "run")
    assert "inception" in result["metrics"]["eval_skipped"]
    assert (tmp_path / "run" / "report.html").exists()
