"""A NaN loss never reaches a saved checkpoint: stop, skip or roll back, by policy."""

import math

import pytest
import torch
from conftest import tiny_ring
from safetensors.torch import load_file

from gankit import api, config
from gankit.recipes.unconditional import Unconditional
from gankit.train import checkpoint
from gankit.train.runlog import read
from gankit.train.trainer import TrainingError


def all_checkpoints_finite(run) -> bool:
    return all(
        torch.isfinite(t).all()
        for ckpt in checkpoint.list_steps(run / "checkpoints")
        for t in load_file(ckpt / "weights.safetensors").values()
        if t.is_floating_point()
    )


def diverging(raw: dict) -> dict:
    """lsgan with an absurd learning rate: the weights blow up within a few steps."""
    raw["loss"] = {"name": "lsgan"}
    raw["optim"] = {"name": "sgd", "lr_g": 1e6, "lr_d": 1e6}
    return raw


def test_stop_ends_the_run_with_a_clear_message_and_intact_checkpoints(tmp_path):
    raw = diverging(tiny_ring(steps=300))
    raw["train"].update(on_nonfinite="stop", checkpoint_every=1, log_every=1000)
    with pytest.raises(TrainingError, match="non-finite at step .*not saved"):
        api.train(config.from_dict(raw), tmp_path / "run")
    assert checkpoint.list_steps(tmp_path / "run" / "checkpoints")  # the finite ones are kept
    assert all_checkpoints_finite(tmp_path / "run")


def nan_once(monkeypatch, at_call: int) -> None:
    """Make the D loss of one update NaN, as a bad batch or an overflow would."""
    calls = {"n": 0}
    original = Unconditional.d_loss

    def d_loss(self, batch, fake):
        calls["n"] += 1
        if calls["n"] == at_call:
            batch = (batch[0] * math.nan, *batch[1:])
        return original(self, batch, fake)

    monkeypatch.setattr(Unconditional, "d_loss", d_loss)


def test_stop_names_the_first_bad_step_and_claims_no_checkpoint_it_lacks(tmp_path, monkeypatch):
    nan_once(monkeypatch, at_call=13)  # checked every step, read at the log boundary (step 20)
    raw = tiny_ring(steps=100)
    raw["train"].update(on_nonfinite="stop", log_every=20, checkpoint_every=1000)
    with pytest.raises(TrainingError) as e:
        api.train(config.from_dict(raw), tmp_path / "run")
    message = str(e.value)
    assert "non-finite at step 13:" in message and "no checkpoint yet" in message
    assert "intact" not in message
    assert not checkpoint.list_steps(tmp_path / "run" / "checkpoints")


def test_skip_drops_the_bad_update(tmp_path, monkeypatch):
    nan_once(monkeypatch, at_call=30)
    raw = tiny_ring(steps=100)
    raw["train"].update(on_nonfinite="skip", log_every=10)
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    assert all_checkpoints_finite(run)
    records = read(run)
    assert records[-1]["skipped_updates"] == 1
    assert records[2]["d_loss"] is None  # step 30's NaN is logged as null, not as invalid JSON


def test_rollback_returns_to_the_last_checkpoint_with_lower_rates(tmp_path, monkeypatch, capsys):
    nan_once(monkeypatch, at_call=150)
    raw = tiny_ring(steps=200)
    raw["train"].update(on_nonfinite="rollback", checkpoint_every=100)
    result = api.train(config.from_dict(raw), tmp_path / "run")
    assert result["step"] == 200 and all_checkpoints_finite(result["run"])
    assert "rolled back to step 100" in capsys.readouterr().err
    tensors, state = checkpoint.load(checkpoint.list_steps(result["run"] / "checkpoints")[-1])
    opt = checkpoint.join_tensors(state["optimizers"]["d"], tensors)
    assert opt["param_groups"][0]["lr"] == pytest.approx(0.5e-3)
    steps = [r["step"] for r in read(result["run"])]
    assert steps == sorted(steps) and len(steps) == len(set(steps))


def test_rollback_without_a_checkpoint_stops(tmp_path):
    raw = diverging(tiny_ring(steps=50))
    raw["train"]["on_nonfinite"] = "rollback"
    with pytest.raises(TrainingError, match="no checkpoint to go back to"):
        api.train(config.from_dict(raw), tmp_path / "run")
