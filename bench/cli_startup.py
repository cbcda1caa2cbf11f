"""How long the CLI takes to answer: `gankit --help`, `gankit list` and an argument error, wall
time of fresh processes, for one or more source trees side by side (interleaved, so that the
machine's load falls on all of them alike).

    OMP_NUM_THREADS=1 .venv/bin/python bench/cli_startup.py --src old=/tmp/old/src new=src

A tree's `python -X importtime` profile: `PYTHONPATH=SRC python -X importtime -m gankit list`.
Appends one JSON line per tree to docs/benchmarks/cli-startup.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

COMMANDS = {"--help": ["--help"], "list": ["list"], "argument error": ["train", "--no-such-flag"]}
RECORDS = Path(__file__).resolve().parents[1] / "docs/benchmarks/cli-startup.jsonl"


def wall(command: list[str], src: str = "") -> float:
    env = os.environ | {"PYTHONPATH": str(Path(src).resolve())} if src else None
    start = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", nargs="+", required=True, metavar="NAME=PATH", help="source trees")
    p.add_argument("--repeats", type=int, default=5, help="runs of each command per tree")
    a = p.parse_args()
    trees = dict(item.split("=", 1) for item in a.src)
    times: dict[str, dict[str, list[float]]] = {t: {c: [] for c in COMMANDS} for t in trees}
    torch_alone = []  # the floor: `gankit list` needs torch for the registries' modules
    for _ in range(a.repeats):
        torch_alone.append(wall([sys.executable, "-c", "import torch"]))
        for name, args in COMMANDS.items():
            for tree, src in trees.items():
                times[tree][name].append(wall([sys.executable, "-m", "gankit", *args], src))
    load = os.getloadavg()[0]
    for tree in trees:
        medians = {c: round(statistics.median(v), 2) for c, v in times[tree].items()}
        record = {
            "command": " ".join(sys.argv),
            "tree": tree,
            "median_wall_s": medians,
            "max_wall_s": {c: round(max(v), 2) for c, v in times[tree].items()},
            "import_torch_median_wall_s": round(statistics.median(torch_alone), 2),
            "repeats": a.repeats,
            "load_average_1min": round(load, 2),
            "python": platform.python_version(),
        }
        print(json.dumps(records.append("cli-startup", record)))


if __name__ == "__main__":
    main()
