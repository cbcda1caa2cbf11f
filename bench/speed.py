"""Training-step speed: gankit against a plain eager PyTorch reference loop of the same networks.

The reference is the pytorch/examples dcgan loop: a torchvision DataLoader with per-item
transforms, BCE on sigmoid outputs, D on real then on fake (two backward passes), then G through D.
gankit runs its own training step on the same networks (same initial weights) with its data held
on the device. Blocks of steps of the two alternate in one process; the median of the repeats is
compared, so machine load affects both alike.

    .venv/bin/python bench/speed.py                      # all cases, CPU (and GPU when present)
    .venv/bin/python bench/speed.py --cases dcgan-28 --batches 64 --steps 10 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gankit import config, data, nets
from gankit.train.trainer import build_recipe

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

CASES = {  # name: (network, image side, generator/discriminator options)
    "mlp": ("mlp", 28, {}),
    "dcgan-28": ("dcgan", 28, {"width": 64}),
    "dcgan-64": ("dcgan", 64, {"width": 64}),
    "resnet-32": ("resnet", 32, {}),
}


def gankit_cfg(net: str, size: int, options: dict, batch: int, device: str) -> config.Config:
    return config.from_dict(
        {
            "data": {"name": "fashion-mnist", "size": size},
            "nets": {"g": net, "d": net, "z_dim": 100, "g_options": options, "d_options": options},
            "loss": {"name": "non-saturating"},
            "train": {"batch_size": batch, "device": device},
        }
    )


def reference_loader(ds: data.Dataset, batch: int, size: int) -> DataLoader:
    """What the example does: PIL-like images through per-item torchvision transforms."""
    transform = torchvision.transforms.Compose(
        [
            torchvision.transforms.ToPILImage(),
            torchvision.transforms.Resize(size),
            torchvision.transforms.ToTensor(),
            torchvision.transforms.Normalize((0.5,), (0.5,)),
        ]
    )

    class Images(TensorDataset):
        def __getitem__(self, i):
            return transform(self.tensors[0][i]), 0

    raw = ds.x if size == 28 else torch.nn.functional.interpolate(ds.x.float(), 28).byte()
    return DataLoader(Images(raw), batch_size=batch, shuffle=True, drop_last=True, num_workers=0)


class Reference:
    """The pytorch/examples dcgan training step, verbatim in spirit."""

    def __init__(
        self, g: nn.Module, d: nn.Module, loader: DataLoader, device: torch.device, z_dim: int = 100
    ):
        self.g, self.d, self.device, self.loader, self.z_dim = g, d, device, loader, z_dim
        self.it = iter(loader)
        self.criterion = nn.BCEWithLogitsLoss()  # the example's D ends in Sigmoid + BCELoss
        self.opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def batch(self) -> torch.Tensor:
        try:
            x, _ = next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            x, _ = next(self.it)
        return x.to(self.device)

    def step(self) -> None:
        real = self.batch()
        b = real.size(0)
        ones = torch.full((b,), 1.0, device=self.device)
        zeros = torch.full((b,), 0.0, device=self.device)
        self.d.zero_grad()
        self.criterion(self.d(real), ones).backward()
        fake = self.g(torch.randn(b, self.z_dim, device=self.device))
        self.criterion(self.d(fake.detach()), zeros).backward()
        self.opt_d.step()
        self.g.zero_grad()
        self.criterion(self.d(fake), ones).backward()
        self.opt_g.step()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(step, steps: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps / (time.perf_counter() - start)


def measure(case: str, batch: int, device: torch.device, steps: int, repeats: int) -> dict:
    net, size, options = CASES[case]
    cfg = gankit_cfg(net, size, options, batch, device.type)
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, device)
    stream = data.BatchStream(ds, batch, 0, device)
    g = copy.deepcopy(recipe.modules["g"])
    d = copy.deepcopy(recipe.modules["d"])
    ref = Reference(g, d, reference_loader(ds, batch, size), device)
    for _ in range(2):  # warm-up both
        recipe.step(stream)
        ref.step()
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(timed(lambda: recipe.step(stream), steps, device))
        theirs.append(timed(ref.step, steps, device))
    a, b = statistics.median(ours), statistics.median(theirs)
    return {
        "case": case,
        "batch": batch,
        "device": device_name(device),
        "gankit_steps_per_s": round(a, 3),
        "reference_steps_per_s": round(b, 3),
        "ratio": round(a / b, 3),
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", nargs="*", default=list(CASES))
    p.add_argument("--batches", nargs="*", type=int, default=[64, 256])
    p.add_argument("--steps", type=int, default=10, help="steps per timed block")
    p.add_argument("--repeats", type=int, default=5)
    records.argument(p, "speed")
    a = p.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        for case in a.cases:
            if CASES[case][0] not in nets.NETS:
                print(f"skipping {case}: network {CASES[case][0]!r} is not registered")
                continue
            for batch in a.batches:
                rows.append(
                    records.append(a.record, measure(case, batch, device, a.steps, a.repeats))
                )
                print(json.dumps(rows[-1]), flush=True)
    print(
        f"\ntorch {torch.__version__}; median of {a.repeats} blocks of {a.steps} steps, "
        "gankit and reference alternating in one process\n"
    )
    print("| device | network | batch | gankit steps/s | reference steps/s | ratio |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['device']} | {r['case']} | {r['batch']} | {r['gankit_steps_per_s']} | "
            f"{r['reference_steps_per_s']} | {r['ratio']} |"
        )


if __name__ == "__main__":
    main()
