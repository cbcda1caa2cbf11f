"""The `gankit generate` command: images from a caption with a text-to-image run."""

from __future__ import annotations

import argparse
from pathlib import Path

from gankit.cli.base import SEED, command, whole
from gankit.generate import generate


@command(
    "generate",
    "draw images from a caption with a text-to-image run (recipe stackgan)",
    'gankit generate runs/stackgan-fashion --text "a pair of dark trousers" --n 16 --out t.png',
)
def _generate(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory of a text-to-image recipe")
    p.add_argument("--text", required=True, help="the caption")
    p.add_argument(
        "--n", type=whole(1, 10_000, "a number of images"), default=16, help="number of images"
    )
    p.add_argument("--out", required=True, help="a .png grid, or a .npz of uint8 images")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the latents")
    p.add_argument("--stage", type=int, choices=(1, 2), default=2, help="1: stage I's images")
    p.add_argument(
        "--ema",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="use the EMA generators when the run has them",
    )
    p.add_argument(
        "--snap",
        type=float,
        default=None,
        help="move the caption onto the run's training captions nearest it (softmax over "
        "cosines at this temperature, e.g. 0.03) before G; 0: off (default: the run's "
        "recipe_options.snap)",
    )

    def run(a: argparse.Namespace) -> int:
        import math

        from gankit import api
        from gankit.viz.grid import save_readable_grid

        images = generate(a.run, a.text, a.n, a.seed, a.stage, a.ema, a.snap).cpu()
        out = Path(a.out)
        if out.suffix == ".npz":
            api.save_npz({"images": api.to_uint8(images).numpy()}, out)
        else:  # upscaled, under the caption that made them
            title = f'"{a.text}" (stage {a.stage}, seed {a.seed})'
            save_readable_grid(images, out, math.ceil(math.sqrt(a.n)), None, title)
        print(f"wrote {out}: {a.n} images for {a.text!r}")
        return 0

    return run
