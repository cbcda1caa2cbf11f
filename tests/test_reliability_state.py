"""Forged and damaged `state.json`: never trusted, never a traceback, always the previous good one.

The state is sealed by its own checksum and its step must match its folder's name, so an edited
state (even one whose checksum the forger recomputed) is named on stderr in one line and the
resume continues from the checkpoint before it, without overwriting later history.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import tiny_ring
from safetensors.torch import load_file, save_file

from gankit.cli import main
from gankit.train import checkpoint


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A run with checkpoints at steps 10, 20 and 30."""
    root = tmp_path_factory.mktemp("state")
    raw = tiny_ring(steps=30)
    raw["train"].update(checkpoint_every=10, log_every=10, sample_every=10**6)
    path = root / "cfg.yaml"
    path.write_text(json.dumps(raw))  # JSON is YAML
    assert main(["train", str(path), "--out", str(root / "run")]) == 0
    return root / "run"


def edit(ckpt: Path, change: Callable[[dict], object], reseal: bool) -> None:
    state = json.loads((ckpt / "state.json").read_text())
    state = change(state) or state
    if reseal:  # a forger who knows the format recomputes the checksum
        state = checkpoint.seal(state) if isinstance(state, dict) else state
    (ckpt / "state.json").write_text(json.dumps(state))


def bad_rng(ckpt: Path) -> None:
    """A random-generator state of the wrong size, with every checksum fixed up to match."""
    weights = ckpt / "weights.safetensors"
    tensors = load_file(weights)
    key = next(k for k in tensors if k.startswith("rng."))
    tensors[key] = torch.zeros(7, dtype=torch.uint8)
    save_file(tensors, weights)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    edit(ckpt, lambda s: s.update(sha256=digest), reseal=True)


FORGERIES = {
    "step-20-in-folder-30": lambda c: edit(c, lambda s: s.update(step=20), reseal=True),
    "step-10^12": lambda c: edit(c, lambda s: s.update(step=10**12), reseal=True),
    "step-edited-unsealed": lambda c: edit(c, lambda s: s.update(step=31), reseal=False),
    "step-not-an-integer": lambda c: edit(c, lambda s: s.update(step="30"), reseal=True),
    "missing-key": lambda c: edit(c, lambda s: s.pop("optimizers"), reseal=True),
    "data-not-a-mapping": lambda c: edit(c, lambda s: s.update(data=[1, 2]), reseal=True),
    "a-list": lambda c: edit(c, lambda s: [s], reseal=True),
    "deep-json": lambda c: (c / "state.json").write_text("[" * 100_000 + "]" * 100_000),
    "bad-rng-tensor": bad_rng,
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_state_falls_back_to_the_previous_checkpoint(trained, tmp_path, capsys, forgery):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ckpts = run / "checkpoints"
    FORGERIES[forgery](ckpts / "step-00000030")
    capsys.readouterr()
    _, state, path = checkpoint.load_latest(ckpts)
    assert path.name == "step-00000020" and state["step"] == 20
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "step-00000030" in lines[0], lines  # one warning line
    assert main(["resume", str(run), "--set", "train.steps=40"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("skipping") == 1, err
    # Resumed from 20 (not from a forged step): steps 30 and 40 rewritten from that history.
    assert [p.name for p in checkpoint.list_steps(ckpts)][-2:] == ["step-00000030", "step-00000040"]
    assert checkpoint.verify(ckpts / "step-00000030")["step"] == 30


def test_a_damaged_checkpoint_holds_no_slot(trained, tmp_path):
    """keep_checkpoints counts good checkpoints: a damaged newest one does not push out an older
    good one (it is deleted once a newer good one exists)."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ckpts = run / "checkpoints"
    (ckpts / "step-00000020" / "weights.safetensors").write_bytes(b"torn")
    tensors, state = checkpoint.load(ckpts / "step-00000030")
    checkpoint.save(ckpts, 35, tensors, state, keep=3)
    names = [p.name for p in checkpoint.list_steps(ckpts)]
    assert names == ["step-00000010", "step-00000030", "step-00000035"]


def test_resuming_a_run_with_no_checkpoint_trains_from_step_0(trained, tmp_path, capsys):
    """What docs/RELIABILITY.md says: a run stopped before its first checkpoint is retrained."""
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(trained / "config.yaml", run / "config.yaml")
    capsys.readouterr()
    assert main(["resume", str(run), "--set", "train.steps=10"]) == 0
    assert "no checkpoint yet: training from step 0" in capsys.readouterr().err
    assert checkpoint.list_steps(run / "checkpoints")[-1].name == "step-00000010"


def test_a_state_from_before_state_checksums_still_resumes(trained, tmp_path, capsys):
    """An older gankit wrote no state checksum: the run resumes, with one line saying so."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    for ckpt in checkpoint.list_steps(run / "checkpoints"):
        edit(ckpt, lambda s: s.pop("state_sha256") and None, reseal=False)
    newest = checkpoint.list_steps(run / "checkpoints")[-1]
    state = checkpoint.verify(newest)
    assert state["step"] == int(newest.name.removeprefix("step-"))
    assert "has no state checksum" in capsys.readouterr().err


def test_a_damaged_run_log_and_logger_ids_never_stop_a_resume(trained, tmp_path):
    """Garbage bytes (not UTF-8), a line that is JSON but not an object, and an unreadable
    loggers.json: the resume skips them, keeps every good record, and logs on."""
    from gankit.train.runlog import read

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    good = read(run)
    with (run / "metrics.jsonl").open("ab") as f:
        f.write(b'{"step": 3\n\xf5\xff\x00garbage\n5\n[1, 2]\n')
    (run / "loggers.json").write_bytes(b"{torn")
    assert read(run) == good
    assert main(["resume", str(run), "--set", "train.steps=40", "--set", "train.log_every=5"]) == 0
    steps = [r["step"] for r in read(run) if "d_loss" in r]
    assert steps == [r["step"] for r in good if "d_loss" in r] + [35, 40]
