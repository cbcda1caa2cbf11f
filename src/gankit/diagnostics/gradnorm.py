"""The generator's gradient norm, measured on the side without changing training.

Used by the doctor (at log steps) and the labs: a separate forward and backward on a small batch
of latents drawn from the caller's own torch.Generator. `torch.autograd.grad` returns the gradient
instead of writing `.grad`, and the networks' buffers (batch-norm statistics, spectral-norm power
iterates) are put back afterwards, so the optimisers, the weights and the random streams of the
run are exactly as they were: a resumed run stays bit-identical.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn


@contextlib.contextmanager
def frozen_buffers(*modules: nn.Module) -> Iterator[None]:
    """Run a block in training mode and restore every buffer of `modules` after it."""
    saved = [(b, b.detach().clone()) for m in modules for b in m.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)


def gradient_norm(loss: Tensor, params: list[nn.Parameter]) -> float:
    """||d loss / d params||_2 over all of `params` (no `.grad` is touched)."""
    params = [p for p in params if p.requires_grad]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    total = sum(float(g.double().pow(2).sum()) for g in grads if g is not None)
    return total**0.5


def generator_gradient_norm(
    g: nn.Module,
    d: nn.Module,
    g_loss: Callable[..., Tensor],
    z: Tensor,
    real: Tensor | None = None,
) -> float:
    """||grad_theta_G g_loss(D(G(z)), D(x))|| for an unconditional G and D, without side effects
    (`real`: a batch x that a relativistic game pairs with the fakes; other games ignore it)."""
    d_flags = [p.requires_grad for p in d.parameters()]
    with frozen_buffers(g, d):
        d.requires_grad_(False)  # gradients flow through D's input only
        try:
            loss = g_loss(d(g(z))) if real is None else g_loss(d(g(z)), d(real))
            return gradient_norm(loss, list(g.parameters()))
        finally:
            for p, flag in zip(d.parameters(), d_flags):
                p.requires_grad_(flag)
