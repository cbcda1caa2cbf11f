"""Image-to-image data: two domains A and B, paired (pix2pix) or unpaired (CycleGAN, CoGAN).

Representation: the two domains share one channel count C and are stacked along the channels of
`Dataset.x`, (N, 2C, H, W) uint8 with A in the first C channels, so the existing Dataset,
BatchStream and checkpoint code carry them unchanged; recipes cut a batch in two with `split`.
Paired data stacks each A with its own B; unpaired data stacks A items with B items drawn from
*other* items, in a fixed random pairing that is meaningless by construction.
StarGAN's "one folder per domain" is the existing `image-folder` (sub-folders are labels), and
its built-in task is `item-domains`: a labelled dataset whose labels are domains.

Folder layouts users already have:
  aligned-folder   pix2pix datasets: ROOT/train/*.jpg (and test/ or val/), each image A|B side by
                   side (`direction: BtoA` swaps them)
  unpaired-folder  CycleGAN datasets: ROOT/trainA, trainB, testA, testB
Built-in tasks, derived deterministically from Fashion-MNIST (or `base: digits`):
  edges2items      paired: A = the item's edges, B = the item
  items2inverted   unpaired: A = items, B = colour-inverted other items
  items2edges      unpaired: A = items, B = edges of other items
  item-domains     StarGAN: each item shown in one domain (of plain, inverted, edges, blurred),
                   label = domain
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset, build
from gankit.data.folder import EXTENSIONS, load_image
from gankit.errors import BadInput

# dataset name -> "paired" | "unpaired": what the translation recipes check their data against.
LAYOUTS: dict[str, str] = {}
BASES = ("fashion-mnist", "digits")


def layout(name: str) -> str | None:
    """ "paired", "unpaired", or None for a dataset that is not two stacked domains."""
    return LAYOUTS.get(name)


def register(name: str, kind: str) -> Callable:
    """Register a dataset builder and record its layout."""
    LAYOUTS[name] = kind
    return DATASETS.register(name)


def split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of stacked domains (N, 2C, H, W) -> (A, B), each (N, C, H, W)."""
    c = x.shape[1] // 2
    return x[:, :c], x[:, c:]


# -- transforms of uint8 (N, C, H, W) images ---------------------------------------------------
def inverted(x: torch.Tensor) -> torch.Tensor:
    return 255 - x


def edges(x: torch.Tensor, threshold: float = 0.2) -> torch.Tensor:
    """Binary Sobel edges (white on black), per channel: a magnitude above `threshold` of each
    image's strongest edge. Deterministic, so a task built twice is bit-identical."""
    v = x.float() / 255.0
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernels = torch.stack([kx, kx.T]).unsqueeze(1)  # (2, 1, 3, 3)
    n, c, h, w = v.shape
    g = F.conv2d(F.pad(v.reshape(n * c, 1, h, w), (1, 1, 1, 1), mode="replicate"), kernels)
    magnitude = g.pow(2).sum(1).sqrt().reshape(n, c, h, w)
    peak = magnitude.flatten(2).amax(2).clamp_min(1e-6)[:, :, None, None]
    return ((magnitude / peak) > threshold).to(torch.uint8) * 255


def blurred(x: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Gaussian blur (7x7 kernel). The evaluator, trained on sharp items, names 40% of blurred
    Fashion-MNIST items; a classifier trained on blurred ones names 87% (on sharp ones: 90%)."""
    import torchvision.transforms.functional as TF  # slow import: only when blurring

    return TF.gaussian_blur(x, [7, 7], [sigma, sigma])


TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "plain": lambda x: x,
    "inverted": inverted,
    "edges": edges,
    "blurred": blurred,
}


def _base(cfg: DataConfig, split_name: str, base: str) -> Dataset:
    if base not in BASES:
        raise BadInput(f'data.options.base "{base}": use one of {", ".join(BASES)}.')
    return build(DataConfig(base, cfg.size, cfg.channels, cfg.root, cfg.download), split_name)


def stack_unpaired(a: torch.Tensor, b: torch.Tensor, seed: int) -> torch.Tensor:
    """A items each stacked with a B item in a fixed random order; the smaller domain repeats."""
    n = max(len(a), len(b))
    g = torch.Generator().manual_seed(seed)
    a_idx = torch.arange(n) % len(a)
    b_idx = torch.randperm(len(b), generator=g).repeat(n // len(b) + 1)[:n]
    return torch.cat([a[a_idx], b[b_idx]], 1)


# -- built-in tasks -----------------------------------------------------------------------------
@register("edges2items", "paired")
def edges2items(cfg: DataConfig, split: str, *, base: str = "fashion-mnist") -> Dataset:
    """Paired edges -> item (pix2pix), from Fashion-MNIST or digits: A = Sobel edges, B = item."""
    items = _base(cfg, split, base)
    x = torch.cat([edges(items.x), items.x], 1)
    return Dataset("edges2items", x, "image", items.y, list(items.class_names))


def _unpaired(name: str, cfg: DataConfig, split: str, base: str, to: str, seed: int) -> Dataset:
    # Even items give domain A, odd items domain B: no item appears in both, so nothing is paired.
    items = _base(cfg, split, base)
    a, b = items.x[0::2], TRANSFORMS[to](items.x[1::2])
    y = items.y[0::2] if items.y is not None else None  # the A item's class, for benchmarks
    return Dataset(name, stack_unpaired(a, b, seed), "image", y, list(items.class_names))


@register("items2inverted", "unpaired")
def items2inverted(
    cfg: DataConfig, split: str, *, base: str = "fashion-mnist", seed: int = 0
) -> Dataset:
    """Unpaired items <-> colour-inverted other items (CycleGAN, CoGAN); labels: A's class."""
    return _unpaired("items2inverted", cfg, split, base, "inverted", seed)


@register("items2edges", "unpaired")
def items2edges(
    cfg: DataConfig, split: str, *, base: str = "fashion-mnist", seed: int = 0
) -> Dataset:
    """Unpaired items <-> edges of other items (CycleGAN, CoGAN); labels: A's class."""
    return _unpaired("items2edges", cfg, split, base, "edges", seed)


@DATASETS.register("item-domains")
def item_domains(
    cfg: DataConfig,
    split: str,
    *,
    base: str = "fashion-mnist",
    domains: list[str] | None = None,
) -> Dataset:
    """StarGAN domains from image transforms: item i shown in domain i mod K; label = domain.

    Item i of the dataset is item i of the base dataset, so its class is base.y[i].
    """
    names = domains or ["plain", "inverted", "edges"]
    unknown = [d for d in names if d not in TRANSFORMS]
    if unknown or len(names) < 2:
        raise BadInput(
            f"data.options.domains {names}: give two or more of {', '.join(TRANSFORMS)}."
        )
    items = _base(cfg, split, base)
    y = torch.arange(len(items)) % len(names)
    x = items.x.clone()
    for k, name in enumerate(names):
        x[y == k] = TRANSFORMS[name](items.x[y == k])
    return Dataset("item-domains", x, "image", y, list(names))


# -- folders users already have -----------------------------------------------------------------
def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)


