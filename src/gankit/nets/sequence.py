"""Networks for short token sequences stored as flattened one-hot rows (N, length * vocab).

G is autoregressive: a GRU cell reads z and the token it emitted last, and emits the next token by
straight-through Gumbel-softmax (Jang et al. 2017; Kusner & Hernandez-Lobato 2016). Why this and
not REINFORCE (SeqGAN): the token is an exact one-hot in the forward pass, so D sees generated
sentences in exactly the data's format, while the backward pass uses the softmax's gradient, so
G learns from D's gradient like every other generator here, through the shared engine's step;
REINFORCE would need per-token rewards from Monte Carlo rollouts, a separate training step and
far more samples for the same variance, which a CPU minute does not buy.

Randomness: G's input may carry its own Gumbel noise after z (recipe `sequence` draws it with the
run's random stream, so sampling and resuming are exact); given z alone, G draws it from torch's
global generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.nets.registry import NETS


def gumbel_from_normal(x: Tensor) -> Tensor:
    """Standard Gumbel variates from standard normal ones: -log(-log(Phi(x)))."""
    u = (0.5 * (1 + torch.erf(x / 2**0.5))).clamp(1e-6, 1 - 1e-6)
    return -torch.log(-torch.log(u))


class GumbelGRUGenerator(nn.Module):
    def __init__(self, z_dim: int, length: int, vocab: int, hidden: int, tau: float) -> None:
        super().__init__()
        self.z_dim, self.length, self.vocab, self.tau = z_dim, length, vocab, tau
        self.start = nn.Linear(z_dim, hidden)
        self.cell = nn.GRUCell(vocab + z_dim, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, z: Tensor) -> Tensor:
        latent, extra = z[:, : self.z_dim], z[:, self.z_dim :]
        if extra.shape[1] == self.length * self.vocab:
            gumbel = gumbel_from_normal(extra).view(-1, self.length, self.vocab)
        else:
            gumbel = (
                -torch.empty(len(z), self.length, self.vocab, device=z.device).exponential_().log()
            )
        h = torch.tanh(self.start(latent))
        token = z.new_zeros(len(z), self.vocab)
        tokens = []
        for t in range(self.length):
            h = self.cell(torch.cat([token, latent], 1), h)
            soft = F.softmax((self.out(h) + gumbel[:, t]) / self.tau, dim=1)
            hard = F.one_hot(soft.argmax(1), self.vocab).to(soft.dtype)
            token = hard + soft - soft.detach()  # forward: one-hot; backward: softmax's gradient
            tokens.append(token)
        return torch.stack(tokens, 1).flatten(1)


class GRUDiscriminator(nn.Module):
    """A bidirectional GRU over the one-hot tokens; its final states -> one logit."""

    def __init__(self, length: int, vocab: int, hidden: int) -> None:
        super().__init__()
        self.length, self.vocab = length, vocab
        self.gru = nn.GRU(vocab, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        _, h = self.gru(x.view(len(x), self.length, self.vocab))
        return self.head(torch.cat([h[0], h[1]], 1)).flatten()


@NETS.register("seq-gru")
def seq_gru(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    vocab: int = 5,
    hidden: int = 64,
    tau: float = 1.0,
) -> nn.Module:
    """GRU G (straight-through Gumbel-softmax tokens) / bidirectional GRU D over one-hot tokens."""
    if len(shape) != 1 or shape[0] % vocab:
        raise ValueError(f"seq-gru needs flat one-hot rows of length * {vocab}, got shape {shape}")
    length = shape[0] // vocab
    if role == "g":
        return GumbelGRUGenerator(z_dim, length, vocab, hidden, tau)
    return GRUDiscriminator(length, vocab, hidden)
