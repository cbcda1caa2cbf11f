"""Checkpoint faults: a full disk mid-save, a killed write's leftovers, a pickle in disguise."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import error_lines, tiny_ring

from gankit import files
from gankit.cli import main
from gankit.errors import BadInput
from gankit.train import checkpoint

DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


def quick_ring(write_config, steps: int = 30) -> Path:
    raw = tiny_ring(steps=steps)
    raw["train"].update(checkpoint_every=10, log_every=10, sample_every=10**6)
    return write_config(raw)


def fill_disk(monkeypatch, target: object, name: str, hits: Callable[..., bool]) -> dict:
    """Make `target.name` raise ENOSPC whenever `hits(*args)` says the call writes a checkpoint."""
    original, calls = getattr(target, name), {"n": 0}

    def failing(*args, **kwargs):
        if hits(*args):
            calls["n"] += 1
            raise DISK_FULL
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


# What fills the disk: the weights file, the JSON state, or the final rename.
FAULTS = {
    "weights": (files, "save_tensors", lambda tensors, path: True),
    "state": (Path, "write_text", lambda path, text: path.name == "state.json"),
    "rename": (checkpoint.os, "replace", lambda src, dst: Path(dst).name.startswith("step-")),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_disk_full_while_saving_keeps_the_previous_checkpoint(
    write_config, tmp_path, capsys, monkeypatch, fault
):
    run = tmp_path / "run"
    assert main(["train", str(quick_ring(write_config)), "--out", str(run)]) == 0
    ckpts = run / "checkpoints"
    before = {
        p.name: (p / "weights.safetensors").read_bytes() for p in checkpoint.list_steps(ckpts)
    }
    capsys.readouterr()
    with monkeypatch.context() as m:
        calls = fill_disk(m, *FAULTS[fault])
        code = main(["resume", str(run), "--set", "train.steps=50"])
    assert calls["n"] >= 1 and code == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1, lines
    assert "could not write checkpoint" in lines[0] and "step-00000040" in lines[0]
    assert "No space left on device" in lines[0] and "earlier checkpoints are intact" in lines[0]
    after = {p.name: (p / "weights.safetensors").read_bytes() for p in checkpoint.list_steps(ckpts)}
    assert after == before  # nothing lost, nothing half-written
    assert not list(ckpts.glob(".tmp-step-*"))
    checkpoint.load_latest(ckpts)  # verifies
    # Space freed: the run goes on from the intact checkpoint.
    assert main(["resume", str(run), "--set", "train.steps=50"]) == 0
    assert checkpoint.list_steps(ckpts)[-1].name == "step-00000050"


def test_save_error_names_the_cause_for_other_os_errors(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files, "save_tensors", denied)
    with pytest.raises(OSError, match="Permission denied.*intact: make it writable") as e:
        checkpoint.save(tmp_path, 1, {"w": torch.zeros(2)}, {}, keep=2)
    assert e.value.errno == errno.EACCES
    assert not list(tmp_path.iterdir())


# The fields every checkpoint's state must hold (what the trainer writes), with empty values.
EMPTY_STATE = {
    "time_s": 0.0,
    "stream": {},
    "optimizers": {},
    "data": {"name": "ring", "kind": "points", "shape": [2], "class_names": []},
}


def test_leftovers_of_killed_writes_are_ignored_and_cleaned(tmp_path):
    folder = tmp_path / "checkpoints"
    checkpoint.save(folder, 5, {"w": torch.ones(3)}, EMPTY_STATE, keep=2)
    for step in (6, 7):  # writes killed before their rename: one empty, one half-written
        (folder / f".tmp-step-{step:08d}").mkdir()
    (folder / ".tmp-step-00000007" / "weights.safetensors").write_bytes(b"\x00" * 10)
    tensors, state, path = checkpoint.load_latest(folder)
    assert path.name == "step-00000005" and torch.equal(tensors["w"], torch.ones(3))
    checkpoint.save(folder, 8, {"w": torch.full((3,), 2.0)}, EMPTY_STATE, keep=2)
    assert sorted(p.name for p in folder.iterdir()) == ["step-00000005", "step-00000008"]


class Exploit:
    """Unpickling this runs code: it would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def plant_pickle(ckpt: Path, marker: Path) -> None:
    """Replace a checkpoint's weights with a torch.save pickle and fix up both checksums."""
    weights = ckpt / "weights.safetensors"
    torch.save({"module.g.net.0.weight": Exploit(marker)}, weights)
    state = json.loads((ckpt / "state.json").read_text())
    state["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (ckpt / "state.json").write_text(json.dumps(checkpoint.seal(state)))


def test_a_pickle_bearing_checkpoint_is_refused_without_running_it(write_config, tmp_path, capsys):
    run, marker = tmp_path / "run", tmp_path / "pwned"
    assert main(["train", str(quick_ring(write_config, steps=10)), "--out", str(run)]) == 0
    (ckpt,) = checkpoint.list_steps(run / "checkpoints")
    plant_pickle(ckpt, marker)
    with pytest.raises(BadInput, match="weights.safetensors is unreadable"):
        checkpoint.load(ckpt)
    capsys.readouterr()
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.npz")]) == 2
    err = capsys.readouterr().err
    assert "unreadable" in err and "no usable checkpoint" in err
    assert main(["resume", str(run), "--set", "train.steps=20"]) == 2
    assert not marker.exists()
    # The same pickle through plain torch.load would run: the test's exploit is real.
    with open(ckpt / "weights.safetensors", "rb") as f:
        torch.load(f, weights_only=False)
    assert marker.exists()


def test_a_pickle_is_refused_as_inception_weights(tmp_path):
    from gankit.metrics.inception_weights import read_state

    marker, path = tmp_path / "pwned", tmp_path / "inception.pth"
    torch.save({"w": Exploit(marker)}, path)
    with pytest.raises(BadInput, match="cannot read inception weights"):
        read_state(path)
    assert not marker.exists()


def test_no_unsafe_torch_load_in_the_package():
    package = Path(checkpoint.__file__).parents[1]
    for source in package.rglob("*.py"):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{source}:{number}: {line.strip()}"
            assert "allow_pickle=True" not in line, f"{source}:{number}"
            assert "pickle.load" not in line, f"{source}:{number}"
