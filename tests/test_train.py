"""End-to-end training: the run directory contract, learning on a toy, exact resume."""

import json

import numpy as np
import pytest
import torch
from conftest import tiny_digits, tiny_ring, whole_and_resumed
from safetensors.torch import load_file

from gankit import api, config
from gankit.data.toy import ring_means
from gankit.errors import BadInput


def distance_to_modes(points: np.ndarray) -> float:
    return torch.cdist(torch.from_numpy(points), ring_means()).min(1).values.mean().item()


def test_ring_samples_move_toward_the_modes(tmp_path):
    raw = tiny_ring(steps=600)
    raw["train"]["checkpoint_every"] = 600
    untrained = api.train(
        config.from_dict(raw | {"train": raw["train"] | {"steps": 0}}), tmp_path / "untrained"
    )
    trained = api.train(config.from_dict(raw), tmp_path / "trained")
    before = distance_to_modes(api.sample(untrained["run"], 2000)["points"])
    after = distance_to_modes(api.sample(trained["run"], 2000)["points"])
    assert after < 0.5 * before, (before, after)


def test_run_directory_contract(tmp_path):
    out = tmp_path / "run"
    result = api.train(config.from_dict(tiny_digits(steps=20)), out)
    assert (out / "config.yaml").is_file() and config.load(out / "config.yaml").train.steps == 20
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == [
        "step-00000010",
        "step-00000020",
    ]
    for ckpt in (out / "checkpoints").iterdir():
        assert {p.name for p in ckpt.iterdir()} == {"weights.safetensors", "state.json"}
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        "step-00000010.png",
        "step-00000020.png",
    ]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [10, 20]
    assert {"step", "time_s", "d_loss", "g_loss", "d_real", "d_fake"} <= set(records[0])
    assert list(out.glob("events.out.tfevents.*"))
    assert result["report"].read_text().count("data:image/png;base64") >= 2
    exported = api.sample(out, 5)
    assert exported["images"].dtype == np.uint8 and exported["images"].shape == (5, 1, 28, 28)


def test_time_budget_stops_early_with_a_checkpoint(tmp_path):
    raw = tiny_ring(steps=10**6)
    raw["train"]["budget_s"] = 1.0
    result = api.train(config.from_dict(raw), tmp_path / "run")
    assert 0 < result["step"] < 10**6
    assert (tmp_path / "run" / "checkpoints" / f"step-{result['step']:08d}").is_dir()


def generator_weights(run) -> dict:
    from gankit.train import checkpoint

    latest = checkpoint.list_steps(run / "checkpoints")[-1]
    tensors = load_file(latest / "weights.safetensors")
    return {k: v for k, v in tensors.items() if k.startswith("module.g.")}


def logged(run) -> list[dict]:
    """metrics.jsonl without the wall-clock fields."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [
        {k: v for k, v in json.loads(x).items() if k not in ("time_s", "steps_per_s")}
        for x in lines
    ]


def test_resume_is_bit_identical_to_one_uninterrupted_run(tmp_path):
    raw = tiny_ring(steps=2000)
    raw["train"].update(checkpoint_every=500, log_every=250, sample_every=1000)
    raw["loss"] = {"name": "wgan-gp"}  # exercises the penalty's random stream too
    raw["train"]["n_critic"] = 2
    whole, half = whole_and_resumed(raw, tmp_path, at=1000)
    a, b = generator_weights(whole), generator_weights(half)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert logged(whole) == logged(half)


def test_resume_uses_the_newest_good_checkpoint(tmp_path, capsys):
    raw = tiny_ring(steps=300)
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    newest = run / "checkpoints" / "step-00000300" / "weights.safetensors"
    newest.write_bytes(newest.read_bytes()[:1000])  # a torn write
    result = api.resume(run, ["train.steps=400"])
    assert result["step"] == 400
    assert "step-00000300/weights.safetensors is corrupt" in capsys.readouterr().err


def test_lr_decay_holds_then_falls_linearly_to_zero():
    from types import SimpleNamespace

    from gankit.train.trainer import decay_learning_rates

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    recipe = SimpleNamespace(optimizers={"g": opt})
    lrs = []
    for progress in (0.0, 0.5, 0.75, 1.0):
        decay_learning_rates(recipe, progress, start=0.5)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.0])


def test_run_progress_follows_the_budget_when_it_ends_the_run_first():
    from gankit.train.trainer import run_progress

    by_steps = config.TrainConfig(steps=100)
    assert run_progress(25, 999.0, by_steps) == 0.25
    by_budget = config.TrainConfig(steps=100, budget_s=60.0)
    assert run_progress(10, 30.0, by_budget) == 0.5  # the budget is the nearer end
    assert run_progress(90, 30.0, by_budget) == 0.9  # the steps are
    assert run_progress(10, 90.0, by_budget) == 1.0


def test_lr_decay_resumes_exactly_after_losing_the_last_checkpoint(tmp_path):
    import shutil

    raw = tiny_ring(steps=400)
    raw["optim"]["decay_from"] = 0.25
    raw["train"].update(checkpoint_every=200, log_every=100, sample_every=400)
    whole = api.train(config.from_dict(raw), tmp_path / "whole")["run"]
    crashed = tmp_path / "crashed"
    shutil.copytree(whole, crashed)
    shutil.rmtree(crashed / "checkpoints" / "step-00000400")  # as if killed before the end
    api.resume(crashed)
    a, b = generator_weights(whole), generator_weights(crashed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_lr_decay_start_is_checked():
    raw = tiny_ring()
    raw["optim"]["decay_from"] = 1.5
    with pytest.raises(BadInput, match="optim.decay_from"):
        config.from_dict(raw)
