"""PatchNCE (Park et al. 2020, "Contrastive Learning for Unpaired Image-to-Image Translation").

A translator can satisfy an unpaired game and a cycle while drawing something unrelated to its
input (a class-permuting map, a texture that hides the input). PatchNCE ties each place of the
output to the same place of the input: G's encoder features of the output, at P sampled
positions, must pick out the input's features at the same position among the input's other P
positions (InfoNCE, temperature tau). A small MLP head per encoder layer maps features to the
space where the match is made; it trains with G.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PatchNCE(nn.Module):
    """loss(output features, input features) over the encoder layers, one head per layer."""

    def __init__(
        self, channels: Sequence[int], dim: int = 128, patches: int = 64, tau: float = 0.07
    ) -> None:
        super().__init__()
        self.patches, self.tau = patches, tau
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(c, dim), nn.ReLU(), nn.Linear(dim, dim)) for c in channels
        )

    def forward(
        self, outputs: Sequence[Tensor], inputs: Sequence[Tensor], rng: torch.Generator
    ) -> Tensor:
        """Mean over layers of the InfoNCE loss; the inputs' side is a fixed target (detached)."""
        losses = []
        for head, q, k in zip(self.heads, outputs, inputs):
            n, _, h, w = q.shape
            where = torch.randperm(h * w, generator=rng, device=rng.device)[: self.patches]
            where = where.to(q.device)
            query = F.normalize(head(q.flatten(2)[:, :, where].transpose(1, 2)), dim=-1)
            with torch.no_grad():  # the input's side is a fixed target: no graph through it
                key = F.normalize(head(k.flatten(2)[:, :, where].transpose(1, 2)), dim=-1)
            logits = query @ key.transpose(1, 2) / self.tau  # (n, P, P): the diagonal matches
            same_place = torch.arange(len(where), device=q.device).repeat(n)
            losses.append(F.cross_entropy(logits.flatten(0, 1), same_place))
        return torch.stack(losses).mean()
