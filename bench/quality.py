"""Quality of shipped configs: train each for a fixed wall-clock budget (or its own steps) over
several seeds, then score the generator with gankit.metrics (metrics beside their floors).

Prints one JSON object per run, then a markdown table: mean +- std over seeds of every metric,
and of its floor. The protocol records of all runs of a config are checked to agree.

    .venv/bin/python bench/quality.py configs/ring.yaml configs/grid.yaml --seeds 10
    .venv/bin/python bench/quality.py configs/dcgan-fashion.yaml --seeds 3 --budget 600 --n 10000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from gankit import api
from gankit.metrics.protocol import ProtocolMismatch, check_comparable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)


def run_one(
    cfg_path: str, seed: int, budget: float | None, n: int | None, extra: list[str]
) -> dict:
    # With a budget, it decides when to stop (and paces the lr decay); without, the config's steps.
    length = [f"train.budget_s={budget}", "train.steps=100000000"] if budget else []
    overrides = [
        f"train.seed={seed}",
        *length,
        "train.progress=false",
        "eval.at_end=true",
        *([f"eval.n={n}"] if n else []),
        *extra,
    ]
    with tempfile.TemporaryDirectory() as out:
        result = api.train(cfg_path, Path(out) / "run", overrides)
    record = {"config": Path(cfg_path).stem, "seed": seed, "step": result["step"]}
    return record | ({"set": extra} if extra else {}) | result["metrics"]


def summarise(runs: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    keys = [k for k, v in runs[0].items() if isinstance(v, float) and not k.endswith("_floor")]
    keys = [k for k in keys if not k.endswith("_std") and not k.endswith("_total")]
    out = {}
    for k in keys + ["step"]:
        values = [float(r[k]) for r in runs]
        floors = [float(r[f"{k}_floor"]) for r in runs if f"{k}_floor" in r]
        std = statistics.pstdev(values) if len(values) > 1 else 0.0
        out[k] = (statistics.mean(values), std, statistics.mean(floors) if floors else None)
    return out


def table(name: str, summary: dict, runs: list[dict]) -> str:
    lines = [
        f"**{name}** ({len(runs)} seeds)",
        "",
        "| metric | mean ± std | floor (real test vs train) | per seed |",
        "|---|---|---|---|",
    ]
    for k, (mean, std, floor) in summary.items():
        per_seed = ", ".join(f"{r[k]:.4g}" for r in runs)
        f = "" if floor is None else f"{floor:.4g}"
        lines.append(f"| {k} | {mean:.4g} ± {std:.2g} | {f} | {per_seed} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("configs", nargs="+")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="seeds first .. first + seeds - 1")
    p.add_argument("--budget", type=float, help="training seconds per run (default: its steps)")
    p.add_argument("--n", type=int, help="samples per evaluation (default: the config's eval.n)")
    p.add_argument("--set", action="append", default=[], help="extra config override")
    records.argument(p, "quality")
    a = p.parse_args()
    tables = []
    for cfg_path in a.configs:
        runs = []
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            r = records.append(a.record, run_one(cfg_path, seed, a.budget, a.n, a.set))
            print(json.dumps(r), flush=True)
            runs.append(r)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ProtocolMismatch)
            # Seeds differ by design; everything else in the protocol must agree.
            check_comparable([{"protocol": r["protocol"] | {"seed": 0}} for r in runs])
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        tables.append(table(Path(cfg_path).stem, summarise(runs), runs))
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
