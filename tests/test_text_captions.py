"""Captions for images: deterministic, attributes measured right, held-out phrasings unseen."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import data
from gankit.config import DataConfig
from gankit.data import captions
from gankit.errors import BadInput


def digits_captions(split: str = "train", seed: int = 0) -> captions.CaptionedDataset:
    cfg = DataConfig(name="captions", size=8, options={"base": "digits", "seed": seed})
    return data.build(cfg, split)


def words_of(texts: list[str]) -> set[str]:
    return {w for t in texts for w in t.replace(",", " ").split()}


def test_captions_are_deterministic_and_seeded():
    a, b, c = digits_captions(), digits_captions(), digits_captions(seed=1)
    assert a.captions == b.captions and a.captions != c.captions
    assert [a.vocabulary[i] for i in a.y] == a.captions  # what the batch stream carries


def test_attributes_measured_against_the_class():
    # One class, four 4x4 images: bright/dim foreground x large/small area.
    images = torch.zeros(4, 1, 4, 4, dtype=torch.uint8)
    images[0, 0, :3, :3] = 250  # bright, large
    images[1, 0, :1, :2] = 250  # bright, small
    images[2, 0, :3, :3] = 90  # dim, large
    images[3, 0, :1, :2] = 90  # dim, small
    tones, sizes = captions.measure(images, torch.zeros(4, dtype=torch.long))
    assert tones == ["light", "light", "dark", "dark"]
    assert sizes == ["large", "small", "large", "small"]


def test_phrase_says_class_and_attributes():
    rng = np.random.default_rng(0)
    text = captions.phrase("fashion-mnist", 1, "dark", "large", rng)
    assert any(n in text for n in captions.NOUNS["fashion-mnist"][1][0])
    assert any(w in text.split() for w in captions.TONE["dark"][0])
    assert any(w in text.split() for w in captions.SIZE["large"][0])


def test_held_out_phrasings_never_seen_in_training():
    train, test = digits_captions("train"), digits_captions("test")
    seen = words_of(train.captions)
    held_words = words_of([h for _, held in captions.NOUNS["digits"] for h in held])
    held_words |= words_of(
        [w for t in (captions.TONE, captions.SIZE) for _, h in t.values() for w in h]
    )
    assert not (held_words - {str(i) for i in range(10)}) & seen
    assert set(test.captions).isdisjoint(train.captions)  # every test caption is a new phrasing
    orders = [c for c in test.captions if "," in c or " is " in c or " looks " in c]
    assert orders and len(orders) < len(test.captions)  # both new word orders and new words


def test_caption_ids_index_the_distinct_captions_in_order_of_first_appearance():
    texts = ["naïve café", "a dark tee", "naïve café", ""]
    ds = captions.captioned("captions-test", torch.zeros(4, 1, 2, 2, dtype=torch.uint8), texts)
    assert ds.vocabulary == ["naïve café", "a dark tee", ""] and ds.y.tolist() == [0, 1, 0, 2]


def test_folder_with_a_captions_file(tmp_path):
    for name, value in (("a.png", 0), ("b.png", 255)):
        Image.fromarray(np.full((10, 10), value, np.uint8)).save(tmp_path / name)
    (tmp_path / "captions.tsv").write_text("a.png\ta black square\nb.png\ta white square\n")
    cfg = DataConfig(
        name="captions", size=8, root=str(tmp_path), options={"captions_file": "captions.tsv"}
    )
    ds = data.build(cfg)
    assert ds.x.shape == (2, 3, 8, 8) and ds.captions == ["a black square", "a white square"]
    assert captions.default_prompts(cfg, 3) == (
        ["a black square", "a white square", "a black square"]
    )
    (tmp_path / "bad.tsv").write_text("a.png no tab here\n")
    with pytest.raises(BadInput, match="line 1"):
        data.build(
            DataConfig(name="captions", root=str(tmp_path), options={"captions_file": "bad.tsv"})
        )
