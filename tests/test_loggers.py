"""train.loggers: every logger gets the scalars and the sample grids, offline (W&B in offline mode
writes its local run files; MLflow writes a file store in the run), and a resumed run continues
the same W&B and MLflow runs."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import tiny_digits

from gankit import api, config
from gankit.errors import BadInput


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    pytest.importorskip("wandb")
    pytest.importorskip("mlflow")
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    mp.setenv("WANDB_SILENT", "true")
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    raw = tiny_digits(steps=4)
    raw["train"] |= {"log_every": 2, "sample_every": 2, "checkpoint_every": 2}
    raw["train"]["loggers"] = ["tensorboard", "csv", "wandb", "mlflow"]
    run = tmp_path_factory.mktemp("loggers") / "run"
    api.train(config.from_dict(raw), run)
    first = json.loads((run / "loggers.json").read_text())
    api.resume(run, ["train.steps=6"])
    yield run, first
    mp.undo()


def test_offline_wandb_run_files(logged):
    run, first = logged
    # one offline folder per session (train, resume), both of the same run id: `wandb sync`
    # uploads them as one run
    sessions = sorted((run / "wandb").glob(f"offline-run-*-{first['wandb']}"))
    assert len(sessions) == 2
    names = sorted(
        p.relative_to(run / "wandb").as_posix()
        for s in sessions
        for p in s.rglob("*")
        if p.is_file()
    )
    print("\n".join(names))  # the files W&B keeps for `wandb sync`
    assert [n.split("/")[-1] for n in names if n.endswith(".wandb")] == [
        f"run-{first['wandb']}.wandb"
    ] * 2
    grids = [n for n in names if "/files/media/images/samples_" in n]
    assert len(grids) == 3  # steps 2, 4 (training) and 6 (resumed)
    assert json.loads((run / "loggers.json").read_text()) == first  # resumed: the same runs


def test_mlflow_file_store_run(logged):
    run, first = logged
    (folder,) = (run / "mlruns").glob(f"*/{first['mlflow']}")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    print("\n".join(names))
    assert "artifacts/config.yaml" in names
    assert [n for n in names if n.startswith("artifacts/samples/")] == [
        f"artifacts/samples/step-{s:08d}.png" for s in (2, 4, 6)
    ]
    # MLflow's file store: one "timestamp value step" line per logged point
    steps = [
        int(line.split()[2])
        for line in (folder / "metrics" / "d_loss").read_text().split("\n")
        if line
    ]
    assert steps == [2, 4, 6]


def test_csv_and_tensorboard(logged):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _ = logged
    with (run / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows if r["name"] == "d_loss"] == [2, 4, 6]
    events = EventAccumulator(str(run)).Reload()
    assert [e.step for e in events.Scalars("d_loss")] == [2, 4, 6]
    assert [e.step for e in events.Images("samples")] == [2, 4, 6]


def test_unknown_logger_is_named_before_training():
    raw = tiny_digits(steps=1)
    raw["train"]["loggers"] = ["tensorbord"]
    with pytest.raises(BadInput, match='unknown logger "tensorbord".*Did you mean "tensorboard"'):
        config.from_dict(raw)
