"""The real-vs-real floor of FID / KID / precision-recall with FID Inception features, and its cost.

Embeds n train and n test images of a dataset with the `inception` extractor (default weights,
resize tf1), timing the embedding, and scores test against train: what a perfect generator
scores at this n. Prints one JSON line (appended to --record too) with the numbers, the seconds
per 1,000 images, the thread count, the machine and the versions.

    OMP_NUM_THREADS=1 .venv/bin/python bench/fid_inception.py --dataset fashion-mnist --n 2100 \
        --threads 1 --record docs/benchmarks/fid-inception.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import torch

from gankit import data
from gankit.config import DataConfig
from gankit.metrics import distances, reference
from gankit.metrics.inception import InceptionExtractor
from gankit.metrics.prdc import knn_radius, precision_recall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--n", type=int, default=2100, help="images per split (FID needs > 2048)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resize", default="tf1", choices=["torch", "tf1", "clean"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--record", help="append the JSON line to this file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    ex = InceptionExtractor(None, a.resize, "cpu")
    cfg = DataConfig(name=a.dataset, size=28)
    feats, seconds = {}, {}
    for split in ("train", "test"):
        ds = data.build(cfg, split)
        x = ds.x[reference.select(len(ds), a.n, a.seed)]
        t0 = time.perf_counter()
        feats[split] = ex.embed(x)[0]
        seconds[split] = time.perf_counter() - t0
    train, test = feats["train"], feats["test"]
    kid, kid_std = distances.kid(train, test, seed=a.seed)
    images = len(train) + len(test)
    record = {
        "command": " ".join(["bench/fid_inception.py", *sys.argv[1:]]),
        "dataset": a.dataset,
        "n_train": len(train),
        "n_test": len(test),
        "seed": a.seed,
        "extractor": ex.name,
        "extractor_sha256": ex.sha256,
        "resize": ex.resize,
        "fid_floor": distances.fid(train, test),
        "kid_floor": kid,
        "kid_floor_std": kid_std,
        **{
            f"{k}_floor": v
            for k, v in precision_recall(train, test, 3, knn_radius(train, 3)).items()
        },
        "embed_seconds": round(sum(seconds.values()), 1),
        "seconds_per_1000_images": round(1000 * sum(seconds.values()) / images, 1),
        "threads": a.threads,
        "machine": "2-core CPU (this project's development machine)",
        "cpu": _cpu_model(),
        "torch": torch.__version__,
    }
    line = json.dumps(record)
    print(line)
    if a.record:
        with open(a.record, "a") as f:
            f.write(line + "\n")
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.machine()


if __name__ == "__main__":
    raise SystemExit(main())
