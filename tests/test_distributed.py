"""torchrun with 2 CPU processes (gloo) follows the same maths as 1 process with the same global
batch, with a gradient penalty too, and resumes."""

import os
import subprocess
import sys

import pytest
import torch
from conftest import tiny_ring
from safetensors.torch import load_file

from gankit import api, config
from gankit.train import checkpoint


def torchrun(*args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "gankit",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def final_weights(run) -> dict[str, torch.Tensor]:
    latest = checkpoint.list_steps(run / "checkpoints")[-1]
    return {
        k: v
        for k, v in load_file(latest / "weights.safetensors").items()
        if k.startswith("module.")
    }


def assert_close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst < 1e-4, worst


def test_two_processes_match_one_with_the_same_global_batch(write_config, tmp_path):
    raw = tiny_ring(steps=40)
    raw["train"].update(batch_size=64, checkpoint_every=20, log_every=20, n_critic=2)
    # a budget that never binds: the ranks still agree on one clock for the lr decay
    raw["train"]["budget_s"], raw["optim"]["decay_from"] = 600.0, 0.5
    path = write_config(raw)
    torchrun("train", str(path), "--out", str(tmp_path / "ddp"))
    single = api.train(config.from_dict(raw), tmp_path / "single")["run"]
    assert_close(final_weights(tmp_path / "ddp"), final_weights(single))
    # rank 0 alone wrote the run directory
    assert len((tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()) == 2


def test_resume_under_torchrun_with_a_gradient_penalty(write_config, tmp_path):
    raw = tiny_ring(steps=40)
    raw["loss"] = {"name": "wgan-gp"}
    raw["train"].update(batch_size=64, checkpoint_every=20, log_every=20)
    path = write_config(raw)
    torchrun("train", str(path), "--out", str(tmp_path / "ddp"), "--set", "train.steps=20")
    torchrun("resume", str(tmp_path / "ddp"), "--set", "train.steps=40")
    single = api.train(config.from_dict(raw), tmp_path / "single")["run"]
    assert_close(final_weights(tmp_path / "ddp"), final_weights(single))


def test_global_batch_must_split_evenly(monkeypatch):
    from gankit import data
    from gankit.config import DataConfig
    from gankit.core import distributed
    from gankit.errors import BadInput

    monkeypatch.setattr(distributed, "world", lambda: 2)
    ds = data.build(DataConfig(name="ring", options={"n": 100}))
    with pytest.raises(BadInput, match="does not split evenly over 2 processes"):
        data.BatchStream(ds, 63, 0, torch.device("cpu"))
