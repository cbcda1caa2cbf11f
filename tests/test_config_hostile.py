"""Hostile configs: YAML bombs, deep nesting, repeated keys and sizes torch cannot allocate.

Each exits 2 with one line naming the problem and the fix, quickly and in bounded memory, and a
failed run leaves nothing behind that stops the corrected command from running.
"""

from __future__ import annotations

import json
import time

import pytest
from conftest import tiny_digits, tiny_ring

import gankit.api  # noqa: F401  (imported up front, so the timings below are of the refusal)
from gankit.cli import main, parser

parser()  # the same for the command plugins


def one_line(capsys, *args: str) -> str:
    capsys.readouterr()
    began = time.perf_counter()
    code = main(list(args))
    seconds = time.perf_counter() - began
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("gankit: error: "), (code, lines)
    assert seconds < 10, seconds  # refused up front, not after expanding or allocating
    return lines[0]


LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
DOCUMENTS = {
    "billion laughs": (LAUGHS, "expands to more than"),
    "50,000 levels of lists": ("data: " + "[" * 50_000 + "]" * 50_000, "nested more than"),
    "50,000 levels of mappings": ("{a: " * 50_000 + "1" + "}" * 50_000, "nested more than"),
    "a repeated section": (
        "train: {steps: 5}\nnets: {g: mlp}\ntrain: {seed: 3}\n",
        'key "train" appears twice',
    ),
    "a repeated key": ("train:\n  steps: 5\n  steps: 6\n", 'key "steps" appears twice'),
}


@pytest.mark.parametrize("case", DOCUMENTS)
def test_hostile_yaml_is_refused_in_one_line(tmp_path, capsys, case):
    text, words = DOCUMENTS[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    line = one_line(capsys, "train", str(path), "--out", str(tmp_path / "run"))
    assert words in line and "refused" in line
    assert not (tmp_path / "run").exists()


def test_a_bomb_in_an_override_is_refused(tmp_path, capsys, write_config):
    bomb = "[" + ",".join(["&a [1,1,1,1,1,1,1,1,1,1]"] + ["*a"] * 200) + "]"
    line = one_line(capsys, "train", str(write_config(tiny_ring(5))), f"--set=description={bomb}")
    assert "more than 100 aliases" in line


# Values that reached torch unchecked (a traceback, exit 1), and the words of their refusal.
VALUES = {
    "nets.z_dim=1000000000": "nets.z_dim = 1e+09 is out of range",
    "train.seed=100000000000000000000000": "train.seed = 1e+23 is out of range",
    "optim.lr_g=1e308": "optim.lr_g = 1e+308 is out of range",
    "data.size=100000": "data.size = 100000 is out of range",
    "nets.g_options.hidden=[1e6, 1e6]": "cannot be built from nets.g_options",
    "nets.g_options.hidden=[1000000, 1000000]": "over the memory limit",
    "nets.d_options.hidden=[100000, 100000, 100000]": "over the memory limit",
}


@pytest.mark.parametrize("setting", VALUES)
def test_sizes_torch_cannot_allocate_are_refused_first(tmp_path, capsys, write_config, setting):
    line = one_line(
        capsys,
        "train",
        str(write_config(tiny_ring(5))),
        "--out",
        str(tmp_path / "r"),
        "--set",
        setting,
    )
    assert VALUES[setting] in line, line
    assert "fix" in line or "must be" in line or "limit" in line


def test_a_dataset_over_the_memory_limit_is_refused_before_it_is_resized(
    tmp_path, capsys, write_config, monkeypatch
):
    monkeypatch.setenv("GANKIT_MAX_MEMORY", "500M")
    config = write_config(tiny_digits(5))
    line = one_line(
        capsys, "train", str(config), "--out", str(tmp_path / "r"), "--set", "data.size=1024"
    )
    assert "images at 1024x1024" in line and "data.size" in line


def test_a_failed_run_does_not_block_the_corrected_rerun(tmp_path, capsys, write_config):
    """The same --out, after a refusal and after a run that failed part-way (its config.yaml
    written, no checkpoint yet): the corrected command runs, not "already holds a run"."""
    raw = tiny_ring(5)
    raw["train"].update(checkpoint_every=100, sample_every=1)
    config, run = write_config(raw), tmp_path / "run"
    one_line(
        capsys, "train", str(config), "--out", str(run), "--set", "nets.g_options.hidden=[1e6]"
    )
    run.mkdir()
    (run / "samples").write_text("a file where the samples folder goes")
    assert main(["train", str(config), "--out", str(run)]) == 1  # at the first sample picture
    assert (run / "config.yaml").is_file() and "samples" in capsys.readouterr().err
    (run / "samples").unlink()
    assert main(["train", str(config), "--out", str(run)]) == 0
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 5
