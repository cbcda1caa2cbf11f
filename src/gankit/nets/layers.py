"""Layers the newer architectures share, one parameterised piece each.

equalize               equalised learning rate (Karras et al. 2018): weights drawn N(0, 1) and
                       scaled by He's constant at run time, so Adam's per-weight steps are alike.
PixelNorm              each pixel's feature vector scaled to unit mean square (ProGAN's G).
MinibatchStd           the batch's per-feature standard deviation appended as one more feature
                       map, so D can see a collapsed (too similar) batch (ProGAN's D).
MinibatchDiscrimination  Salimans et al. 2016: per-sample closeness to the rest of the batch,
                       appended to D's features for the same reason (a learned version).
Packed                 PacGAN (Lin et al. 2018): D judges m samples at once, all real or all
                       fake, so a G that covers few modes shows in the group's lack of variety.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gankit.errors import BadInput


class _Scale(nn.Module):
    """The parametrisation behind `equalize`: weight = raw weight * c."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = c

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.c


def equalize(layer: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    """Give a Linear or Conv2d an equalised learning rate, in place; returns it.

    The stored weight is N(0, 1) and the forward pass multiplies by gain / sqrt(fan_in), He's
    initialisation moved from the weights to the graph. Biases start at zero.
    """
    fan_in = layer.weight[0].numel()
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0)
        if layer.bias is not None:
            layer.bias.zero_()
    parametrize.register_parametrization(layer, "weight", _Scale(gain / math.sqrt(fan_in)))
    return layer


class PixelNorm(nn.Module):
    """x / sqrt(mean over channels of x^2 + eps), per pixel (or per vector for 2-D input)."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + self.eps)


class MinibatchStd(nn.Module):
    """Append one feature map: the mean over features of the std over a group of samples.

    Groups of `group_size` samples (the whole batch when it does not divide) share the value.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        g = self.group_size if b % self.group_size == 0 else b
        y = x.view(g, -1, c, h, w)  # groups interleaved as in the paper's code
        std = (y.var(0, unbiased=False) + 1e-8).sqrt()  # (B/g, C, H, W)
        std = std.mean((1, 2, 3)).view(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, std], 1)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016, section 3.2: o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_1), M = f(x) T.

    Input (B, F) features, output (B, kernels): how close each sample is to the rest of its batch
    in `kernels` learned projections of `kernel_dim` numbers.
    """

    def __init__(self, features: int, kernels: int = 32, kernel_dim: int = 8) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(features, kernels * kernel_dim) * 0.1)

    def forward(self, h: Tensor) -> Tensor:
        m = (h @ self.T).view(-1, self.kernels, self.kernel_dim)  # (B, K, D)
        l1 = (m[:, None] - m[None]).abs().sum(3)  # (B, B, K)
        return torch.exp(-l1).sum(1) - 1  # minus each sample's distance to itself, exp(0)


class MinibatchDiscriminationHead(nn.Module):
    """D's last layer with minibatch features: head(h) + w . o(h), o = MinibatchDiscrimination.

    A linear head on [h, o(h)] is exactly head(h) + w . o(h), so wrapping the existing head keeps
    any network's own head (a linear, or a conv over the last feature map) as it was.
    """

    def __init__(self, head: nn.Module, features: int, kernels: int) -> None:
        super().__init__()
        self.head = head
        self.mbd = MinibatchDiscrimination(features, kernels)
        self.out = nn.Linear(kernels, 1, bias=False)
        nn.init.zeros_(self.out.weight)  # starts as the plain head

    def forward(self, h: Tensor) -> Tensor:
        logits = self.head(h)
        extra = self.out(self.mbd(h.flatten(1)))
        return logits + extra.view(-1, *([1] * (logits.dim() - 1)))


class Packed(nn.Module):
    """D over groups of `pack` samples: (B, C, ...) -> body((B / pack, pack * C, ...)).

    The body is built for pack times the channels (features); consecutive samples form a group,
    so a batch of only real or only fake samples gives groups of only real or only fake ones.
    """

    def __init__(self, body: nn.Module, pack: int) -> None:
        super().__init__()
        self.body, self.pack = body, pack

    def forward(self, x: Tensor) -> Tensor:
        if len(x) % self.pack:
            raise BadInput(
                f"D packs {self.pack} samples per group (nets.d_options.pack) but got a batch of "
                f"{len(x)}: make train.batch_size a multiple of {self.pack}."
            )
        return self.body(x.reshape(len(x) // self.pack, self.pack * x.shape[1], *x.shape[2:]))
