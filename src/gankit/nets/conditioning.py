"""Labels into networks: one wrapper for G(z, y) and one for D(x, y), around any network's body.

G: z joined with a learned class embedding (Mirza & Osindero feed y to both nets; an embedding is
   the learned form of their one-hot input).
D: a body phi(x) -> (B, F) features, then the head the recipe asks for (`conditioning`):
   concat      y joined to the input as one-hot (planes for images), then a linear logit (cGAN)
   projection  psi(phi(x)) + <embed(y), phi(x)>                      (Miyato & Koyama 2018)
   aux         a real/fake logit and K class logits from the same phi(x)  (ACGAN, Odena et al.)
   classes     K class logits l(x); the real/fake logit is logsumexp(l) (SGAN, Salimans et al.):
               with the fake class's logit fixed at 0, P(real) = Z / (Z + 1), Z = sum exp l.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CONDITIONING = ("concat", "projection", "aux", "classes")


def check_conditioning(conditioning: str) -> None:
    if conditioning not in CONDITIONING:
        raise ValueError(f"conditioning {conditioning!r} is not one of {CONDITIONING}")


def join_one_hot(x: Tensor, y: Tensor, num_classes: int, planes: bool) -> Tensor:
    """x with y's one-hot code appended: as constant planes (images) or to the flat vector."""
    code = F.one_hot(y, num_classes).to(x.dtype)
    if planes:
        return torch.cat([x, code[:, :, None, None].expand(-1, -1, *x.shape[2:])], 1)
    return torch.cat([x.flatten(1), code], 1)


class LabelledGenerator(nn.Module):
    """G(z, y) = body([z, embed(y)]): the body is any generator built for z_dim + embed_dim."""

    def __init__(self, body: nn.Module, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.body = body
        self.embed = nn.Embedding(num_classes, embed_dim)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.body(torch.cat([z, self.embed(y)], 1))


class LabelledDiscriminator(nn.Module):
    """D over a feature body phi: x -> (B, features), with the head `conditioning` names.

    `planes`: in concat mode, join y as image planes (conv bodies, built for C + K channels)
    rather than to the flattened input (MLP bodies, built for C*H*W + K inputs).
    """

    def __init__(
        self, body: nn.Module, features: int, num_classes: int, conditioning: str, planes: bool
    ) -> None:
        super().__init__()
        check_conditioning(conditioning)
        self.body, self.num_classes, self.conditioning, self.planes = (
            body,
            num_classes,
            conditioning,
            planes,
        )
        if conditioning != "classes":
            self.head = nn.Linear(features, 1)  # psi
        if conditioning == "projection":
            self.embed = nn.Embedding(num_classes, features)  # V: one row per class
        if conditioning in ("aux", "classes"):
            self.classes = nn.Linear(features, num_classes)

    @property
    def needs_labels(self) -> bool:
        return self.conditioning in ("concat", "projection")

    def phi(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """D's penultimate features (B, F): what feature matching compares."""
        if self.conditioning == "concat":
            x = join_one_hot(x, self._labels(y), self.num_classes, self.planes)
        return self.body(x)

    def heads(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(real/fake logit (B,), class logits (B, K) or None) from one pass through the body."""
        h = self.phi(x, y)
        if self.conditioning == "classes":
            class_logits = self.classes(h)
            return class_logits.logsumexp(1), class_logits
        logit = self.head(h).flatten()
        if self.conditioning == "projection":
            logit = logit + (self.embed(self._labels(y)) * h).sum(1)
        return logit, self.classes(h) if self.conditioning == "aux" else None

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.heads(x, y)[0]

    def classify(self, x: Tensor) -> Tensor:
        """Class logits (B, K); only D's with a class head (aux, classes) have them."""
        if self.conditioning not in ("aux", "classes"):
            raise ValueError(f"D with conditioning {self.conditioning} has no class head")
        return self.heads(x)[1]

    def _labels(self, y: Tensor | None) -> Tensor:
        if y is None:
            raise ValueError(f"D with conditioning {self.conditioning} needs labels: call D(x, y)")
        return y
