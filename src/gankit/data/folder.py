"""Any folder of images (anime faces, photos ...), loaded once, resized and centre-cropped.

Files that cannot be read as images (empty, truncated, not an image, too large to decode safely)
are skipped, counted and named, so one bad file never stops a run. Sub-folders become classes.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit import limits
from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset
from gankit.errors import BadInput, printable

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@DATASETS.register("image-folder")
def image_folder(
    cfg: DataConfig, split: str, *, max_pixels: int = 50_000_000, show_skipped: int = 5
) -> Dataset:
    """Images under data.root (recursively); sub-folder names become class labels."""
    if not cfg.root:
        raise BadInput("dataset image-folder needs data.root: the folder that holds the images.")
    root = Path(cfg.root).expanduser()
    if not root.is_dir():
        raise BadInput(f"image folder {root} does not exist: set data.root to a folder of images.")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    channels = cfg.channels or 3
    limits.check_memory(
        f"{len(files)} images at {cfg.size}x{cfg.size}",
        2 * len(files) * channels * cfg.size**2,  # the decoded list and the stacked tensor
        "lower data.size or use fewer images",
    )
    images, folders, skipped = [], [], []
    for path in files:
        try:
            images.append(load_image(path, cfg.size, channels, max_pixels))
            folders.append(path.parent.relative_to(root).as_posix())
        except Exception as e:  # any decoder failure is a bad file, not a bad run
            skipped.append(f"{printable(str(path.relative_to(root)))} ({type(e).__name__})")
    if skipped:
        shown = "; ".join(skipped[:show_skipped])
        more = f" and {len(skipped) - show_skipped} more" if len(skipped) > show_skipped else ""
        print(
            f"image-folder: skipped {len(skipped)} unreadable file(s): {shown}{more}",
            file=sys.stderr,
        )
    if not images:
        raise BadInput(
            f"no readable images in {root} ({len(files)} image file(s) found, "
            f"{len(skipped)} unreadable): add .png/.jpg files there."
        )
    class_names = sorted(set(folders))
    y = None
    if len(class_names) > 1:
        index = {name: i for i, name in enumerate(class_names)}
        y = torch.tensor([index[f] for f in folders])
    else:
        class_names = []
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return Dataset("image-folder", x, "image", y, class_names, skipped)


def load_image(path: Path, size: int, channels: int, max_pixels: int) -> np.ndarray:
    """Decode one file to uint8 (size, size, channels): any mode, resized, centre-cropped."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            if img.width * img.height > max_pixels:
                raise ValueError(f"{img.width}x{img.height} is over {max_pixels} pixels")
            img.load()
            img = _to_8bit(img)
    img = img.convert("L" if channels == 1 else "RGB")
    scale = size / min(img.width, img.height)
    w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
    left, top = (w - size) // 2, (h - size) // 2
    # Resize only the centre square that is kept (`box`, in the source's pixels): resizing the
    # whole image first would make a 1x300,000 strip a 28x8,400,000 one before the crop.
    sx, sy = w / img.width, h / img.height
    box = (left / sx, top / sy, (left + size) / sx, (top + size) / sy)
    img = img.resize((size, size), Image.Resampling.BICUBIC, box=box)
    array = np.asarray(img, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def _to_8bit(img: Image.Image) -> Image.Image:
    """16/32-bit greyscale is rescaled (PIL's convert would clip it); alpha is laid on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or a.max() > 255 else 255.0
        return Image.fromarray((a.clip(0, top) / top * 255).round().astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img.convert("RGBA"))
    return img
