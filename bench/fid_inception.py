"""The real-vs-real floor of FID / KID / precision-recall with FID Inception features, and its cost.

Embeds n train and n test images of a dataset with the `inception` extractor (default weights,
resize tf1), timing the embedding in CPU seconds of this process, and scores test against train:
what a perfect generator scores at this n. Prints one JSON line (appended to
docs/benchmarks/fid-inception.jsonl, see --record) with the numbers, the CPU seconds per 1,000
images, the thread count, the machine and the versions. With --partial the features are kept as
they come, so a stopped run resumes.

    OMP_NUM_THREADS=1 .venv/bin/python bench/fid_inception.py --dataset fashion-mnist --n 2100 \
        --threads 1 --partial /tmp/fid-floor
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from gankit import data
from gankit.config import DataConfig
from gankit.metrics import distances, reference
from gankit.metrics.inception import InceptionExtractor
from gankit.metrics.prdc import knn_radius, precision_recall

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--n", type=int, default=2100, help="images per split (FID needs > 2048)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resize", default="tf1", choices=["torch", "tf1", "clean"])
    p.add_argument("--threads", type=int, default=1)
    records.argument(p, "fid-inception")
    p.add_argument("--partial", help="folder keeping the features embedded so far (resumable)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    ex = InceptionExtractor(None, a.resize, "cpu")
    cfg = DataConfig(name=a.dataset, size=28)
    feats, cpu, wall = {}, 0.0, 0.0
    resumed = sum(len(_load_partial(a.partial, split)) for split in ("train", "test"))
    for split in ("train", "test"):
        ds = data.build(cfg, split)
        x = ds.x[reference.select(len(ds), a.n, a.seed)]
        done = _load_partial(a.partial, split)
        for i in range(len(done), len(x), 100):  # saved every 100 images: a kill loses little
            c0, t0 = time.process_time(), time.perf_counter()
            done = torch.cat([done, ex.embed(x[i : i + 100])[0]])
            cpu += time.process_time() - c0
            wall += time.perf_counter() - t0
            _save_partial(a.partial, split, done)
            print(f"{split}: {len(done)}/{len(x)} ({cpu:.0f} CPU s)", file=sys.stderr, flush=True)
        feats[split] = done
    train, test = feats["train"], feats["test"]
    kid, kid_std = distances.kid(train, test, seed=a.seed)
    embedded = sum(f.shape[0] for f in feats.values()) - resumed
    record = {
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
        # CPU time of this process: on a shared machine the wall time depends on the neighbours.
        "embedded_here": embedded,
        "cpu_seconds": round(cpu, 1),
        "cpu_seconds_per_1000_images": round(1000 * cpu / embedded, 1) if embedded else None,
        "wall_seconds": round(wall, 1),
        "threads": a.threads,
        "cpu": _cpu_model(),
    }
    print(json.dumps(records.append(a.record, record)))
    return 0


def _load_partial(folder: str | None, split: str) -> torch.Tensor:
    path = Path(folder or "", f"{split}.safetensors")
    if folder and path.is_file():
        return load_file(str(path))["features"]
    return torch.empty(0, 2048)


def _save_partial(folder: str | None, split: str, features: torch.Tensor) -> None:
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tmp = Path(folder, f"{split}.part")
        save_file({"features": features.contiguous()}, str(tmp))
        tmp.replace(Path(folder, f"{split}.safetensors"))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.machine()


if __name__ == "__main__":
    raise SystemExit(main())
