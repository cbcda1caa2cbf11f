"""A real full disk: the kernel refuses the write (a small tmpfs, or RLIMIT_FSIZE where the test
cannot mount one), nothing is monkeypatched.

Whatever write fails (a checkpoint, the config, a sample picture), `gankit` exits 1 with one line
naming the file and the fix, earlier checkpoints stay byte-identical, no temporary folder is left,
and once space is freed the same `gankit resume` continues. A run killed mid-write on a nearly full
disk resumes too, and ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import error_lines, tiny_ring
from full_disk import small_disk

from gankit.cli import main
from gankit.train import checkpoint

sys.path.insert(0, str(Path(__file__).parents[1] / "scripts"))
from kill_test import (  # noqa: E402
    LAUNCHERS,
    generator,
    kill_once,
    logged,
    partial_writes,
    toy_config,
    verify_newest,
)


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "disk", 4 << 20) as d:
        yield d


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny ring run with checkpoints and sample pictures at steps 10, 20 and 30."""
    root = tmp_path_factory.mktemp("full-disk")
    raw = tiny_ring(steps=30)
    raw["train"].update(checkpoint_every=10, log_every=10, sample_every=10)
    config = root / "cfg.yaml"
    config.write_text(json.dumps(raw))
    assert main(["train", str(config), "--out", str(root / "run")]) == 0
    return root / "run"


def disk_bytes(path: Path) -> int:
    """Bytes a file takes on disk (whole blocks)."""
    return path.stat().st_blocks * 512


def snapshot(run: Path) -> dict[str, bytes]:
    return {
        f"{p.name}/{f.name}": f.read_bytes()
        for p in checkpoint.list_steps(run / "checkpoints")
        for f in p.iterdir()
    }


# What fails, with the free bytes that make it fail (weights 121 kB, a picture 25 kB, the config
# 1 kB), the file named in the one error line, and the settings of the resume.
FAILS = {
    "checkpoint": (60_000, "checkpoints/step-00000040", "train.sample_every=1000"),
    "sample picture": (10_000, "samples/step-00000040.png", "train.sample_every=10"),
    "config": (500, "config.yaml", "train.sample_every=10"),
}


@pytest.mark.parametrize("what", FAILS)
def test_a_full_disk_names_the_file_and_keeps_earlier_work(disk, trained, capsys, what):
    free, named, setting = FAILS[what]
    run = disk.root / "run"
    shutil.copytree(trained, run)
    before = snapshot(run)
    capsys.readouterr()
    with disk.full(free):
        code = main(["resume", str(run), "--set", "train.steps=50", "--set", setting])
    lines = error_lines(capsys.readouterr().err)
    assert code == 1 and len(lines) == 1, lines
    assert named in lines[0] and disk.reason in lines[0] and "free disk space" in lines[0]
    assert "Traceback" not in lines[0]
    assert snapshot(run) == before  # nothing lost, nothing half-written
    assert not list((run / "checkpoints").glob(".tmp-step-*"))
    assert not list(run.glob(".*.tmp"))
    # Space freed: the same command goes on from the intact checkpoint.
    assert main(["resume", str(run), "--set", "train.steps=50", "--set", setting]) == 0
    assert checkpoint.list_steps(run / "checkpoints")[-1].name == "step-00000050"


def test_killed_mid_write_on_a_nearly_full_disk_resumes_bit_identical(disk, tmp_path):
    """Kills land in checkpoint writes while the disk has room for little more than the kept
    checkpoints and the one being written; then a write finds the disk full (a fresh `gankit`
    process, exit 1 and one line); once space is freed the run ends as if never interrupted."""
    steps = 60
    config = tmp_path / "kill.yaml"
    config.write_text(json.dumps(toy_config(steps)))
    launch = LAUNCHERS["fork"]
    reference = tmp_path / "reference"
    assert launch(["train", str(config), "--out", str(reference)]).wait(None) == 0
    newest = checkpoint.list_steps(reference / "checkpoints")[-1]
    size = sum(disk_bytes(f) for f in newest.iterdir())
    rest = sum(disk_bytes(f) for f in reference.rglob("*") if f.is_file()) - 2 * size
    run, rng, kills, mid_write = disk.root / "killed", random.Random(0), 0, 0
    # Room for the run's other files, two kept checkpoints and the one being written, and half a
    # checkpoint more.
    with disk.full(rest + int(3.5 * size)):
        args = ["train", str(config), "--out", str(run)]
        while kills < 6:
            old = partial_writes(run)
            code = kill_once(run, launch(args), rng, "write", 0.6, old)
            assert code is None, "the run ended before it was killed"
            kills += 1
            mid_write += bool(partial_writes(run) - old)
            assert verify_newest(run)
            if checkpoint.list_steps(run / "checkpoints"):
                args = ["resume", str(run)]
        assert mid_write >= 1
    # The disk fills up: a fresh process fails the next checkpoint write, in one line.
    free = size // 2
    with disk.full(free):
        done = subprocess.run(
            [sys.executable, "-m", "gankit", "resume", str(run)],
            capture_output=True,
            text=True,
            preexec_fn=disk.limit_for_child(free),
        )
    lines = error_lines(done.stderr)
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "could not write" in lines[0] and "free disk space" in lines[0]
    assert not list((run / "checkpoints").glob(".tmp-step-*"))
    assert verify_newest(run)
    # Space freed: resume to the end, bit-identical to the uninterrupted run.
    assert launch(["resume", str(run)]).wait(None) == 0
    a, b = generator(reference), generator(run)
    identical = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    numbers = {"kills": kills, "kills_mid_write": mid_write, "tmpfs": disk.mounted}
    print(json.dumps(numbers | {"generator_bit_identical": identical}))
    assert identical
    assert logged(reference) == logged(run)
