"""`gankit upscale RUN --input IMAGE|FOLDER|FILE.npz --out FOLDER`: images through a trained
srgan run at their own size (G is fully convolutional; large ones go through it in tiles),
written as PNGs named like their inputs, or an .npz of `images` as `gankit sample` writes."""

from __future__ import annotations

import sys
from pathlib import Path

from gankit import files
from gankit.errors import BadInput


def read_image(path: Path, channels: int):
    """uint8 (C, H, W) at the file's own size."""
    import numpy as np
    import torch
    from PIL import Image

    from gankit.data.folder import _to_8bit

    with Image.open(path) as img:
        img.load()
        img = _to_8bit(img).convert("L" if channels == 1 else "RGB")
    array = np.asarray(img, dtype=np.uint8)
    array = array[:, :, None] if array.ndim == 2 else array
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def check_size(x, scale: int, what: str) -> None:
    h, w = x.shape[-2:]
    if min(h, w) < scale:
        raise BadInput(
            f"{what} is {w}x{h} pixels, smaller than the run's scale factor {scale}: give an image "
            f"at least {scale} pixels on each side."
        )


def upscale_files(
    run: str | Path, source: str | Path, out: str | Path, tile: int = 128
) -> list[Path]:
    """Upscale every image of `source` with the run's G; returns the files written."""
    import torch
    from PIL import Image

    from gankit import api
    from gankit.core.images import from_uint8, to_uint8
    from gankit.translate import input_files

    recipe = api.load(run).recipe
    if not hasattr(recipe, "upscale"):
        raise BadInput(f"{run} is a {recipe.cfg.recipe} run, not a super-resolution (srgan) run.")
    if tile < 8:
        raise BadInput(f"--tile {tile}: give G tiles of at least 8 pixels.")
    channels, scale = recipe.spec.shape[0], recipe.scale
    source, out = Path(source), Path(out)

    def up(x: torch.Tensor) -> torch.Tensor:  # uint8 (N, C, H, W) -> uint8, scale times larger
        y = recipe.upscale(from_uint8(x.to(recipe.device)), tile)
        return to_uint8(y.cpu())

    if source.suffix == ".npz":
        arrays = files.read_npz(source, "a sample export (.npz with uint8 `images`)")
        images = torch.from_numpy(arrays["images"])
        if images.dim() != 4 or images.shape[1] != channels or images.dtype != torch.uint8:
            raise BadInput(
                f"{source}: `images` must be uint8 (N, {channels}, H, W), not "
                f"{images.dtype} {tuple(images.shape)}."
            )
        check_size(images, scale, str(source))
        out.mkdir(parents=True, exist_ok=True)
        chunks = [up(images[i : i + 64]) for i in range(0, len(images), 64)]
        return [api.save_npz({"images": torch.cat(chunks).numpy()}, out / "upscaled.npz")]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in input_files(source):
        try:
            x = read_image(path, channels)
        except Exception as e:  # one unreadable file never stops the others
            print(f"gankit upscale: skipped {path} ({type(e).__name__})", file=sys.stderr)
            continue
        check_size(x, scale, str(path))
        y = up(x[None])[0].permute(1, 2, 0).numpy()
        target = out / f"{path.stem}.png"
        Image.fromarray(y[:, :, 0] if channels == 1 else y).save(target)
        written.append(target)
    if not written:
        raise BadInput(f"no readable images in {source}.")
    return written
