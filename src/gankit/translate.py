"""`gankit translate RUN --input FOLDER_OR_IMAGE --out FOLDER [--to DOMAIN]`: images through a
trained pix2pix, cyclegan or stargan run, written as PNGs named like their inputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gankit.cli import command
from gankit.errors import BadInput

BATCH = 64


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

    def run(a: argparse.Namespace) -> int:
        written = translate_files(a.run, a.input, a.out, a.to)
        print(f"wrote {len(written)} translated image(s) to {a.out}")
        return 0

    return run


def input_files(source: Path) -> list[Path]:
    from gankit.data.folder import EXTENSIONS

    if source.is_file():
        return [source]
    if not source.is_dir():
        raise BadInput(f"--input {source} is neither an image file nor a folder.")
    files = sorted(f for f in source.iterdir() if f.is_file() and f.suffix.lower() in EXTENSIONS)
    if not files:
        raise BadInput(f"--input {source} holds no images (.png, .jpg, ...).")
    return files


def translate_files(
    run: str | Path, source: str | Path, out: str | Path, to: str | None = None
) -> list[Path]:
    """Translate every image of `source` with the run's generator; returns the files written."""
    import numpy as np
    import torch
    from torchvision.utils import save_image

    from gankit import api
    from gankit.data.folder import load_image

    recipe = api.load(run).recipe
    if not hasattr(recipe, "translate"):
        raise BadInput(
            f"{run} was trained with recipe {recipe.cfg.recipe}, which does not translate "
            f"images: give a pix2pix, cyclegan or stargan run (`gankit sample` draws from it)."
        )
    c, side, _ = recipe.image_shape
    images, names = [], []
    for path in input_files(Path(source)):
        try:
            images.append(load_image(path, side, c, 50_000_000))
            names.append(path.stem)
        except Exception as e:  # one unreadable file never stops the others
            print(f"gankit translate: skipped {path} ({type(e).__name__})", file=sys.stderr)
    if not images:
        raise BadInput(f"no readable images in {source}.")
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(0, len(x), BATCH):
        translated = recipe.translate(x[i : i + BATCH].to(recipe.device), to).cpu()
        for image, name in zip(translated, names[i : i + BATCH]):
            path = out / f"{name}.png"
            save_image(image, path, normalize=True, value_range=(-1, 1))
            written.append(path)
    return written
