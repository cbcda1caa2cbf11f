"""The `gankit upscale` command: a super-resolution run over images of any size."""

from __future__ import annotations

import argparse

from gankit.cli.base import command
from gankit.upscale import upscale_files


@command(
    "upscale",
    "super-resolve images with a trained srgan run (x2, x4, ...; any size, tiled when large)",
    "gankit upscale runs/srgan-fashion-x4 --input small.png --out big/",
)
def _upscale(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory of an srgan run")
    p.add_argument("--input", required=True, help="an image, a folder of images, or an .npz")
    p.add_argument("--out", required=True, help="folder for the upscaled PNGs (or upscaled.npz)")
    p.add_argument("--tile", type=int, default=128, help="largest input side G sees at once")

    def run(a: argparse.Namespace) -> int:
        written = upscale_files(a.run, a.input, a.out, a.tile)
        print(f"wrote {len(written)} upscaled file(s) to {a.out}")
        return 0

    return run
