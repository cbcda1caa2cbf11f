"""Fully connected G and D: the classic MNIST GAN (G 100-128-784 Tanh, D 784-128-1) by default."""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.nets.conditioning import LabelledDiscriminator, LabelledGenerator, check_conditioning
from gankit.nets.registry import NETS

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


class MLP(nn.Module):
    """Linear layers with an activation between them; G reshapes its output to the data's shape."""

    def __init__(
        self,
        sizes: list[int],
        activation: str,
        out_shape: tuple[int, ...],
        out_activation: nn.Module | None,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        if out_activation is not None:
            layers.append(out_activation)
        self.net = nn.Sequential(*layers)
        self.out_shape = out_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).view(-1, *self.out_shape)


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) noise in training only: Salimans et al.'s regulariser for a few-label D."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.std * torch.randn_like(x) if self.training else x


def hidden_layers(sizes: list[int], activation: str, noise: list[float]) -> nn.Sequential:
    """A conditional D's body phi: flattened input -> the last hidden layer, activated.

    noise[i] is the std of Gaussian noise added before layer i (missing entries: none).
    """
    stds = list(noise) + [0.0] * (len(sizes) - 1 - len(noise))
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b, std in zip(sizes[:-1], sizes[1:], stds):
        layers += [GaussianNoise(std)] if std else []  # absent at 0: keeps old weights' names
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


@NETS.register("mlp", traits=("class_head",))
def mlp(
    role: str,
    shape: tuple[int, ...],
    z_dim: int,
    num_classes: int = 0,
    *,
    hidden: list[int] | int = 128,
    activation: str = "relu",
    conditioning: str = "concat",
    embed_dim: int | None = None,
    noise: list[float] | float = 0.0,
) -> nn.Module:
    """Fully connected G/D; the classic MNIST example (one hidden layer of 128, ReLU).

    With num_classes > 0: G(z, y) with a class embedding of `embed_dim` (default: as many as
    classes), D(x, y) with the head `conditioning` (see gankit.nets.conditioning) and Gaussian
    `noise` (std before each layer, training only; SGAN's D uses [0.3, 0.5, 0.5, ...]).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {sorted(ACTIVATIONS)}")
    check_conditioning(conditioning)
    noise = [noise] if isinstance(noise, (int, float)) else list(noise)
    if any(noise) and (role == "g" or num_classes == 0) or any(std < 0 for std in noise):
        raise ValueError("noise (stds >= 0) is an option of the labelled D only")
    hidden = [hidden] if isinstance(hidden, int) else list(hidden)
    features = math.prod(shape)
    if role == "g":
        # Images live in [-1, 1], so G ends in Tanh; toy points are unbounded, so G is linear there.
        out = nn.Tanh() if len(shape) == 3 else None
        if num_classes == 0:
            return MLP([z_dim, *hidden, features], activation, shape, out)
        embed_dim = embed_dim or num_classes
        body = MLP([z_dim + embed_dim, *hidden, features], activation, shape, out)
        return LabelledGenerator(body, num_classes, embed_dim)
    if num_classes == 0:
        # D returns a logit; the loss applies the sigmoid where it needs a probability.
        return MLP([features, *hidden, 1], activation, (), None)
    inputs = features + (num_classes if conditioning == "concat" else 0)
    body = hidden_layers([inputs, *hidden], activation, noise)
    return LabelledDiscriminator(body, hidden[-1], num_classes, conditioning, planes=False)