def _root(cfg: DataConfig, name: str) -> Path:
    if not cfg.root:
        raise BadInput(f"dataset {name} needs data.root: the folder that holds the dataset.")
    root = Path(cfg.root).expanduser()
    if not root.is_dir():
        raise BadInput(f"dataset {name}: data.root {root} is not a folder.")
    return root


def _load_all(files: list[Path], load: Callable[[Path], np.ndarray], where: Path) -> np.ndarray:
    if not files:
        raise BadInput(f"no images (.png, .jpg, ...) in {where}: add some there.")
    return np.stack([load(p) for p in files])


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, C, H, W)."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def _aligned_halves(path: Path, size: int, channels: int) -> np.ndarray:
    """One A|B image -> (size, size, 2C): its halves resized and stacked on the channels."""
    with Image.open(path) as img:
        img = img.convert("L" if channels == 1 else "RGB")
    w, h = img.size
    if abs(w - 2 * h) > 1:
        raise BadInput(
            f"{path} is {w}x{h}: an aligned pair is A and B side by side, twice as wide as it is "
            f"high. Give unpaired domains (trainA/, trainB/) to dataset unpaired-folder and "
            f"recipe cyclegan instead."
        )
    halves = [img.crop((0, 0, w // 2, h)), img.crop((w // 2, 0, 2 * (w // 2), h))]
    arrays = [np.asarray(p.resize((size, size), Image.Resampling.BICUBIC)) for p in halves]
    return np.concatenate([a[:, :, None] if a.ndim == 2 else a for a in arrays], 2)


@register("aligned-folder", "paired")
def aligned_folder(cfg: DataConfig, split: str, *, direction: str = "AtoB") -> Dataset:
    """pix2pix's aligned pairs: A|B side by side in data.root/train (and test/ or val/)."""
    root = _root(cfg, "aligned-folder")
    if (root / "trainA").is_dir():
        raise BadInput(
            f"{root} holds unpaired domains (trainA/, trainB/), not aligned A|B pairs: use "
            f"dataset unpaired-folder with recipe cyclegan, or give pix2pix a folder of A|B images."
        )
    if direction not in ("AtoB", "BtoA"):
        raise BadInput(f'data.options.direction "{direction}": use AtoB or BtoA.')
    wanted = ["train"] if split == "train" else ["test", "val"]
    folder = next((root / s for s in wanted if (root / s).is_dir()), root)
    channels = cfg.channels or 3
    pairs = _to_tensor(
        _load_all(_images_in(folder), lambda p: _aligned_halves(p, cfg.size, channels), folder)
    )
    if direction == "BtoA":
        pairs = torch.cat([pairs[:, channels:], pairs[:, :channels]], 1)
    return Dataset("aligned-folder", pairs, "image")


@register("unpaired-folder", "unpaired")
def unpaired_folder(
    cfg: DataConfig, split: str, *, seed: int = 0, max_pixels: int = 50_000_000
) -> Dataset:
    """CycleGAN's layout: data.root/trainA, trainB (testA, testB for the test split)."""
    root = _root(cfg, "unpaired-folder")
    prefix = "train" if split == "train" else "test"
    folders = [root / f"{prefix}A", root / f"{prefix}B"]
    missing = [f.name for f in folders if not f.is_dir()]
    if missing:
        raise BadInput(
            f"unpaired-folder: {root} has no {' or '.join(missing)} folder; the CycleGAN layout is "
            f"trainA/, trainB/, testA/, testB/ (one image per file)."
        )
    channels = cfg.channels or 3
    a, b = (
        _to_tensor(
            _load_all(_images_in(f), lambda p: load_image(p, cfg.size, channels, max_pixels), f)
        )
        for f in folders
    )
    return Dataset("unpaired-folder", stack_unpaired(a, b, seed), "image")
