"""A toy language with a known grammar: Dyck-2, balanced words over two kinds of brackets.

    S -> ( S ) S | [ S ] S | empty        (a sentence is a non-empty S, at most `length` tokens)

Sentences are stored as fixed-length one-hot rows: `length` positions over the vocabulary
END ( ) [ ], padded with END, flattened to points (N, length * 5) so the shared engine's batch
stream, checkpoints and `points` export carry them unchanged. `validity` decodes generated rows
(argmax per position) and measures the share that are grammatical, which a random generator
almost never is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.config import DataConfig
from gankit.data.dataset import DATASETS, Dataset

VOCAB = ("<end>", "(", ")", "[", "]")
END = 0
OPENS, CLOSES = {1: 2, 3: 4}, {2, 4}


def sentence(length: int, g: torch.Generator) -> list[int]:
    """A random grammatical sentence of 2..length tokens: open or close at random, by a stack."""
    pairs = int(torch.randint(1, length // 2 + 1, (1,), generator=g))
    stack: list[int] = []
    out: list[int] = []
    opened = 0
    while len(out) < 2 * pairs:
        must_close = opened == pairs
        if stack and (must_close or torch.rand(1, generator=g).item() < 0.5):
            out.append(OPENS[stack.pop()])
        else:
            token = 1 if torch.rand(1, generator=g).item() < 0.5 else 3
            stack.append(token)
            out.append(token)
            opened += 1
    return out


def to_rows(sentences: list[list[int]], length: int) -> torch.Tensor:
    """Token lists -> flattened one-hot rows (N, length * vocab), END-padded."""
    tokens = torch.full((len(sentences), length), END, dtype=torch.long)
    for i, s in enumerate(sentences):
        tokens[i, : len(s)] = torch.tensor(s)
    return F.one_hot(tokens, len(VOCAB)).float().flatten(1)


def to_tokens(rows: torch.Tensor) -> torch.Tensor:
    """Rows (N, length * vocab) of one-hots or scores -> tokens (N, length), argmax per position."""
    return rows.view(len(rows), -1, len(VOCAB)).argmax(-1)


def is_valid(tokens: list[int]) -> bool:
    """A non-empty balanced word, then only END tokens."""
    stack: list[int] = []
    ended = False
    for t in tokens:
        if t == END:
            ended = True
        elif ended:
            return False  # a token after the end
        elif t in OPENS:
            stack.append(t)
        elif not stack or OPENS[stack.pop()] != t:
            return False
    return tokens[:1] != [END] and not stack and len(tokens) > 0


def text(tokens: list[int]) -> str:
    return "".join(VOCAB[t] for t in tokens if t != END)


def validity(rows: torch.Tensor) -> dict[str, float]:
    """Share of grammatical sentences, and share of distinct ones among them (collapse shows)."""
    tokens = to_tokens(rows).tolist()
    valid = [tuple(t) for t in tokens if is_valid(t)]
    return {
        "valid": len(valid) / max(len(tokens), 1),
        "distinct_valid": len(set(valid)) / max(len(valid), 1),
    }


@DATASETS.register("grammar")
def grammar(
    cfg: DataConfig, split: str, *, n: int = 20_000, length: int = 12, seed: int = 0
) -> Dataset:
    """Dyck-2 sentences (balanced ( ) and [ ]), up to `length` tokens, as one-hot rows."""
    g = torch.Generator().manual_seed(seed + (1_000_003 if split == "test" else 0))
    return Dataset("grammar", to_rows([sentence(length, g) for _ in range(n)], length), "points")
