"""Time to quality: a gankit config and a rival trained at the same time, one thread each, side
by side on one machine, each scored at the same seconds of training.

The rival is the plain pytorch/examples-style loop in bench/reference_dcgan.py (`--against
reference`, the default) or another gankit config (`--against CONFIG`, e.g. the same config
without its augmentation). Both arms' clocks stop while they score or write samples, so the
seconds are training seconds. Each score is FID and class KL from gankit's own Fashion-MNIST
evaluator on --n samples, beside its floor; when a gankit arm keeps an EMA G, the live G is
scored too. `--limited N` trains both arms on the first N training images, and the metrics'
reference and floor come from the same N (data.limit).

    python bench/time_to_quality.py configs/r3gan-fashion.yaml --seeds 0 1 2
    python bench/time_to_quality.py configs/r3gan-fashion.yaml --limited 2000 --seeds 0 \
        --against configs/r3gan-fashion.yaml --against-set stabilisers.ada=null \
        --record time-to-quality-limited

Records (one per arm, seed and time) go to docs/benchmarks/NAME.jsonl, the curves to
docs/img/NAME.png; bench/render.py turns the records into the page's table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.metrics import evaluate_samples

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = Path(__file__).resolve().parent.parent
METRICS = ["fid", "classes"]
ONE_THREAD = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class Arm:
    """One side of the race: `reference` or a gankit config with its overrides."""

    name: str
    config: str  # "reference" or a config path
    overrides: list[str] = field(default_factory=list)

    def command(self, seed: int, a: argparse.Namespace, out: Path) -> list[str]:
        times = sorted(t for t in a.at if t < a.seconds)
        if self.config == "reference":
            cmd = [sys.executable, str(ROOT / "bench" / "reference_dcgan.py")]
            cmd += ["--seconds", str(a.seconds), "--n", str(a.n), "--seed", str(seed)]
            cmd += ["--out", str(out / "samples.npz"), "--at", *map(str, times)]
            return cmd + (["--limited", str(a.limited)] if a.limited else [])
        settings = [
            f"train.seed={seed}",
            f"train.budget_s={a.seconds}",
            "train.steps=100000000",  # the budget decides when to stop
            "train.threads=1",
            "train.progress=false",
            "train.checkpoint_every=100000000",
            "train.sample_every=100000000",
            f"eval.at_s={json.dumps(times)}",
            "eval.at_end=true",
            f"eval.n={a.n}",
            f"eval.metrics={json.dumps(METRICS)}",
            "eval.live=true",
            *([f"data.limit={a.limited}"] if a.limited else []),
            *self.overrides,
        ]
        cmd = [sys.executable, "-m", "gankit", "train", self.config, "--out", str(out)]
        return cmd + [x for s in settings for x in ("--set", s)]

    def scores(self, seed: int, a: argparse.Namespace, out: Path) -> list[dict]:
        """One record per scored time: fid, class_kl (and live_ ones), step, seconds, and with
        ADA on, its p as last logged by then."""
        if self.config != "reference":
            rows, p = [], {}
            for line in (out / "metrics.jsonl").read_text().splitlines():
                r = json.loads(line)
                p = {"ada_p": r["ada_p"]} if "ada_p" in r else p
                if "fid" in r:
                    rows.append({"time_s": r.pop("time_s"), "step": r.pop("step")} | r | p)
            return rows
        data = DataConfig(name="fashion-mnist", size=28, limit=a.limited)
        log = (out / "log.txt").read_text().splitlines()
        rows = []
        for line in log:  # "reference DCGAN: S G steps in T s; wrote N samples to PATH"
            if not line.startswith("reference DCGAN:"):
                continue
            words = line.split()
            steps, t, path = int(words[2]), float(words[6].rstrip(";")), Path(words[-1])
            images = torch.from_numpy(np.load(path)["images"][: a.n])
            scores = evaluate_samples(images, data, METRICS, seed)
            rows.append({"time_s": t, "step": steps} | scores)
        return rows


def race(arms: list[Arm], seed: int, a: argparse.Namespace) -> list[dict]:
    """Both arms trained at once, each in its own one-thread process; then their scores."""
    folders = {arm.name: a.runs / f"{arm.name}-seed{seed}" for arm in arms}
    jobs = []
    for arm in arms:
        out = folders[arm.name]
        if (out / "done").exists():  # a finished race is reused (score later, or rerun one)
            continue
        out.mkdir(parents=True, exist_ok=True)
        log = open(out / "log.txt", "w")
        jobs.append((out, log, subprocess.Popen(arm.command(seed, a, out), cwd=ROOT,
                                                env=ONE_THREAD, stdout=log,
                                                stderr=subprocess.STDOUT)))  # fmt: skip
    for out, log, job in jobs:
        if job.wait() != 0:
            sys.exit(f"time_to_quality: {out} failed; its output: {out / 'log.txt'}")
        log.close()
        (out / "done").touch()
    rows = []
    for arm in arms:
        for row in arm.scores(seed, a, folders[arm.name]):
            rows.append({"arm": arm.name, "config": arm.config, "set": arm.overrides} | row)
    how = {"threads": 1, "side_by_side": [arm.name for arm in arms]}
    return [r | {"seed": seed, "limited": a.limited, "n": a.n} | how for r in rows]


def summary(rows: list[dict], arms: list[Arm], times: list[float]) -> str:
    """FID (mean ± std over seeds) of each arm at each time, and the ratio to the rival's."""

    def at(arm: str, t: float, key: str = "fid") -> list[float]:
        # the score nearest to t (gankit scores at the first step past t)
        out = []
        for seed in sorted({r["seed"] for r in rows}):
            mine = [r for r in rows if r["arm"] == arm and r["seed"] == seed and key in r]
            if mine:
                out.append(min(mine, key=lambda r: abs(r["time_s"] - t))[key])
        return out

    def cell(values: list[float]) -> str:
        if not values:
            return "-"
        std = statistics.pstdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.2f} ± {std:.2f}"

    head = ["seconds", *[arm.name for arm in arms], f"{arms[0].name} live G", "ratio (per seed)"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for t in times:
        mine, theirs = at(arms[0].name, t), at(arms[1].name, t)
        ratios = ", ".join(f"{x / y:.2f}" for x, y in zip(mine, theirs))
        live = cell(at(arms[0].name, t, "live_fid"))
        lines.append(f"| {t:g} | {cell(mine)} | {cell(theirs)} | {live} | {ratios} |")
    return "\n".join(lines)


def plot(rows: list[dict], arms: list[Arm], path: Path) -> None:
    """FID against training seconds, one curve per arm (and live G), a band of ± 1 std."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    curves = [(arm.name, "fid") for arm in arms] + [(f"{arms[0].name} live G", "live_fid")]
    for label, key in curves:
        arm = label.removesuffix(" live G")
        mine = [r for r in rows if r["arm"] == arm and key in r]
        if not mine:
            continue
        by_seed: dict[int, list[dict]] = {}
        for r in mine:
            by_seed.setdefault(r["seed"], []).append(r)
        k = min(len(v) for v in by_seed.values())
        t = np.mean([[r["time_s"] for r in v[:k]] for v in by_seed.values()], axis=0)
        f = np.array([[r[key] for r in v[:k]] for v in by_seed.values()])
        style = "--" if key == "live_fid" else "-"
        ax.plot(t, f.mean(0), style, marker="o", label=label)
        ax.fill_between(t, f.mean(0) - f.std(0), f.mean(0) + f.std(0), alpha=0.2)
    ax.set_xlabel("training seconds (one thread each, side by side)")
    ax.set_ylabel("FID (own Fashion-MNIST evaluator)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("config", help="the gankit config to race")
    p.add_argument("--set", action="append", default=[], help="KEY=VALUE for the config's arm")
    p.add_argument("--name", help="the config arm's name (default: the config's stem)")
    p.add_argument("--against", default="reference", help="reference, or a gankit config")
    p.add_argument("--against-set", action="append", default=[], help="KEY=VALUE for the rival")
    p.add_argument("--against-name", help="the rival's name")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--seconds", type=float, default=600, help="training seconds per arm")
    p.add_argument("--at", type=float, nargs="+", default=[150, 300], help="also score at")
    p.add_argument("--n", type=int, default=10_000, help="samples per score")
    p.add_argument("--limited", type=int, help="train on the first N training images")
    p.add_argument("--runs", type=Path, default=Path("runs/time-to-quality"))
    p.add_argument("--plot", type=Path, help="the curves' picture (default docs/img/RECORD.png)")
    records.argument(p, "time-to-quality")
    a = p.parse_args()
    torch.set_num_threads(1)  # the reference arm is scored here: one thread, as the gankit arm
    name = a.name or Path(a.config).stem
    rival = a.against_name or ("reference-dcgan" if a.against == "reference" else "rival")
    arms = [Arm(name, a.config, a.set), Arm(rival, a.against, a.against_set)]
    if arms[0].name == arms[1].name:
        p.error("both arms have one name: give --name or --against-name")
    a.runs = a.runs / a.record
    rows = []
    for seed in a.seeds:
        for row in race(arms, seed, a):
            row = records.append(a.record, row)
            print(json.dumps(records.strict(row), default=str), flush=True)
            rows.append(row)
    times = sorted({t for t in a.at if t < a.seconds} | {a.seconds})
    print(summary(rows, arms, times))
    picture = a.plot or ROOT / "docs" / "img" / f"{a.record}.png"
    plot(rows, arms, picture)
    print(f"time_to_quality: the curves are in {picture}")


if __name__ == "__main__":
    main()
