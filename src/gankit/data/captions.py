"""Images with captions, offline: Fashion-MNIST or digits described from their class and from two
attributes measured on each image, or a folder of images with a captions file.

A caption names the class (one of several synonyms) and may say how dark and how large the item
is. Both attributes are measured, not invented: tone from the mean intensity of the foreground
pixels, size from the share of foreground pixels, each compared with its class's median (so
"dark trousers" means darker than most trousers, and every class has both kinds).

Held-out phrasings, never used in training, test whether a text encoder generalises: the test
split's captions use new word orders (templates) and new synonyms. `phrase` writes either kind.

Captions travel through the batch stream as the dataset's `y`: each item's index (int64 (N,)) into
the dataset's `vocabulary`, its distinct captions as text. The recipe tokenises the vocabulary once,
so a training step turns the batch's ids into embeddings on the device, with nothing read back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset, build
from gankit.data.folder import load_image
from gankit.errors import BadInput

# Per class: (synonyms used in training, synonyms held out for evaluation).
NOUNS = {
    "fashion-mnist": [
        (["t-shirt", "tee", "top"], ["singlet"]),
        (["trousers", "pants", "pair of trousers"], ["slacks"]),
        (["pullover", "sweater", "jumper"], ["sweatshirt"]),
        (["dress", "frock", "sundress"], ["gown"]),
        (["coat", "jacket", "anorak"], ["parka"]),
        (["sandal", "pair of sandals", "strappy shoe"], ["flip-flop"]),
        (["shirt", "button-up shirt", "collared shirt"], ["blouse"]),
        (["sneaker", "running shoe", "pair of sneakers"], ["trainer"]),
        (["bag", "handbag", "tote"], ["purse"]),
        (["ankle boot", "boot", "pair of boots"], ["bootie"]),
    ],
    "digits": [
        ([f"digit {w}", f"number {i}", f"handwritten {w}"], [f"numeral {i}"])
        for i, w in enumerate(
            ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        )
    ],
}

# Attribute words: (training words, held-out words), each keyed by the attribute's value.
TONE = {"dark": (["dark", "dim"], ["shadowy"]), "light": (["light", "bright"], ["pale"])}
SIZE = {"large": (["large", "big"], ["huge"]), "small": (["small", "little"], ["tiny"])}

# {noun} and {adj} (attributes before the noun) or {attrs} (attributes as a phrase after it).
TEMPLATES = ["a {adj}{noun}", "a photo of a {adj}{noun}", "{adj}{noun}", "picture of a {adj}{noun}"]
HELD_OUT_TEMPLATES = ["{noun}, {attrs}", "the {noun} shown is {attrs}", "{noun} that looks {attrs}"]

FOREGROUND = 40  # pixel value (of 255) above which a pixel belongs to the item


@dataclass
class CaptionedDataset(Dataset):
    """A Dataset whose `y` holds caption ids into `vocabulary`; `labels` (the base set's classes)
    and `captions` (each item's text) are kept for evaluation and tests."""

    labels: Tensor | None = None
    captions: list[str] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)


def captioned(
    name: str, x: Tensor, texts: list[str], labels: Tensor | None = None
) -> CaptionedDataset:
    """Images `x` with one caption each: `y` indexes the distinct captions, in order of first
    appearance."""
    index = {text: i for i, text in enumerate(dict.fromkeys(texts))}
    ids = torch.tensor([index[text] for text in texts], dtype=torch.long)
    return CaptionedDataset(
        name, x, "image", ids, labels=labels, captions=texts, vocabulary=list(index)
    )


def measure(images: Tensor, labels: Tensor) -> tuple[list[str], list[str]]:
    """Per image, its tone (dark | light) and size (large | small) relative to its class."""
    fg = images.flatten(1).float()
    mask = fg > FOREGROUND
    area = mask.float().mean(1)
    tone = (fg * mask).sum(1) / mask.sum(1).clamp_min(1)
    tones, sizes = [""] * len(images), [""] * len(images)
    for c in labels.unique().tolist():
        idx = (labels == c).nonzero().flatten()
        mid_tone, mid_area = tone[idx].quantile(0.5), area[idx].quantile(0.5)
        for i in idx.tolist():
            tones[i] = "dark" if tone[i] < mid_tone else "light"
            sizes[i] = "large" if area[i] > mid_area else "small"
    return tones, sizes


def phrase(
    base: str,
    label: int,
    tone: str | None,
    size: str | None,
    rng: np.random.Generator,
    held_out_words: bool = False,
    held_out_order: bool = False,
) -> str:
    """One caption of class `label`; tone / size None leaves that attribute unsaid."""
    which = 1 if held_out_words else 0
    noun = _pick(NOUNS[base][label][which], rng)
    adjs = [_pick(table[v][which], rng) for table, v in ((SIZE, size), (TONE, tone)) if v]
    if held_out_order and adjs:
        template = _pick(HELD_OUT_TEMPLATES, rng)
        return template.format(noun=noun, attrs=" and ".join(adjs[::-1]))
    # Held-out order with no attribute to move: the noun alone is a phrasing seen in training.
    template = _pick(TEMPLATES, rng)
    return template.format(noun=noun, adj="".join(a + " " for a in adjs))


def _pick(options: list[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def describe(
    base: str, labels: Tensor, tones: list[str], sizes: list[str], seed: int, held_out: bool
) -> list[str]:
    """A caption per image: each attribute said half the time; held-out phrasings if asked."""
    rng = np.random.default_rng(seed)
    out = []
    for label, tone, size in zip(labels.tolist(), tones, sizes):
        say_tone, say_size = rng.random(2) < 0.5
        words, order = (rng.random() < 0.5, rng.random() < 0.5) if held_out else (False, False)
        # Every held-out caption holds something never seen in training: new words, or an
        # attribute phrase in a new place.
        if held_out and not (words or order):
            words = True
        if order and not (say_tone or say_size):
            say_tone = True
        out.append(
            phrase(
                base,
                label,
                tone if say_tone else None,
                size if say_size else None,
                rng,
                held_out_words=words,
                held_out_order=order,
            )
        )
    return out


def default_prompts(cfg: DataConfig, n: int) -> list[str]:
    """n captions for sample grids: each class's first name in turn, or the captions file's."""
    options = cfg.options
    if options.get("captions_file") and cfg.root:
        path = Path(cfg.root).expanduser() / options["captions_file"]
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        texts = list(dict.fromkeys(t.strip() for _, _, t in (x.partition("\t") for x in lines)))
        texts = [t for t in texts if t] or [""]
    else:
        texts = [synonyms[0] for synonyms, _ in NOUNS.get(options.get("base", "fashion-mnist"), [])]
    return [texts[i % len(texts)] for i in range(n)] if texts else [""] * n


@DATASETS.register("captions")
def captions(
    cfg: DataConfig,
    split: str,
    *,
    base: str = "fashion-mnist",
    captions_file: str | None = None,
    seed: int = 0,
) -> CaptionedDataset:
    """Images with captions: fashion-mnist or digits described, or data.root + captions_file.

    The test split is captioned with held-out phrasings (new word orders and synonyms).
    """
    if captions_file:
        return _from_file(cfg, captions_file)
    if base not in NOUNS:
        raise BadInput(
            f'data.options.base "{base}" has no caption vocabulary: use {" or ".join(NOUNS)}, '
            f"or give data.root and data.options.captions_file."
        )
    source = DataConfig(base, cfg.size, cfg.channels, cfg.root, cfg.download)
    ds = build(source, split)
    tones, sizes = measure(ds.x, ds.y)
    texts = describe(base, ds.y, tones, sizes, seed + (split == "test"), split == "test")
    return captioned(f"captions-{base}", ds.x, texts, ds.y)


def _from_file(cfg: DataConfig, captions_file: str) -> CaptionedDataset:
    """Lines "relative/path.png<TAB>caption" (an image may have several lines) under data.root."""
    if not cfg.root:
        raise BadInput("data.options.captions_file needs data.root: the folder of the images.")
    root = Path(cfg.root).expanduser()
    path = root / captions_file
    if not path.is_file():
        raise BadInput(f"captions file {path} not found: put 'image<TAB>caption' lines there.")
    images, texts, cache = [], [], {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        name, tab, text = line.partition("\t")
        if not tab or not text.strip():
            raise BadInput(f"{path} line {number}: expected 'image<TAB>caption', got {line!r}.")
        if name not in cache:
            try:
                cache[name] = load_image(root / name, cfg.size, cfg.channels or 3, 50_000_000)
            except Exception as e:
                raise BadInput(f"{path} line {number}: cannot read image {name} ({e}).") from None
        images.append(cache[name])
        texts.append(text.strip())
    if not images:
        raise BadInput(f"{path} holds no captions: add 'image<TAB>caption' lines.")
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return captioned("captions-folder", x, texts)
