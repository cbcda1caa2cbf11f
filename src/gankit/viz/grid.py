"""Picture grids a person can read: small images upscaled by nearest neighbour (every generated
pixel stays a sharp square, nothing is invented between them), on a white page with a title and
a label under each tile where they help.

The training sample grids keep torchvision's compact layout; these are for the pictures a tool
hands to its user (latent arithmetic, interpolation, inversion, `gankit generate`).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from gankit.core.images import to_uint8

MIN_TILE = 96  # each image is upscaled by an integer factor to at least this many pixels
GAP = 4  # white pixels between tiles and around the grid
LINE = 16  # pixels per line of text (labels, title)


def scale_for(side: int) -> int:
    """The integer upscale factor for images of this side (28 px -> 4, 64 px -> 2)."""
    return max(1, math.ceil(MIN_TILE / side))


def readable_grid(
    images: Tensor, nrow: int, labels: list[str] | None = None, title: str | None = None
) -> Image.Image:
    """Images in [-1, 1] (N, C, H, W) as an RGB page: `nrow` tiles a row, each upscaled by
    scale_for(H); labels (one per image, may hold line breaks) under the tiles, a title above."""
    x = to_uint8(images.detach().cpu())
    n, _, h, w = x.shape
    f = scale_for(max(h, w))
    x = x.repeat_interleave(f, 2).repeat_interleave(f, 3)  # nearest-neighbour upscale
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    tile_w, tile_h = w * f, h * f
    label_h = LINE * max(label.count("\n") + 1 for label in labels) if labels else 0
    title_h = LINE + GAP if title else 0
    page = Image.new(
        "RGB",
        (cols * tile_w + (cols + 1) * GAP, title_h + rows * (tile_h + label_h + GAP) + GAP),
        "white",
    )
    draw, font = ImageDraw.Draw(page), _font()
    if title:
        draw.text((GAP, GAP), _fit(draw, title, page.width - 2 * GAP, font), "black", font)
    for i in range(n):
        r, c = divmod(i, cols)
        left = GAP + c * (tile_w + GAP)
        top = title_h + GAP + r * (tile_h + label_h + GAP)
        pixels = x[i].permute(1, 2, 0).numpy()
        page.paste(
            Image.fromarray(pixels.squeeze(2) if pixels.shape[2] == 1 else pixels), (left, top)
        )
        if labels:
            lines = [_fit(draw, t, tile_w, font) for t in labels[i].split("\n")]
            draw.multiline_text((left, top + tile_h), "\n".join(lines), "black", font, spacing=2)
    return page


def save_readable_grid(
    images: Tensor,
    path: Path,
    nrow: int,
    labels: list[str] | None = None,
    title: str | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    readable_grid(images, nrow, labels, title).save(path)
    return path


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=13)  # Pillow's bundled scalable font
    except (TypeError, OSError):  # an old Pillow, or one built without FreeType
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> str:
    """The text, shortened with an ellipsis until it fits in `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
