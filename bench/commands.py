"""Benchmarks that are plain gankit commands: each runs the commands a user would type, times
them, and appends what they print or write as one stamped record per run (bench/records.py), with
those commands as the record's `command`.

    python bench/commands.py stacked [--data stacked-fashion stacked-digits] [--set KEY=VALUE ...]
    python bench/commands.py sgan [--labelled 100 1000] [--seeds 0 1 2] [--set KEY=VALUE ...]
    python bench/commands.py eval-cost [--n 10000] [--steps 200]
    python bench/commands.py evaluators [--dataset fashion-mnist] [--epochs N]
    python bench/commands.py threads [--threads 1 2] [--reps 2] [--steps 400] [--log-every 100]
    python bench/commands.py gpu [bench/gpu.py's options]

stacked     configs/stacked-fashion.yaml trained on each stacked dataset; the record is its eval at
            the end (modes of 1,000, KL from uniform, floors) with the training's wall time.
sgan        configs/sgan-fashion.yaml per number of labels and seed, with the unsupervised loss
            (weight 1.0) and without (0: the same D on the labels alone), then `gankit classify`
            on the test split; the record holds what classify prints.
eval-cost   `gankit eval` of N samples of a short dcgan-fashion run, timed (wall and user CPU)
            on its second call, when the reference features are cached.
evaluators  `gankit evaluator train` timed; the record is the cached evaluator's facts.
threads     configs/ring.yaml with each torch thread count in turn, `--reps` rounds alternating;
            steps/s at each log step after the first (which holds the start-up).
gpu         bench/gpu.py alone, then its JSON as a record: gpu.jsonl on a GPU, gpu-cpu-smoke.jsonl
            for the CPU smoke run (`--device cpu --tiny`).

Runs go to --runs (a run already there makes gankit refuse: pick another --runs or remove it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = records.ROOT
SMOKE = "CPU smoke run: proves the script runs end to end; not a speed figure"


@dataclass
class Ran:
    """One finished command: what it printed, its wall seconds and its user CPU seconds."""

    stdout: str
    wall_s: float
    user_s: float


def run(argv: list[str]) -> Ran:
    """Run `argv` from the repository root; a failure ends the benchmark with its stderr."""
    user = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"commands.py: {shlex.join(argv)} failed:\n{done.stderr[-3000:]}")
    user = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - user
    return Ran(done.stdout, round(wall, 1), round(user, 1))


def gankit(*args: object) -> tuple[Ran, str]:
    """`gankit ARGS` as a user runs it (this interpreter's gankit), and its command line."""
    words = [str(a) for a in args]
    return run([sys.executable, "-m", "gankit", *words]), shlex.join(["gankit", *words])


def sets(overrides: list[str]) -> list[str]:
    return [w for o in overrides for w in ("--set", o)]


def logged(run_dir: Path) -> list[dict[str, Any]]:
    """The records of a run's metrics.jsonl, in order."""
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def say(name: str, record: dict[str, Any], cmd: str) -> None:
    """Append `record` (stamped, with `cmd` as its command) to records NAME, and print it."""
    print(json.dumps(records.strict(records.append(name, record, cmd)), default=str), flush=True)


# -- one function per benchmark ------------------------------------------------------------------
def stacked(a: argparse.Namespace) -> None:
    for name in a.data:
        out = a.runs / name
        chosen = ([] if name == "stacked-fashion" else [f"data.name={name}"]) + a.set
        ran, cmd = gankit("train", "configs/stacked-fashion.yaml", "--out", out, *sets(chosen))
        scores = [r for r in logged(out) if "modes" in r][-1]  # the eval at the end
        record = {"config": "stacked-fashion", "set": chosen, "wall_s": ran.wall_s} | scores
        say(a.record, record, cmd)


def sgan(a: argparse.Namespace) -> None:
    for labelled in a.labelled:
        for seed in a.seeds:
            for weight in ("0", "1.0"):
                name = f"L{labelled}-s{seed}-w{weight}"
                out = a.runs / f"sgan-{name}"
                chosen = [
                    f"train.seed={seed}",
                    f"recipe_options.labelled={labelled}",
                    f"recipe_options.unsupervised_weight={weight}",
                    *a.set,
                ]
                _, train = gankit("train", "configs/sgan-fashion.yaml", "--out", out, *sets(chosen))
                ran, classify = gankit("classify", out, "--input", "fashion-mnist")
                record = {
                    "run": name,
                    "result": json.loads(ran.stdout.strip().splitlines()[-1]),
                    "labelled": labelled,
                    "seed": seed,
                    "unsupervised_weight": float(weight),
                }
                say(a.record, record, f"{train} && {classify}")


def eval_cost(a: argparse.Namespace) -> None:
    out = a.runs / "eval-cost"
    gankit("train", "configs/dcgan-fashion.yaml", "--out", out, "--set", f"train.steps={a.steps}")
    samples = out / f"samples{a.n}.npz"
    _, sample = gankit("sample", out, "--n", a.n, "--out", samples)
    gankit("eval", samples, "--dataset", "fashion-mnist")  # computes the reference features
    ran, score = gankit("eval", samples, "--dataset", "fashion-mnist")  # from the cache
    what = (
        f"score {a.n:,} 28x28 samples with every metric and its floor, own evaluator, "
        "reference features cached"
    )
    record = {"what": what, "n": a.n, "wall_s": ran.wall_s, "user_s": ran.user_s}
    say(a.record, record, f"{sample} && {score}")


def evaluators(a: argparse.Namespace) -> None:
    from gankit.config import DataConfig
    from gankit.metrics import evaluator

    epochs = ["--epochs", a.epochs] if a.epochs else []
    shape = ["--size", a.size, "--channels", a.channels]
    ran, cmd = gankit("evaluator", "train", "--dataset", a.dataset, *shape, *epochs)
    cfg = DataConfig(name=a.dataset, size=a.size, channels=a.channels)
    meta = evaluator.load(cfg, a.channels, auto_train=False).meta
    keep = ("dataset", "size", "channels", "epochs", "test_accuracy")
    record = {k: meta[k] for k in keep} | {"wall_s": ran.wall_s, "sha256": meta["sha256"][:16]}
    say(a.record, record, cmd)


def threads(a: argparse.Namespace) -> None:
    for rep in range(1, a.reps + 1):
        for count in a.threads:  # alternating, so that the machine's load falls on each alike
            out = a.runs / f"threads-{count}-{rep}"
            overrides = [
                f"train.steps={a.steps}",
                f"train.threads={count}",
                "train.progress=false",
                f"train.log_every={a.log_every}",
                "train.sample_every=100000",
                "train.checkpoint_every=100000",
                "eval.at_end=false",
            ]
            _, cmd = gankit("train", "configs/ring.yaml", "--out", out, *sets(overrides))
            timed = [r for r in logged(out) if "steps_per_s" in r][1:]  # the first holds start-up
            at = "_".join(str(r["step"]) for r in timed)
            record = {"what": "ring toy steps/s by torch CPU threads", "seed": 0, "threads": count}
            record |= {"rep": rep, f"steps_per_s_at_{at}": [r["steps_per_s"] for r in timed]}
            say(a.record, record, cmd)


def gpu(a: argparse.Namespace, passed: list[str]) -> None:
    """bench/gpu.py with `passed`, then its JSON as one record (its exit status is kept)."""
    out = Path(os.environ.get("OUT") or a.runs / "gpu")  # where bench/gpu.py writes
    written = out / "gpu-bench.json"
    written.unlink(missing_ok=True)  # an earlier run's must not pass for this one's
    done = subprocess.run([sys.executable, "bench/gpu.py", *passed, "--out", str(out)], cwd=ROOT)
    if not written.is_file():  # it stopped before measuring anything (it said why)
        sys.exit(done.returncode or 1)
    report = json.loads(written.read_text())
    meta = {k: v for k, v in report["meta"].items() if k != "running"}
    smoke = meta["device"].startswith("CPU")  # --device cpu: it runs; its figures are no speeds
    about = {"benchmark": "bench/gpu.py"} | ({"kind": SMOKE} if smoke else {})
    record = about | meta | {"rows": report["rows"]}
    say("gpu-cpu-smoke" if smoke else "gpu", record, meta["command"])
    if done.returncode:
        sys.exit(done.returncode)


BENCHMARKS = {
    "stacked": stacked,
    "sgan": sgan,
    "eval-cost": eval_cost,
    "evaluators": evaluators,
    "threads": threads,
}


# -- the command line ----------------------------------------------------------------------------
def parse() -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    which = p.add_subparsers(dest="benchmark", required=True)

    def benchmark(name: str, record: str | None) -> argparse.ArgumentParser:
        sub = which.add_parser(name)
        sub.add_argument("--runs", type=Path, default=Path("runs/bench-commands"), help="runs")
        if record:
            records.argument(sub, record)
        return sub

    sub = benchmark("stacked", "stacked")
    sub.add_argument("--data", nargs="+", default=["stacked-fashion", "stacked-digits"])
    sub.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="for every run")
    sub = benchmark("sgan", "sgan")
    sub.add_argument("--labelled", type=int, nargs="+", default=[100, 1000])
    sub.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    sub.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="for every run")
    sub = benchmark("eval-cost", "eval-cost")
    sub.add_argument("--n", type=int, default=10_000, help="samples scored")
    sub.add_argument("--steps", type=int, default=200, help="training steps of the sampled run")
    sub = benchmark("evaluators", "evaluators")
    sub.add_argument("--dataset", default="fashion-mnist")
    sub.add_argument("--size", type=int, default=28)
    sub.add_argument("--channels", type=int, default=1)
    sub.add_argument("--epochs", type=int, help="(default: gankit's)")
    sub = benchmark("threads", "threads-ring")
    sub.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    sub.add_argument("--reps", type=int, default=2, help="rounds over the thread counts")
    sub.add_argument("--steps", type=int, default=400)
    sub.add_argument("--log-every", type=int, default=100)
    benchmark("gpu", None)  # the rest of the line goes to bench/gpu.py; the device names the file
    a, passed = p.parse_known_args()
    if passed and a.benchmark != "gpu":
        p.error(f"unrecognised arguments: {' '.join(passed)}")
    return a, passed


def main() -> None:
    a, passed = parse()
    if a.benchmark == "gpu":
        gpu(a, passed)
        return
    BENCHMARKS[a.benchmark](a)


if __name__ == "__main__":
    main()
