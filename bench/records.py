"""Benchmark records: one JSON line per run, saying what was measured, on what, and how to rerun it.

Every bench script appends its runs through `append`, and `bench/render.py` builds the tables of
docs/BENCHMARKS.md from these files alone, so a number on the page always has its command, its
machine and its torch version beside it in the record.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# $GANKIT_BENCH_RECORDS redirects every record (bench/quick.py: a smoke run must not touch docs/)
RECORDS = Path(os.environ.get("GANKIT_BENCH_RECORDS") or ROOT / "docs" / "benchmarks")


def machine() -> str:
    """The device a number came from, in words: the GPU's name, else the CPU's cores and arch."""
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda})"
    return f"{os.cpu_count()}-core {platform.machine()} CPU, {torch.get_num_threads()} thread(s)"


def command() -> str:
    """The command line that is running, as a user would retype it from the repository root."""
    script = Path(sys.argv[0])
    if script.is_absolute() and ROOT in script.parents:
        script = script.relative_to(ROOT)
    return shlex.join(["python", str(script), *sys.argv[1:]])


def commit() -> str | None:
    """The git commit the code ran at (with '+changes' when the tree had uncommitted edits)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        return None
    return head + ("+changes" if dirty else "")


def stamp(record: dict[str, Any], cmd: str | None = None) -> dict[str, Any]:
    """`record` with the command, machine, torch version and date filled in where missing."""
    import torch

    meta = {
        "command": cmd or command(),
        "machine": machine(),
        "torch": torch.__version__.split("+")[0],
        "date": datetime.date.today().isoformat(),
        "commit": commit(),
        # how busy the machine was: a CPU speed measured beside other work reads lower
        "load_average": round(os.getloadavg()[0], 2),
    }
    return meta | record


def argument(parser: argparse.ArgumentParser, default: str) -> None:
    """The `--record NAME` option of a bench script: which records file its runs go to."""
    parser.add_argument(
        "--record",
        default=default,
        help=f"append each run to docs/benchmarks/NAME.jsonl ('' for none; default: {default})",
    )


def append(name: str, record: dict[str, Any], cmd: str | None = None) -> dict[str, Any]:
    """Append one run to docs/benchmarks/NAME.jsonl (stamped) and return the stamped record;
    with an empty name, only stamp it."""
    record = stamp(record, cmd)
    if not name:
        return record
    path = RECORDS / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(strict(record), default=str, allow_nan=False) + "\n")
    return record


def strict(value: Any) -> Any:
    """`value` with NaN and infinities as None, so that strict JSON parsers read the records."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def read(name: str, root: Path | None = None) -> list[dict[str, Any]]:
    """Every record of docs/benchmarks/NAME.jsonl, in the order they were written."""
    path = (root or RECORDS) / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
