"""Conditional runs on their dataset, measured with gankit's own evaluator classifier.

    python bench/conditional.py RUN [RUN ...] [--per-class 500]

For each run and each class k: `per-class` samples asked for class k; the share the evaluator
assigns to k, and the FID (evaluator features) between them and the test images of class k.
Prints one JSON object per run, then a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from gankit import api, data
from gankit.config import DataConfig
from gankit.metrics import evaluator
from gankit.metrics.distances import fid

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)


def measure(run: str, per_class: int, seed: int) -> dict:
    loaded = api.load(run)
    cfg = DataConfig(name=loaded.cfg.data.name, size=loaded.spec.shape[1])
    ev = evaluator.load(cfg, loaded.spec.shape[0], auto_train=False)
    test = data.build(cfg, "test")
    real_feats, _ = ev.embed(test.x)
    shares, fids = [], []
    for k in range(loaded.spec.num_classes):
        images = torch.from_numpy(api.sample(loaded, per_class, seed, k)["images"])
        feats, probs = ev.embed(images)
        shares.append(float((probs.argmax(1) == k).float().mean()))
        fids.append(fid(real_feats[test.y == k], feats))
    return {
        "run": run,
        "recipe": loaded.cfg.recipe,
        "step": loaded.step,
        "evaluator": ev.name,
        "evaluator_test_accuracy": ev.meta["test_accuracy"],
        "requested_class_share": round(sum(shares) / len(shares), 4),
        "per_class_share": [round(s, 3) for s in shares],
        "mean_per_class_fid": round(sum(fids) / len(fids), 2),
        "per_class_fid": [round(f, 2) for f in fids],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--per-class", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    records.argument(p, "conditional")
    a = p.parse_args()
    rows = [records.append(a.record, measure(r, a.per_class, a.seed)) for r in a.runs]
    for r in rows:
        print(json.dumps(r))
    print("\n| recipe | steps | share of requested class | mean per-class FID | per-class FID |")
    print("|---|---|---|---|---|")
    for r in rows:
        per = " / ".join(f"{f:.1f}" for f in r["per_class_fid"])
        print(
            f"| {r['recipe']} | {r['step']} | {r['requested_class_share']:.1%} | "
            f"{r['mean_per_class_fid']:.1f} | {per} |"
        )


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
