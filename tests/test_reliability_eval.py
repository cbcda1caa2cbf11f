"""`gankit eval` and `gankit sample` on odd input: exit 2 with one line, strict JSON, no loss."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_ring

from gankit import strict_json
from gankit.cli import main


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval")
    raw = tiny_ring(steps=10)
    raw["train"].update(checkpoint_every=10, log_every=10, sample_every=10**6)
    raw["eval"] = {"n": 200}
    config = root / "cfg.yaml"
    config.write_text(json.dumps(raw))
    assert main(["train", str(config), "--out", str(root / "run")]) == 0
    return root / "run"


def run_cli(capsys, *args: str) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def refuse(array: dict[str, np.ndarray], path: Path, dataset: str, capsys) -> str:
    np.savez(path, **array)
    code, _, lines = run_cli(capsys, "eval", str(path), "--dataset", dataset)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("gankit: error: "), lines
    return lines[0]


ODD = {
    "no points": ({"points": np.zeros((0, 2), np.float32)}, "ring", "at least 2"),
    "one point": ({"points": np.zeros((1, 2), np.float32)}, "ring", "at least 2"),
    "strings": ({"points": np.array([["a", "b"]] * 4)}, "ring", "<U1 values"),
    "1x1 images": ({"images": np.full((4, 1, 1, 1), 200, np.uint8)}, "digits", "too small"),
}


@pytest.mark.parametrize("case", ODD)
def test_odd_npz_files_exit_2_with_one_line(tmp_path, capsys, case):
    array, dataset, words = ODD[case]
    assert words in refuse(array, tmp_path / "odd.npz", dataset, capsys)


def test_large_samples_are_refused_before_anything_is_built(tmp_path, capsys):
    """One 800x800 image made eval resize the whole reference set to 800x800 and then build an
    evaluator at that size (2.7 GB, then a MemoryError, or the OOM killer)."""
    image = np.random.default_rng(0).integers(0, 256, (2, 1, 800, 800), dtype=np.uint8)
    line = refuse({"images": image}, tmp_path / "big.npz", "digits", capsys)
    assert "800x800" in line and "export the samples at the dataset's size" in line


def test_a_reference_over_the_memory_limit_is_refused_before_it_is_resized(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("GANKIT_MAX_MEMORY", "10M")
    image = np.random.default_rng(0).integers(0, 256, (2, 1, 256, 256), dtype=np.uint8)
    line = refuse({"images": image}, tmp_path / "big.npz", "digits", capsys)
    assert "images at 256x256" in line and "over the memory limit of 10.0 MB" in line
    assert "GANKIT_MAX_MEMORY" in line


def test_eval_prints_strict_json(ring_run, capsys):
    code, out, _ = run_cli(capsys, "eval", str(ring_run), "--n", "50")
    assert code == 0

    def refuse_constant(name: str) -> None:
        raise AssertionError(f"{name} in eval's JSON")

    json.loads(out, parse_constant=refuse_constant)


def test_undefined_numbers_become_null_with_a_reason():
    got = strict_json.clean({"fid": math.nan, "kid": {"value": math.inf, "floor": 0.1}, "l": [1.0]})
    assert got == {
        "fid": None,
        "fid_reason": "undefined (NaN)",
        "kid": {"value": None, "value_reason": "infinite", "floor": 0.1},
        "l": [1.0],
    }
    json.loads(strict_json.dumps({"x": -math.inf}), parse_constant=float)  # parses


def test_eval_of_a_run_it_cannot_write_still_prints(ring_run, tmp_path, capsys):
    """The scores were computed and then lost (exit 1) when metrics.jsonl could not be written."""
    run = tmp_path / "run"
    shutil.copytree(ring_run, run)
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").mkdir()  # unwritable as a file, even for root
    code, out, lines = run_cli(capsys, "eval", str(run), "--n", "50")
    assert code == 0 and "modes" in json.loads(out)
    assert len(lines) == 1 and "warning" in lines[0] and "metrics.jsonl" in lines[0], lines


def test_sample_refuses_a_huge_n_before_allocating(ring_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANKIT_MAX_MEMORY", "1G")
    out = tmp_path / "s.npz"
    code, _, lines = run_cli(
        capsys, "sample", str(ring_run), "--n", "1000000000", "--out", str(out)
    )
    assert code == 2 and len(lines) == 1 and "ask for fewer with --n" in lines[0], lines
    assert not out.exists()


def test_sample_reports_the_file_it_wrote(ring_run, tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "sample", str(ring_run), "--n", "8", "--out", str(tmp_path / "x")
    )
    assert code == 0 and f"wrote {tmp_path / 'x.npz'}:" in out
    assert (tmp_path / "x.npz").is_file() and not (tmp_path / "x").exists()
