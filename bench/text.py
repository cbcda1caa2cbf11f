"""Text to image: how well a StackGAN run follows captions it never saw, and what stage II adds.

    gankit train configs/stackgan-fashion.yaml --out runs/stackgan-fashion
    python bench/text.py runs/stackgan-fashion

class accuracy: for every class, captions written with (a) training phrasings, (b) held-out word
  orders, (c) held-out synonyms; gankit's own evaluator (the dataset's classifier) labels the
  generated images; accuracy = share labelled as the class the caption names (chance 10%).
test-split captions: the dataset's own held-out captions (the test split: each caption has a new
  synonym, a new word order, or both), one per test image, first --per-class x 10 images.
encoder ceiling: the text encoder alone, no G: each held-out caption goes to the class whose
  mean training-caption embedding is nearest (cosine); what a G that follows the encoder could
  reach at best, before the evaluator's own error.
snap: the temperature of the caption memory's lookup (0: captions go to G as encoded).
FID stage I vs stage II: evaluator-feature FID against real test images, stage I's images
  upsampled to the full side; the same latents and captions for both.
Prints JSON and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from gankit import api, data
from gankit.config import DataConfig
from gankit.data.captions import NOUNS, phrase
from gankit.metrics.distances import fid
from gankit.metrics.evaluator import load as load_evaluator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

KINDS = {"training phrasings": (False, False), "held-out orders": (False, True)}
KINDS["held-out synonyms"] = (True, False)


def captions_for(base: str, per_class: int, words: bool, order: bool, seed: int):
    """per_class captions for every class, attributes chosen at random; and their classes."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for c in range(len(NOUNS[base])):
        for _ in range(per_class):
            tone = rng.choice(["dark", "light"]) if order or rng.random() < 0.5 else None
            size = rng.choice(["large", "small"]) if rng.random() < 0.5 else None
            texts.append(phrase(base, c, tone, size, rng, words, order))
            labels.append(c)
    return texts, torch.tensor(labels)


@torch.no_grad()
def encoder_ceiling(encoder, base: str, per_class: int, seed: int) -> dict[str, float]:
    """Share of held-out captions whose embedding is nearest its own class's training centroid."""
    texts, labels = captions_for(base, per_class, False, False, seed + 2)
    train = torch.nn.functional.normalize(encoder(texts).float(), dim=1)
    centroids = torch.stack([train[labels == c].mean(0) for c in range(len(NOUNS[base]))])
    centroids = torch.nn.functional.normalize(centroids, dim=1)
    out = {}
    for kind, (words, order) in KINDS.items():
        if words or order:
            held, truth = captions_for(base, per_class, words, order, seed + 3)
            e = torch.nn.functional.normalize(encoder(held).float(), dim=1)
            out[kind] = round(float(((e @ centroids.T).argmax(1) == truth).float().mean()), 3)
    return out


def images(
    recipe, texts: list[str], stage: int, seed: int, snap: float, batch: int = 250
) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    z = recipe.noise(len(texts), g)
    chunks = [
        recipe.generate_from_text(z[i : i + batch], texts[i : i + batch], stage, snap=snap)
        for i in range(0, len(texts), batch)
    ]
    return api.to_uint8(torch.cat(chunks).cpu())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--per-class", type=int, default=100, help="captions per class and kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--snap",
        type=float,
        default=None,
        help="generate through the run's caption memory at this temperature (0: off; "
        "default: the run's recipe_options.snap)",
    )
    records.argument(p, "stackgan")
    a = p.parse_args()
    loaded = api.load(a.run)
    snap = loaded.recipe.opts["snap"] if a.snap is None else a.snap
    cfg = loaded.cfg.data
    base = cfg.options.get("base", "fashion-mnist")
    source = DataConfig(base, cfg.size, cfg.channels, cfg.root, cfg.download)
    evaluator = load_evaluator(source, loaded.spec.shape[0])
    result = {"run": str(a.run), "steps": loaded.step, "evaluator": evaluator.name}
    result["snap"], result["per_class"] = snap, a.per_class
    result["evaluator_accuracy"] = evaluator.meta.get("test_accuracy")
    for kind, (words, order) in KINDS.items():
        texts, labels = captions_for(base, a.per_class, words, order, a.seed)
        _, probs = evaluator.embed(images(loaded.recipe, texts, 2, a.seed, snap))
        right = probs.argmax(1) == labels
        result[f"accuracy, {kind}"] = float(right.float().mean())
        if words:  # which unseen nouns the encoder carries over, and which it maps elsewhere
            result["accuracy by held-out noun"] = {
                "/".join(held): round(float(right[labels == c].float().mean()), 3)
                for c, (_, held) in enumerate(NOUNS[base])
            }
    test = data.build(cfg, "test")
    n = a.per_class * len(NOUNS[base])
    _, probs = evaluator.embed(images(loaded.recipe, test.captions[:n], 2, a.seed, snap))
    result["accuracy, test-split captions"] = float(
        (probs.argmax(1) == test.labels[:n]).float().mean()
    )
    result["encoder ceiling"] = encoder_ceiling(
        loaded.recipe.modules["text"], base, a.per_class, a.seed
    )
    texts, _ = captions_for(base, a.per_class, False, False, a.seed + 1)
    real = test.x[: len(texts)]  # the captioned test split holds the base test images
    real_features, _ = evaluator.embed(real)
    for stage in (1, 2):
        features, _ = evaluator.embed(images(loaded.recipe, texts, stage, a.seed + 1, snap))
        result[f"fid stage {stage}"] = fid(real_features, features)
    result = records.append(a.record, result)
    print(json.dumps(result, indent=1))
    print("| metric | value |\n|---|---|")
    for k, v in result.items():
        print(f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |")


if __name__ == "__main__":
    main()
