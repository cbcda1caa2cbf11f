"""The `gankit` command: exit codes, one-line errors, export format, list."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import tiny_ring

from gankit.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gankit", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["nets.g=dcgn"], 'unknown network "dcgn". Did you mean "dcgan"?'),
        (["train.stpes=5"], 'unknown config key "train.stpes". Did you mean "train.steps"?'),
        (
            ["data.name=image-folder", "data.options={}", "data.root=/no/such/folder"],
            "image folder /no/such/folder does not exist",
        ),
        (["loss.name=wgan-pg"], 'unknown loss "wgan-pg". Did you mean "wgan-gp"?'),
    ],
)
def test_bad_input_exits_2_with_one_line(write_config, tmp_path, capsys, overrides, message):
    path = write_config(tiny_ring())
    args = ["train", str(path), "--out", str(tmp_path / "run")]
    for item in overrides:
        args += ["--set", item]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_the_console_entry_point_exits_2_too(tmp_path):
    done = run_cli("train", str(tmp_path / "missing.yaml"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not found" in done.stderr


def test_train_sample_resume_list(write_config, tmp_path, capsys):
    path = write_config(tiny_ring(steps=100))
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run)]) == 0
    assert "samples:" in capsys.readouterr().out
    # An existing run is never overwritten, nor a file in the way.
    assert main(["train", str(path), "--out", str(run)]) == 2
    assert "gankit resume" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("keep")
    assert main(["train", str(path), "--out", str(tmp_path / "a-file")]) == 2
    assert "is a file: a run is a folder" in capsys.readouterr().err
    assert (tmp_path / "a-file").read_text() == "keep"
    assert main(["sample", str(run), "--n", "7", "--out", str(tmp_path / "s.npz")]) == 0
    points = np.load(tmp_path / "s.npz")["points"]
    assert points.dtype == np.float32 and points.shape == (7, 2)
    # A folder as --out is refused (numpy would write a sibling FOLDER.npz).
    (tmp_path / "dir").mkdir()
    assert main(["sample", str(run), "--out", str(tmp_path / "dir")]) == 2
    assert "is a folder" in capsys.readouterr().err and not (tmp_path / "dir.npz").exists()
    # FID statistics are of images: a run of points is told to `gankit eval`.
    assert main(["stats", str(run), "--n", "50", "--out", str(tmp_path / "st.npz")]) == 2
    assert "draws points of ring, not images" in capsys.readouterr().err
    assert main(["resume", str(run), "--set", "train.steps=150"]) == 0
    assert "trained to step 150" in capsys.readouterr().out
    assert (
        main(["sample", str(run), "--n", "2", "--out", str(tmp_path / "t.npz"), "--class", "1"])
        == 2
    )
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    for name in (
        "digits",
        "ring",
        "fashion-mnist",
        "mlp",
        "dcgan",
        "minimax",
        "non-saturating",
        "lsgan",
        "wgan",
        "wgan-gp",
        "hinge",
        "gp",
        "clip",
        "unconditional",
    ):
        assert f"  {name} " in listing


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "RUN", "--out", "OUT", "--seed", str(10**24)], "a seed is a whole number"),
        (["sample", "RUN", "--out", "OUT", "--seed", "-5"], "a seed is a whole number from 0"),
        (["eval", "RUN", "--n", "0"], "a number of samples is a whole number from 1"),
        (["eval", "RUN", "--n", "many"], "'many' is not a whole number"),
        (["playground", "--port", "99999"], "a port is a whole number from 0 to 65535"),
        (["stats", "fashion-mnist", "--out", "OUT", "--size", "0"], "an image side is a whole"),
    ],
)
def test_numbers_out_of_range_are_one_argparse_line(tmp_path, capsys, args, message):
    """Checked as the flags are read, before anything loads: a huge seed once reached torch as
    an overflow traceback, a port above 65535 the socket's, and a size of 0 the resize's."""
    paths = {"RUN": str(tmp_path), "OUT": str(tmp_path / "out.npz")}
    with pytest.raises(SystemExit) as exit:
        main([paths.get(a, a) for a in args])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit.value.code == 2 and message in lines[-1], lines


def test_not_a_run_directory(tmp_path, capsys):
    assert main(["sample", str(tmp_path), "--out", str(tmp_path / "x.npz")]) == 2
    assert "not a gankit run directory" in capsys.readouterr().err


def test_help_shows_defaults_and_an_example():
    done = run_cli("sample", "--help")
    assert done.returncode == 0 and "(default: 64)" in done.stdout and "example:" in done.stdout


@pytest.mark.parametrize("kind", ["text", "torn", "pickle", "no-images"])
def test_a_bad_samples_npz_is_one_line_in_eval_and_stats(tmp_path, capsys, kind):
    path = tmp_path / "samples.npz"
    np.savez(path, images=np.zeros((4, 1, 28, 28), np.uint8))
    if kind == "text":
        path.write_text("hi")
    elif kind == "torn":
        path.write_bytes(path.read_bytes()[:100])
    elif kind == "pickle":
        np.savez(path, images=np.array([{"a": 1}], dtype=object))
    else:
        np.savez(path, other=np.zeros(3))
    for args in (["eval", str(path)], ["stats", str(path), "--out", str(tmp_path / "st.npz")]):
        assert main([*args, "--dataset", "fashion-mnist"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(path) in err, err
        assert "not a sample export" in err or "has neither" in err or "no `images`" in err
    assert not (tmp_path / "st.npz").exists()


def test_ctrl_c_says_how_to_continue_the_run_it_stopped(tmp_path, capsys, monkeypatch):
    from gankit import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "train", interrupted)
    monkeypatch.setattr(api, "resume", interrupted)
    monkeypatch.setattr(api, "sample", interrupted)
    out = tmp_path / "run"
    assert main(["train", "configs/ring.yaml", "--out", str(out)]) == 130
    assert f"continue from the newest checkpoint with `gankit resume {out}`" in (
        capsys.readouterr().err
    )
    assert main(["resume", str(out)]) == 130
    assert f"`gankit resume {out}`" in capsys.readouterr().err
    assert main(["sample", str(out), "--out", str(tmp_path / "s.npz")]) == 130
    assert capsys.readouterr().err.strip() == "gankit: interrupted."
