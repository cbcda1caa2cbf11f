"""A run's scalar log: one JSON object per logged step in metrics.jsonl, mirrored to TensorBoard."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gankit import files

METRICS = "metrics.jsonl"


def read(run: Path) -> list[dict[str, Any]]:
    """Every record of a run's metrics.jsonl (a torn last line from a crash is ignored)."""
    path = run / METRICS
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


class RunLog:
    def __init__(self, run: Path, resume_step: int | None = None) -> None:
        self.run, self.path, self.tb = run, run / METRICS, None
        self.rewind(resume_step)

    def rewind(self, step: int | None) -> None:
        """Forget what was logged after `step` (the checkpoint a run goes back to)."""
        from torch.utils.tensorboard import SummaryWriter  # slow import, only when training

        if step is not None:
            kept = [r for r in read(self.run) if r.get("step", 0) <= step]
            files.write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        if self.tb is not None:
            self.tb.close()
        self.tb = SummaryWriter(str(self.run), purge_step=step)

    def write(self, record: dict[str, Any]) -> None:
        with files.writing(self.path), self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)) and math.isfinite(value):
                self.tb.add_scalar(key, value, record["step"])

    def close(self) -> None:
        self.tb.close()
