"""The yardstick: a plain eager DCGAN loop in the style of pytorch/examples/dcgan, at 28x28.

Written independently of gankit on purpose (only torch, torchvision and numpy), so gankit's numbers
have an outside reference: BCE loss, Adam lr 2e-4 betas (0.5, 0.999), batch 64, N(0, 0.02)
initialisation, a torchvision DataLoader over Fashion-MNIST. It trains for --seconds of wall
clock, then writes --n generator samples in the sample-export contract (.npz, `images` uint8
(N, 1, 28, 28)), so `gankit eval FILE.npz --dataset fashion-mnist` scores it like any run.
With --at, it also writes samples at those seconds (OUT-150s.npz ...), its clock stopped while it
writes them; --limited N trains on the first N training images.

    python bench/reference_dcgan.py --seconds 600 --out runs/reference-dcgan.npz
    python bench/reference_dcgan.py --seconds 600 --at 150 300 --out runs/ref.npz
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from torch import nn

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
NZ = 100


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, 256, 7, 1, 0, bias=False),  # 7x7
            nn.BatchNorm2d(256),
            nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),  # 14x14
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 1, 4, 2, 1, bias=False),  # 28x28
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1, bias=False),  # 14x14
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),  # 7x7
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 1, 7, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


def weights_init(m: nn.Module) -> None:  # as pytorch/examples
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def dataset(root: Path) -> torchvision.datasets.FashionMNIST:
    """torchvision's FashionMNIST under root, unpacked from Debian's files when not there."""
    raw = root / "FashionMNIST" / "raw"
    if not (raw / "train-images-idx3-ubyte").exists() and DEBIAN.is_dir():
        raw.mkdir(parents=True, exist_ok=True)
        for f in DEBIAN.glob("*-ubyte.gz"):
            with gzip.open(f, "rb") as src, open(raw / f.name[:-3], "wb") as dst:
                shutil.copyfileobj(src, dst)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    return torchvision.datasets.FashionMNIST(str(root), train=True, download=False, transform=tf)


def train(
    seconds: float,
    seed: int,
    root: Path,
    at: Callable[[Generator, float, int], None],
    times: list[float],
    limited: int | None = None,
) -> tuple[Generator, int]:
    """Train for `seconds`; at each of `times` call at(netG, t, steps) with the clock stopped."""
    torch.manual_seed(seed)
    data = dataset(root)
    if limited:
        data = torch.utils.data.Subset(data, range(limited))
    loader = torch.utils.data.DataLoader(
        data, batch_size=64, shuffle=True, num_workers=0, drop_last=True
    )
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    start, steps = time.perf_counter(), 0
    times = sorted(t for t in times if t < seconds)
    while True:
        for real, _ in loader:
            b = real.size(0)
            # (1) D: maximise log D(x) + log(1 - D(G(z)))
            netD.zero_grad()
            err_real = criterion(netD(real), torch.ones(b))
            fake = netG(torch.randn(b, NZ, 1, 1))
            err_fake = criterion(netD(fake.detach()), torch.zeros(b))
            (err_real + err_fake).backward()
            optD.step()
            # (2) G: maximise log D(G(z))
            netG.zero_grad()
            criterion(netD(fake), torch.ones(b)).backward()
            optG.step()
            steps += 1
            elapsed = time.perf_counter() - start
            if times and elapsed >= times[0]:
                paused = time.perf_counter()
                at(netG, times.pop(0), steps)
                netG.train()
                start += time.perf_counter() - paused  # writing samples is not training
            if elapsed >= seconds:
                return netG, steps


@torch.no_grad()
def export(netG: Generator, n: int, seed: int, out: Path) -> None:
    netG.eval()
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.cat(
        [netG(torch.randn(min(500, n - i), NZ, 1, 1, generator=g)) for i in range(0, n, 500)]
    )
    images = ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=images)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=600, help="wall-clock training budget")
    p.add_argument("--at", type=float, nargs="*", default=[], help="also write samples at these s")
    p.add_argument("--limited", type=int, help="train on the first N training images only")
    p.add_argument("--n", type=int, default=10_000, help="samples to export")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", type=Path, default=Path.home() / ".cache" / "reference-dcgan")
    p.add_argument("--out", type=Path, default=Path("runs/reference-dcgan.npz"))
    a = p.parse_args()

    def at(netG: Generator, t: float, steps: int) -> None:
        out = a.out.with_name(f"{a.out.stem}-{t:g}s.npz")
        export(netG, a.n, a.seed, out)
        print(f"reference DCGAN: {steps} G steps in {t:g} s; wrote {a.n} samples to {out}")

    netG, steps = train(a.seconds, a.seed, a.root, at, a.at, a.limited)
    export(netG, a.n, a.seed, a.out)
    print(f"reference DCGAN: {steps} G steps in {a.seconds:.0f} s; wrote {a.n} samples to {a.out}")


if __name__ == "__main__":
    main()
