"""A config chosen for a folder of images, so `gankit train --data FOLDER` needs no YAML.

The choices, each printed with its reason:
- resolution: the largest of 32, 64, 128 that the folder's median image side supports (smaller
  images would only be upsampled), or the one asked for;
- recipe: unconditional, or projection-conditional (Miyato & Koyama 2018, with its hinge loss and
  spectral-norm D) when the images sit in two or more class sub-folders;
- network: DCGAN at that side (width 64, 32 at 128 px so a CPU can still run it), an EMA of G;
- augmentation: DiffAugment (colour, translation, cutout) under 10,000 images, where Zhao et al.
  2020 show D overfitting a small set without it.
The config written for a 64 or 128 px folder is configs/folder-64.yaml / folder-128.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit.data.survey import Survey, survey
from gankit.errors import BadInput

SIDES = (32, 64, 128)
MIN_IMAGES = 16  # fewer is not a distribution to learn, and not one batch
SMALL_SET = 10_000  # below this, augment (DiffAugment's small-data regime)
WIDTH = {32: 64, 64: 64, 128: 32}


def choose(folder: str | Path, size: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """The raw config for `folder` and one line per choice saying why."""
    found = survey(folder)
    _check_usable(found)
    notes = [_describe(found)]
    if size is None:
        fits = [s for s in SIDES if s <= found.median_side]
        size = fits[-1] if fits else SIDES[0]
        notes.append(
            f"size {size}: the largest of {', '.join(map(str, SIDES))} the median image side "
            f"({found.median_side} px) supports (--size to change)"
        )
    else:
        notes.append(f"size {size}: as asked (median image side {found.median_side} px)")
    channels = 1 if found.grey else 3
    why = "every image is greyscale" if found.grey else "colour images"
    notes.append(f"channels {channels}: {why}")
    classes = found.classes
    cfg = base(size, channels, str(found.root), conditional=bool(classes))
    if classes:
        notes.append(
            f"recipe projection: {len(classes)} class sub-folders ({_shown(classes)}), so a "
            f"conditional GAN with a projection D and the hinge loss"
        )
    else:
        notes.append("recipe unconditional: no class sub-folders")
    if found.count < cfg["train"]["batch_size"]:  # a batch never repeats an image within it
        cfg["train"]["batch_size"] = found.count
        notes.append(f"batch size {found.count}: the whole folder")
    width = cfg["nets"]["g_options"]["width"]
    notes.append(f"network dcgan at {size}x{size}, width {width}, EMA of G (decay 0.999)")
    if found.count < SMALL_SET:
        cfg["stabilisers"] = {"diffaugment": ["color", "translation", "cutout"]}
        notes.append(
            f"augmentation DiffAugment (color, translation, cutout): {found.count} images is "
            f"under {SMALL_SET:,}, where D overfits without it"
        )
    else:
        notes.append(f"augmentation none: {found.count} images is enough without it")
    cfg["description"] = (
        f"{'Projection-conditional ' if classes else ''}DCGAN on the {found.count} images in "
        f"{found.root} at {size}x{size}"
    )
    return cfg, notes


def base(size: int, channels: int, root: str, conditional: bool = False) -> dict[str, Any]:
    """The folder config before the data-dependent choices (augmentation, description)."""
    d_options: dict[str, Any] = {"width": WIDTH.get(size, 64)}
    if conditional:  # the projection paper's D: spectral norm in place of batch norm
        d_options |= {"norm": "none", "spectral_norm": True}
    return {
        "recipe": "projection" if conditional else "unconditional",
        "data": {"name": "image-folder", "root": root, "size": size, "channels": channels},
        "nets": {
            "g": "dcgan",
            "d": "dcgan",
            "z_dim": 100,
            "g_options": {"width": WIDTH.get(size, 64)},
            "d_options": d_options,
        },
        "loss": {"name": "hinge" if conditional else "non-saturating"},
        "optim": (
            {"name": "adam", "lr_g": 1.0e-4, "lr_d": 4.0e-4, "betas": [0.0, 0.9]}
            if conditional
            else {"name": "adam", "lr_g": 2.0e-4, "lr_d": 2.0e-4, "betas": [0.5, 0.999]}
        ),
        "train": {
            "steps": 10000,
            "batch_size": 64,
            "ema": 0.999,
            "log_every": 100,
            "sample_every": 1000,
            "checkpoint_every": 1000,
        },
    }


def _check_usable(found: Survey) -> None:
    if found.count >= MIN_IMAGES:
        return
    skipped = [
        f"{len(names)} {why} skipped: {_shown(names)}"
        for why, names in (("unreadable", found.unreadable), ("too large", found.too_large))
        if names
    ]
    raise BadInput(
        f"{found.root} has {found.count} usable image(s)"
        + (f" ({'; '.join(skipped)})" if skipped else "")
        + f": a GAN needs at least {MIN_IMAGES}; add .png/.jpg images to the folder."
    )


def _describe(found: Survey) -> str:
    parts = [f"{found.count} usable images in {found.root}"]
    converted = found.conversions()
    if converted:
        parts.append("converted: " + ", ".join(f"{n} {what}" for what, n in converted.items()))
    if found.unreadable:
        parts.append(f"{len(found.unreadable)} unreadable skipped ({_shown(found.unreadable)})")
    if found.too_large:
        parts.append(f"{len(found.too_large)} too large skipped ({_shown(found.too_large)})")
    return "; ".join(parts)


def _shown(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")
