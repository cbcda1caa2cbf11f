"""A run's log: one JSON object per logged step in metrics.jsonl (always: reports, the doctor and
`gankit eval` read it), mirrored to the loggers named in `train.loggers`:

- tensorboard: event files in the run directory (scalars, sample grids);
- csv: RUN/metrics.csv, one `step,name,value` row per scalar (columns never change as metrics
  come and go);
- wandb: a Weights & Biases run under RUN/wandb (WANDB_MODE=offline keeps it local; `wandb sync`
  uploads it later); the `wandb` extra;
- mlflow: an MLflow run at MLFLOW_TRACKING_URI, or in a file store at RUN/mlruns; the `mlflow`
  extra.

wandb and mlflow are imported only when named, so other runs never pay for them. A resumed run
continues the same W&B / MLflow run (their ids are kept in RUN/loggers.json). TensorBoard and
the CSV forget what was logged after the checkpoint a run goes back to; W&B and MLflow cannot
delete points, so there the step axis shows a rollback as a repeated range.
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
import time
from pathlib import Path
from typing import Any

from gankit import files
from gankit.config import LOGGERS as NAMES
from gankit.errors import BadInput

METRICS, CSV, IDS = "metrics.jsonl", "metrics.csv", "loggers.json"


def read(run: Path) -> list[dict[str, Any]]:
    """Every record of a run's metrics.jsonl. A line that is not a JSON object (torn by a crash,
    or garbage bytes from a failing disk) is skipped: the log must never stop a resume."""
    path = run / METRICS
    if not path.exists():
        return []
    records = []
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The record's finite numbers, less the step (what every logger plots)."""
    return {
        k: float(v)
        for k, v in record.items()
        if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)
        if math.isfinite(v)
    }


class TensorBoard:
    def __init__(self, run: Path, step: int | None, ids: dict[str, str]) -> None:
        from torch.utils.tensorboard import SummaryWriter  # slow import, only when training

        # TensorBoard hides events at or after purge_step; the checkpoint's own step is kept
        self.writer = SummaryWriter(str(run), purge_step=None if step is None else step + 1)

    def write(self, values: dict[str, float], step: int) -> None:
        for key, value in values.items():
            self.writer.add_scalar(key, value, step)

    def image(self, tag: str, path: Path, step: int) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(path) as img:
            pixels = np.asarray(img.convert("RGB"))
        self.writer.add_image(tag, pixels, step, dataformats="HWC")

    def close(self) -> None:
        self.writer.close()


class Csv:
    def __init__(self, run: Path, step: int | None, ids: dict[str, str]) -> None:
        self.path = run / CSV
        if step is not None and self.path.exists():  # back to the checkpoint's step
            with self.path.open(newline="") as f:
                rows = [r for r in csv.reader(f) if r and (r[0] == "step" or int(r[0]) <= step)]
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerows(rows)
        if not self.path.exists() or self.path.stat().st_size == 0:
            with self.path.open("w", newline="") as f:
                csv.writer(f).writerow(["step", "name", "value"])

    def write(self, values: dict[str, float], step: int) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerows([step, k, repr(v)] for k, v in values.items())

    def image(self, tag: str, path: Path, step: int) -> None:
        pass  # the grids are in RUN/samples already

    def close(self) -> None:
        pass


class WandB:
    def __init__(self, run: Path, step: int | None, ids: dict[str, str]) -> None:
        import wandb

        self.wandb = wandb
        ids.setdefault("wandb", secrets.token_hex(4))  # W&B ids: 8 of [a-z0-9]
        (run / "wandb").mkdir(exist_ok=True)
        config = (run / "config.yaml").read_text() if (run / "config.yaml").exists() else ""
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "gankit"),
            name=run.name,
            id=ids["wandb"],
            resume="allow",
            dir=str(run),
            config={"gankit_config": config},
        )
        self.run.define_metric("*", step_metric="step")  # gankit's step, which may go back

    def write(self, values: dict[str, float], step: int) -> None:
        self.run.log(values | {"step": step})

    def image(self, tag: str, path: Path, step: int) -> None:
        self.run.log({tag: self.wandb.Image(str(path)), "step": step})

    def close(self) -> None:
        self.run.finish()


class MLflow:
    def __init__(self, run: Path, step: int | None, ids: dict[str, str]) -> None:
        import mlflow
        from mlflow.entities import Metric

        self.metric = Metric
        # MLflow 3 refuses new file stores unless asked; a run's own store needs no server.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        uri = os.environ.get("MLFLOW_TRACKING_URI") or (run / "mlruns").resolve().as_uri()
        self.client = mlflow.MlflowClient(tracking_uri=uri)
        if "mlflow" not in ids:
            name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "gankit")
            found = self.client.get_experiment_by_name(name)
            experiment = found.experiment_id if found else self.client.create_experiment(name)
            ids["mlflow"] = self.client.create_run(experiment, run_name=run.name).info.run_id
        self.run_id = ids["mlflow"]
        if (run / "config.yaml").exists():
            self.client.log_artifact(self.run_id, str(run / "config.yaml"))

    def write(self, values: dict[str, float], step: int) -> None:
        stamp = int(1000 * time.time())
        metrics = [self.metric(k, v, stamp, step) for k, v in values.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def image(self, tag: str, path: Path, step: int) -> None:
        self.client.log_artifact(self.run_id, str(path), tag)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


LOGGERS = {"tensorboard": TensorBoard, "csv": Csv, "wandb": WandB, "mlflow": MLflow}
assert set(LOGGERS) == set(NAMES), "gankit.config.LOGGERS names the loggers the config accepts"


class RunLog:
    def __init__(
        self, run: Path, resume_step: int | None = None, loggers: list[str] = ("tensorboard",)
    ) -> None:
        self.run, self.path, self.names, self.sinks = run, run / METRICS, list(loggers), []
        self.last_image: tuple[str, int] | None = None
        self.rewind(resume_step)

    def rewind(self, step: int | None) -> None:
        """Forget what was logged after `step` (the checkpoint a run goes back to)."""
        if step is not None:
            kept = [r for r in read(self.run) if r.get("step", 0) <= step]
            files.write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        self.close()
        ids_path = self.run / IDS
        ids = _ids(ids_path)
        self.sinks = [_open(name, self.run, step, ids) for name in self.names]
        if ids:
            files.write_text_atomic(ids_path, json.dumps(ids))

    def write(self, record: dict[str, Any]) -> None:
        with files.writing(self.path), self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        values = scalars(record)
        for sink in self.sinks:
            sink.write(values, record["step"])

    def image(self, tag: str, path: Path, step: int) -> None:
        """A sample grid (a PNG the run wrote) to the loggers that show pictures, once a step (the
        final grid is drawn again when the run ends on a sampling step)."""
        if self.last_image == (tag, step):
            return
        self.last_image = (tag, step)
        for sink in self.sinks:
            sink.image(tag, path, step)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        self.sinks = []


def _ids(path: Path) -> dict[str, str]:
    """The W&B / MLflow run ids of RUN/loggers.json; unreadable, none (those loggers then start
    a new run rather than stopping this one)."""
    try:
        ids = json.loads(path.read_bytes()) if path.exists() else {}
    except ValueError:
        return {}
    return ids if isinstance(ids, dict) else {}


def _open(name: str, run: Path, step: int | None, ids: dict[str, str]) -> Any:
    try:
        return LOGGERS[name](run, step, ids)
    except ImportError:
        raise BadInput(
            f"train.loggers names {name}, which is not installed: pip install "
            f"'gankit[{name}]', or remove it from train.loggers."
        ) from None
