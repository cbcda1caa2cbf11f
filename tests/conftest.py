"""Shared test fixtures: tiny configs that train in seconds on 2 CPU cores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

torch.set_num_threads(1)  # tests run side by side (pytest -n 2): one thread each


# A few steps of batch 4 with every cadence on (logs, grids, checkpoints): image families' tests.
TINY_TRAIN = {
    "steps": 4,
    "batch_size": 4,
    "log_every": 2,
    "sample_every": 2,
    "checkpoint_every": 2,
    "progress": False,
}


def whole_and_resumed(raw: dict, out: Path, at: int) -> tuple[Path, Path]:
    """Two runs of `raw`: one straight to its train.steps, one stopped at step `at` and resumed
    to the same end (their weights and logs should agree bit for bit)."""
    from gankit import api, config

    steps = raw["train"]["steps"]
    whole = api.train(config.from_dict(raw), out / "whole")["run"]
    half = api.train(config.from_dict(raw), out / "half", [f"train.steps={at}"])["run"]
    api.resume(half, [f"train.steps={steps}"])
    return whole, half


def error_lines(err: str) -> list[str]:
    """stderr of a command that started training, without the thread-count line every training
    prints first (and its busy-machine hint): what is left is what the failure said."""
    return [line for line in err.strip().splitlines() if not line.startswith("gankit: torch uses")]


def tiny_ring(steps: int = 200) -> dict:
    return {
        "data": {"name": "ring", "options": {"n": 4096}},
        "nets": {
            "g": "mlp",
            "d": "mlp",
            "z_dim": 2,
            "g_options": {"hidden": [64, 64]},
            "d_options": {"hidden": [64, 64]},
        },
        "optim": {"lr_g": 1e-3, "lr_d": 1e-3},
        "train": {
            "steps": steps,
            "batch_size": 128,
            "log_every": 50,
            "sample_every": 100,
            "checkpoint_every": 100,
            "progress": False,
        },
    }


def tiny_digits(steps: int = 20) -> dict:
    return {
        "data": {"name": "digits", "size": 28},
        "nets": {
            "g": "dcgan",
            "d": "dcgan",
            "z_dim": 16,
            "g_options": {"width": 8},
            "d_options": {"width": 8},
        },
        "train": {
            "steps": steps,
            "batch_size": 16,
            "log_every": 10,
            "sample_every": 10,
            "checkpoint_every": 10,
            "progress": False,
        },
    }


@pytest.fixture
def write_config(tmp_path: Path):
    def write(raw: dict, name: str = "cfg.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw))
        return path

    return write


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every cache (evaluators, unpacked datasets) out of the user's home."""
    root = tmp_path_factory.getbasetemp() / "cache"
    monkeypatch.setenv("GANKIT_CACHE", str(root))
    monkeypatch.setenv("GANKIT_DATA", str(root / "data"))
