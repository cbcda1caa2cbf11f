"""The `gankit translate` command: a run's generator over a folder of images (or one image)."""

from __future__ import annotations

import argparse

from gankit.cli.base import command
from gankit.translate import translate_files


@command(
    "translate",
    "translate images with a trained pix2pix, cyclegan or stargan run",
    "gankit translate runs/cyclegan-fashion --input photos/ --out translated/ --to B",
)
def _translate(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    p.add_argument("--input", required=True, help="an image file, or a folder of images")
    p.add_argument("--out", required=True, help="folder for the translated PNGs")
    p.add_argument(
        "--to",
        default=None,
        metavar="DOMAIN",
        help="target domain: B or A for pix2pix and cyclegan (default: B), a stargan domain name",
    )
    p.add_argument(  # user-interactive colourisation
        "--hints",
        action="append",
        default=[],
        metavar="X,Y,#RRGGBB",
        help="colourise runs trained with hints: a colour point at pixel (X, Y) of the input "
        "image (repeatable)",
    )

    def run(a: argparse.Namespace) -> int:
        written = translate_files(a.run, a.input, a.out, a.to, a.hints)
        print(f"wrote {len(written)} translated image(s) to {a.out}")
        return 0

    return run
