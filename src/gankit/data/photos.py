"""Colour photographs for super-resolution and colourisation, without a download, and the
`colourise` task over them or over any colour image folder.

  sample-photos  square crops of scikit-learn's two sample photos (china.jpg, flower.jpg, 427 x
                 640): a grid of crops of side data.size, stride half a crop; the train split
                 takes the left 80% of each photo, the test split the right 20%, so no test
                 pixel is seen in training.
  colourise      paired grey -> colour (pix2pix layout: A = the image's luma, ITU-R 601, on three
                 channels; B = the image), made when the data loads, from `source: sample-photos`
                 or from the colour images under data.root (`source: folder`).
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset
from gankit.data.folder import image_folder
from gankit.data.translation import register
from gankit.errors import BadInput

TRAIN_FRACTION = 0.8
LUMA = (0.299, 0.587, 0.114)


def crops(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) -> (N, size, size, 3): every crop on a grid of stride size // 2."""
    stride = max(size // 2, 1)
    h, w = image.shape[:2]
    tops, lefts = range(0, h - size + 1, stride), range(0, w - size + 1, stride)
    return np.stack([image[t : t + size, x : x + size] for t in tops for x in lefts])


@DATASETS.register("sample-photos")
def sample_photos(cfg: DataConfig, split: str) -> Dataset:
    """Crops of scikit-learn's two sample photos (left 80%: train, right 20%: test)."""
    from sklearn.datasets import load_sample_images

    if cfg.size < 8:
        raise BadInput(f"data.size {cfg.size}: sample-photos crops need a side of 8 or more.")
    parts = []
    for photo in load_sample_images().images:
        cut = int(photo.shape[1] * TRAIN_FRACTION)
        half = photo[:, :cut] if split == "train" else photo[:, cut:]
        parts.append(crops(half, cfg.size))
    x = torch.from_numpy(np.concatenate(parts)).permute(0, 3, 1, 2).contiguous()
    if cfg.channels == 1:
        x = grey(x)[:, :1]
    return Dataset("sample-photos", x, "image")


def grey(x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> its luma, uint8, on all three channels."""
    weights = torch.tensor(LUMA).view(1, 3, 1, 1)
    return (x.float() * weights).sum(1, keepdim=True).round().to(torch.uint8).expand_as(x)


def colour_fraction(x: torch.Tensor, tolerance: int = 8) -> float:
    """The fraction of pixels whose channels differ by more than `tolerance` (of 255)."""
    spread = x.amax(1).int() - x.amin(1).int()
    return float((spread > tolerance).float().mean())


@register("colourise", "paired")
def colourise(cfg: DataConfig, split: str, *, source: str = "folder") -> Dataset:
    """Paired grey -> colour, from sample-photos or the colour images under data.root."""
    if source not in ("folder", "sample-photos"):
        raise BadInput(f'data.options.source "{source}": use folder or sample-photos.')
    colour_cfg = DataConfig(source, cfg.size, 3, cfg.root, cfg.download)
    if source == "folder":
        colour_cfg.name = "image-folder"
        images = image_folder(colour_cfg, split)
    else:
        images = sample_photos(colour_cfg, split)
    if colour_fraction(images.x) < 0.01:
        raise BadInput(
            f"colourise: the images {'under ' + str(cfg.root) if cfg.root else 'given'} are grey "
            f"already, so there is no colour to learn: give a folder of colour images."
        )
    x = torch.cat([grey(images.x), images.x], 1)
    return Dataset("colourise", x, "image", images.y, list(images.class_names))
