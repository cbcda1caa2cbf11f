"""Every benchmark, at tiny size (`--size quick`: checks in minutes that each still runs, writes
its records and renders; `make bench-quick`, run by CI) or at the size of docs/BENCHMARKS.md
(`--size full`, `make bench`: hours on a 2-core CPU). Records go to OUT/records and the page
rendered from them to OUT/BENCHMARKS.md; the quick size uses a temporary folder for both, and for
the cache of evaluators (where it trains a 1-epoch Fashion-MNIST evaluator, so that nothing the
user has cached is touched or trusted). The numbers of a quick run mean nothing. The gpu step
runs bench/gpu.py's CPU smoke run at the quick size, and bench/gpu.py itself at the page's size
where there is a CUDA device (skipped, with a line saying so, where there is none).

    python bench/suite.py                              # quick, every step
    python bench/suite.py speed toys                   # quick, some steps
    python bench/suite.py --size full --out runs/bench     # then compare with docs/, and publish:
    python bench/suite.py --publish runs/bench && python bench/render.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GANKIT = [PY, "-m", "gankit"]
COMMANDS = [PY, "bench/commands.py"]  # the benchmarks that are plain gankit commands
SEEDS = ["0", "1", "2"]


def steps(full: bool) -> dict[str, list[list[str]]]:
    """name -> the commands of that benchmark, run in order from the repository root (RUNS is a
    folder for the runs they train)."""
    q = not full
    return {
        "evaluator": [[*COMMANDS, "evaluators", *(["--epochs", "1"] if q else [])]],
        "configs": [[PY, "bench/configs.py", "--budget", "3" if q else "30",
                     *(["--steps", "2", "--only", "quickstart", "ring"] if q else [])]],
        "speed": [[PY, "bench/speed.py", *(["--cases", "mlp", "--batches", "16"] if q else []),
                   "--steps", "1" if q else "5", "--repeats", "1" if q else "3"]],
        "threads": [[*COMMANDS, "threads", "--runs", "RUNS",
                     *(["--reps", "1", "--steps", "20", "--log-every", "10"] if q else [])]],
        "cli-startup": [[PY, "bench/cli_startup.py", "--src", "current=src",
                         "--repeats", "1" if q else "5"]],
        "eval-cost": [[*COMMANDS, "eval-cost", "--runs", "RUNS",
                       *(["--n", "500", "--steps", "2"] if q else [])]],
        "toys": [[PY, "bench/quality.py", f"configs/{c}.yaml", "--seeds", "1" if q else n,
                  "--first-seed", first, *(["--budget", "2"] if q else []), "--record", r]
                 for c, r, n, first in (("ring", "ring-10-seeds", "10", "0"),
                                        ("ring-pacgan", "ring-10-seeds-pacgan", "10", "0"),
                                        ("grid-r1", "grid-10-seeds-r1", "10", "0"),
                                        ("ring", "ring-seeds-100-119", "20", "100"),
                                        ("ring-pacgan", "ring-pacgan-seeds-100-119", "20", "100"),
                                        ("grid-r1", "grid-r1-seeds-100-119", "20", "100"))],
        "stacked": [[*COMMANDS, "stacked", "--runs", "RUNS", *(["--data", "stacked-fashion",
                      "--set", "train.steps=3", "eval.n=200"] if q else [])]],
        "architectures": [[PY, "bench/architectures.py", "--budget", "3" if q else "600",
                           "--seeds", *(["0"] if q else SEEDS), "--n", "300" if q else "10000",
                           "--runs", "RUNS/architectures", *(["--only", "dcgan"] if q else [])]],
        "races": races(q),
        "checkerboard": [[PY, "bench/checkerboard.py", "--budget", "3" if q else "120",
                          "--seeds", s, "--n", "200" if q else "1000", "--threads", "1"]
                         for s in (["0"] if q else ["0", "1"])],
        "translation": [[PY, "bench/translation.py", "--steps", "3" if q else "1500",
                         "--n", "200" if q else "2000", "--out", "RUNS/translation",
                         *(["--only", "pix2pix"] if q else [])]],
        "sgan": [[*COMMANDS, "sgan", "--runs", "RUNS", *(["--labelled", "100", "--seeds", "0",
                   "--set", "train.steps=3"] if q else [])]],
        "conditional": [
            [*GANKIT, "train", f"configs/{c}-fashion.yaml", "--out", f"RUNS/{c}",
             "--set", f"train.steps={3 if q else 3000}", "--set", "train.progress=false",
             "--set", f"nets.g_options.width={8 if q else 32}",
             "--set", f"nets.d_options.width={8 if q else 32}"]
            for c in (["cgan"] if q else ["cgan", "acgan", "projection"])
        ] + [[PY, "bench/conditional.py", *([f"RUNS/{c}" for c in (["cgan"] if q else
              ["cgan", "acgan", "projection"])]), "--per-class", "130" if q else "500"]],
        "sequence": [[PY, "bench/sequence.py", "--out", "RUNS/sequence", "--steps",
                      "5" if q else "3000", "--budget", "5" if q else "240"]],
        "text": [
            [*GANKIT, "train", "configs/stackgan-fashion.yaml", "--out", "RUNS/stackgan",
             "--set", "train.progress=false", *(["--set", "train.steps=3"] if q else
             ["--set", "recipe_options.encoder=minilm"])],
            [PY, "bench/text.py", "RUNS/stackgan", "--per-class", "13" if q else "1000",
             *([] if q else ["--snap", "0.03"])],
        ],
        "vae": [[PY, "bench/vae_vs_gan.py", "--steps", "3" if q else "400",
                 "--n", "200" if q else "2000"]],
        # at the page's size only: minutes of Inception embedding, or a tree to compare with
        "families": [] if q else [[PY, "bench/families.py", "--only", f, "--steps", steps,
                                   "--n", "2000", "--record"]
                                  for f, steps in (("lapgan", "200"), ("sr-fashion-x4", "1000"),
                                                   ("sr-photos-x4", "1000"),
                                                   ("sr-fashion-x2", "1000"),
                                                   ("colourise", "200"))],
        "fid-inception": [] if q else [[PY, "bench/fid_inception.py", "--dataset",
                                        "fashion-mnist", "--n", "2100", "--threads", "1"]],
        # bench/gpu.py by itself on a GPU; at the quick size its code runs tiny on the CPU
        "gpu": [[*COMMANDS, "gpu", "--runs", "RUNS", *(["--device", "cpu", "--tiny"] if q else [])]]
               if q or cuda() else [],
    }  # fmt: skip


def races(quick: bool) -> list[list[str]]:
    """bench/time_to_quality.py: the sweep (each candidate once, 300 s), the best config against
    the reference loop (600 s, seeds 0-2), ADA on 2,000 images and on the full data."""
    race = [PY, "bench/time_to_quality.py", "--runs", "RUNS/races"]
    best, ada = "configs/rpgan-fashion.yaml", "stabilisers.ada={target: 0.6, speed_img: 100000}"
    with_ada = [best, "--set", ada, "--name", "rpgan-fashion-ada", "--against", best,
                "--against-name", "rpgan-fashion"]  # fmt: skip
    if quick:  # one tiny race, its picture kept out of docs/
        tiny = ["--seeds", "0", "--seconds", "4", "--at", "2", "--n", "300"]
        return [[*race, best, *tiny, "--plot", "RUNS/races.png", "--record", "time-to-quality"]]
    sweep = ["--seeds", "0", "--seconds", "300", "--at", "150", "--record", "time-to-quality-sweep"]
    ema = ["--set", "train.ema_kimg=10", "--set", "train.ema_rampup=0.05"]
    return [
        [*race, "configs/hinge-fashion.yaml", *ema, "--name", "hinge-fashion-ema10k", *sweep],
        [*race, best, "--against", "configs/r3gan-fashion.yaml", "--against-name",
         "r3gan-fashion", *sweep],
        [*race, best, "--seeds", "0", "1", "2", "--seconds", "600", "--at", "150", "300",
         "--record", "time-to-quality"],
        [*race, *with_ada, "--limited", "2000", "--seeds", "0", "--seconds", "600", "--at", "150",
         "300", "--record", "time-to-quality-limited"],
        [*race, *with_ada, "--seeds", "0", "--seconds", "300", "--at", "150", "--record",
         "time-to-quality-ada"],
    ]  # fmt: skip


# The records files each step appends to (docs/benchmarks/NAME.jsonl): the suite checks that a
# step writes no other, and tests/test_benchmarks_page.py that every table's records have a step.
WRITES = {
    "evaluator": ["evaluators"],
    "configs": ["configs"],
    "speed": ["speed"],
    "threads": ["threads-ring"],
    "cli-startup": ["cli-startup"],
    "eval-cost": ["eval-cost"],
    "toys": [
        "ring-10-seeds",
        "ring-10-seeds-pacgan",
        "grid-10-seeds-r1",
        "ring-seeds-100-119",
        "ring-pacgan-seeds-100-119",
        "grid-r1-seeds-100-119",
    ],
    "stacked": ["stacked"],
    "architectures": ["architectures-600s"],
    "races": [
        "time-to-quality-sweep",
        "time-to-quality",
        "time-to-quality-limited",
        "time-to-quality-ada",
    ],
    "checkerboard": ["checkerboard"],
    "translation": ["translation"],
    "sgan": ["sgan"],
    "conditional": ["conditional"],
    "sequence": ["sequence"],
    "text": ["stackgan"],
    "vae": ["vae-vs-gan"],
    "families": ["lapgan", "srgan", "colourise"],
    "fid-inception": ["fid-inception"],
    "gpu": ["gpu", "gpu-cpu-smoke"],
}


def cuda() -> bool:
    """Whether a CUDA device is here (torch is imported only to ask, at the page's size)."""
    import torch

    return torch.cuda.is_available()


def sizes(folder: Path) -> dict[str, int]:
    return {path.stem: path.stat().st_size for path in folder.glob("*.jsonl")}


def run(names: list[str], full: bool, folder: Path, cache: str | None) -> None:
    env = os.environ | {"GANKIT_BENCH_RECORDS": str(folder / "records"), "OMP_NUM_THREADS": "1"}
    env |= {"GANKIT_CACHE": cache} if cache else {}
    plan = steps(full)
    for name in names:
        if not plan[name]:
            why = "no CUDA device here" if name == "gpu" else "at the page's size only"
            print(f"bench: {name:<13} skipped: {why}", flush=True)
            continue
        before = sizes(folder / "records")
        for cmd in plan[name]:
            cmd = [c.replace("RUNS", str(folder / "runs")) for c in cmd]
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            took = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"bench: {name} failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
            print(f"bench: {name:<13} ok in {took:7.1f} s", flush=True)
        grown = {n for n, size in sizes(folder / "records").items() if size > before.get(n, 0)}
        if not grown or grown - set(WRITES.get(name, [])):
            sys.exit(
                f"bench: {name} wrote records {sorted(grown) or 'none'}; WRITES says "
                f"{WRITES.get(name, [])}: correct the step or WRITES in bench/suite.py."
            )
    page = folder / "BENCHMARKS.md"
    render = [PY, "bench/render.py", "--records", str(folder / "records"), "--out", str(page)]
    done = subprocess.run(render, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: rendering the page failed:\n{done.stderr[-3000:]}")
    print(f"bench: rendered {page} ({page.read_text().count(chr(10))} lines) from the records")


def publish(folder: Path, to: Path) -> list[str]:
    """Each records file of a suite run replaces the current records of its namesake in `to`;
    the historical ones there (and their lessons) stay, ahead of the new lines."""
    names = []
    for path in sorted((folder / "records").glob("*.jsonl")):
        dest = to / path.name
        old = records.read(path.stem, to)
        kept = [r for r in old if r.get("status", "current") != "current"]
        new = records.read(path.stem, folder / "records")
        dest.write_text("".join(json.dumps(r) + "\n" for r in [*kept, *new]))
        names.append(path.stem)
    return names


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "only", nargs="*", help="steps to run (default: all): " + ", ".join(steps(False))
    )
    p.add_argument("--size", choices=("quick", "full"), default="quick")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench", help="full size: where")
    p.add_argument(
        "--publish", type=Path, metavar="OUT", help="put a full run's records into docs/benchmarks"
    )
    a = p.parse_args()
    if a.publish:
        if not (a.publish / "records").is_dir():
            p.error(f"{a.publish}/records is not a folder: give the --out of a full-size run")
        names = publish(a.publish, ROOT / "docs" / "benchmarks")
        print(f"bench: published {', '.join(names) or 'no records'}; now: python bench/render.py")
        return
    if unknown := set(a.only) - set(steps(False)):
        p.error(f"no step {', '.join(sorted(unknown))}; the steps: {', '.join(steps(False))}")
    full = a.size == "full"
    names = a.only or list(steps(full))
    if full:
        run(names, full, a.out, None)
        return
    with tempfile.TemporaryDirectory(prefix="gankit-bench-quick-") as tmp:
        names = ["evaluator", *[n for n in names if n != "evaluator"]]
        run(names, full, Path(tmp), f"{tmp}/cache")


if __name__ == "__main__":
    main()
