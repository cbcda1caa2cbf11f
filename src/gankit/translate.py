"""`gankit translate RUN --input FOLDER_OR_IMAGE --out FOLDER [--to DOMAIN] [--hints ...]`: images
through a trained pix2pix, cyclegan, stargan or colourise run, written as PNGs named like their
inputs. A colourise run takes grey images only, and `--hints X,Y,#RRGGBB` colour points (in the
input image's pixels) when it was trained with hints."""

from __future__ import annotations

import sys
from pathlib import Path

from gankit.errors import BadInput

BATCH = 64


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


def parse_hint(text: str) -> tuple[int, int, tuple[int, int, int]]:
    """ "X,Y,#RRGGBB" -> (x, y, (r, g, b))."""
    parts = text.split(",")
    try:
        x, y, colour = int(parts[0]), int(parts[1]), parts[2].strip().lstrip("#")
        if len(parts) != 3 or len(colour) != 6:
            raise ValueError
        rgb = tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))
    except (ValueError, IndexError):
        raise BadInput(
            f'--hints "{text}": write a point as X,Y,#RRGGBB, e.g. 12,30,#c04020.'
        ) from None
    return x, y, rgb


def hints_at_side(
    hints: list[tuple[int, int, tuple]], width: int, height: int, side: int, path: Path
) -> list[tuple[int, int, tuple]]:
    """Points in an input image's pixels -> pixels of the side x side centre crop the model
    sees (load_image's resize of the short side, then crop)."""
    scale = side / min(width, height)
    w, h = max(side, round(width * scale)), max(side, round(height * scale))
    left, top = (w - side) // 2, (h - side) // 2
    out = []
    for x, y, rgb in hints:
        if not (0 <= x < width and 0 <= y < height):
            raise BadInput(
                f"--hints {x},{y}: the point is outside {path.name}, which is {width}x{height} "
                f"pixels (x from 0 to {width - 1}, y from 0 to {height - 1})."
            )
        mx, my = int((x + 0.5) * w / width) - left, int((y + 0.5) * h / height) - top
        if not (0 <= mx < side and 0 <= my < side):
            raise BadInput(
                f"--hints {x},{y}: the point falls in the part of {path.name} the centre crop cuts "
                f"off; place it nearer the middle."
            )
        out.append((mx, my, rgb))
    return out


def translate_files(
    run: str | Path,
    source: str | Path,
    out: str | Path,
    to: str | None = None,
    hints: list[str] | None = None,
) -> list[Path]:
    """Translate every image of `source` with the run's generator; returns the files written."""
    import numpy as np
    import torch
    from PIL import Image
    from torchvision.utils import save_image

    from gankit import api
    from gankit.core.images import from_uint8
    from gankit.data.folder import load_image
    from gankit.data.photos import colour_fraction

    recipe = api.load(run).recipe
    if not hasattr(recipe, "translate"):
        raise BadInput(
            f"{run} was trained with recipe {recipe.cfg.recipe}, which does not translate "
            f"images: give a pix2pix, cyclegan, stargan or colourise run (`gankit sample` draws "
            f"from it)."
        )
    colourises = getattr(recipe, "colourises", False)
    points = [parse_hint(h) for h in hints or []]
    if points and not colourises:
        raise BadInput(
            f"--hints: {run} is a {recipe.cfg.recipe} run; only colourise runs take hints."
        )
    c, side, _ = recipe.image_shape
    images, names, placed = [], [], []
    for path in input_files(Path(source)):
        try:
            image = load_image(path, side, c, 50_000_000)
            with Image.open(path) as img:
                size = img.size
        except Exception as e:  # one unreadable file never stops the others
            print(f"gankit translate: skipped {path} ({type(e).__name__})", file=sys.stderr)
            continue
        if colourises:
            if colour_fraction(torch.tensor(image).permute(2, 0, 1)[None]) >= 0.01:
                raise BadInput(
                    f"{path} is in colour already: a colourise run colours grey images; give "
                    f"it a greyscale version (e.g. PIL's convert('L'))."
                )
            placed.append(hints_at_side(points, *size, side, path))
        images.append(image)
        names.append(path.stem)
    if not images:
        raise BadInput(f"no readable images in {source}.")
    x = from_uint8(torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(0, len(x), BATCH):
        batch = x[i : i + BATCH].to(recipe.device)
        if colourises:  # each image its own points (scaled to its size)
            translated = torch.cat(
                [recipe.translate(b[None], to, p) for b, p in zip(batch, placed[i : i + BATCH])]
            ).cpu()
        else:
            translated = recipe.translate(batch, to).cpu()
        for image, name in zip(translated, names[i : i + BATCH]):
            path = out / f"{name}.png"
            save_image(image, path, normalize=True, value_range=(-1, 1))
            written.append(path)
    return written
