"""Tuples and sequences: train the table GAN and the sequence GAN briefly, score them against
their floors and baselines, print JSON and a markdown table.

    python bench/sequence.py --out runs/bench-sequence --budget 300

table:    per-column Wasserstein-1 / KS and the largest correlation error of 5,000 generated rows
          against 5,000 held-out real rows; the floor is real against real (another draw).
sequence: share of grammatical sentences among 5,000 generated, trained against untrained G.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from gankit import api
from gankit.data import grammar, table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

N = 5000


def train(config: str, out: Path, steps: int, budget: float) -> Path:
    sets = [f"train.steps={steps}", f"train.budget_s={budget}", "train.progress=false"]
    return api.train(config, out, sets)["run"]


def bench_table(out: Path, steps: int, budget: float) -> dict:
    run = train("configs/table-gan.yaml", out / "table", steps, budget)
    fake = api.sample(run, N, seed=1)["points"]
    real, other = table.draw(N, 1_000_003).numpy(), table.draw(N, 7).numpy()
    untrained = train("configs/table-gan.yaml", out / "table-untrained", 0, budget)
    return {
        "steps": api.load(run).step,
        "trained": table.compare(real, fake),
        "untrained": table.compare(real, api.sample(untrained, N, seed=1)["points"]),
        "floor_real_vs_real": table.compare(real, other),
    }


def bench_sequence(out: Path, steps: int, budget: float) -> dict:
    run = train("configs/sequence-gan.yaml", out / "sequence", steps, budget)
    untrained = train("configs/sequence-gan.yaml", out / "sequence-untrained", 0, budget)
    rows = torch.from_numpy(api.sample(run, N, seed=1)["points"])
    examples = [grammar.text(t) for t in grammar.to_tokens(rows[:8]).tolist()]
    return {
        "steps": api.load(run).step,
        "trained": grammar.validity(rows),
        "untrained": grammar.validity(torch.from_numpy(api.sample(untrained, N, seed=1)["points"])),
        "examples": examples,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/bench-sequence"))
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--budget", type=float, default=300, help="seconds of training per GAN")
    p.add_argument("--only", choices=("table", "sequence"))
    records.argument(p, "sequence")
    a = p.parse_args()
    torch.set_num_threads(1)
    results = {}
    if a.only in (None, "table"):
        results["table"] = bench_table(a.out, a.steps, a.budget)
    if a.only in (None, "sequence"):
        results["sequence"] = bench_sequence(a.out, a.steps, a.budget)
    for name, result in results.items():
        records.append(a.record, {"benchmark": name, "config": f"{name}-gan"} | result)
    print(json.dumps(results, indent=1))
    print(markdown(results))


def markdown(r: dict) -> str:
    lines = []
    if "table" in r:
        t = r["table"]
        lines += [
            f"table GAN, {t['steps']} steps: | w1 mean | KS max | corr max error |",
            "|---|---|---|---|",
        ]
        for name in ("untrained", "trained", "floor_real_vs_real"):
            m = t[name]
            lines.append(
                f"| {name} | {m['w1_mean']:.3f} | {m['ks_max']:.3f} | {m['corr_max_error']:.3f} |"
            )
    if "sequence" in r:
        s = r["sequence"]
        lines += [
            "",
            f"sequence GAN, {s['steps']} steps: | valid | distinct among valid |",
            "|---|---|---|",
        ]
        for name in ("untrained", "trained"):
            lines.append(f"| {name} | {s[name]['valid']:.3f} | {s[name]['distinct_valid']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
