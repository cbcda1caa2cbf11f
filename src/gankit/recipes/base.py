"""What every recipe shares: building G and D from the config, optimisers, noise, penalties.

The training step itself is the engine's (gankit.train.step: the recipe contract is there); a
recipe supplies its losses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit import nets
from gankit.config import Config
from gankit.core import distributed
from gankit.core.state import RecipeState
from gankit.data import DataSpec
from gankit.errors import BadInput, closest
from gankit.losses import LOSSES, Game
from gankit.penalties import PENALTIES, Penalty
from gankit.registry import Registry
from gankit.train.step import Engine

RECIPES = Registry("recipe")


class Recipe(Engine):
    """Owns the networks, optimisers and losses of one GAN family.

    Subclasses build their networks and supply `draw`, `fake`, `d_loss` and `g_loss` (see
    gankit.train.step); everything a checkpoint must hold is in `modules`, `optimizers` and
    `generators` (the random streams).
    """

    supports_distributed = False  # draws all its training randomness through `distributed`
    samples_from_noise = True  # G(z) draws samples (not so for image-to-image translation)
    real_in_g_loss = False  # g_loss passes D(x) to the game: relativistic games (rpgan) can train

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        self.spec = spec
        self.game: Game = LOSSES.get(cfg.loss.name)()
        if self.game.relativistic and not self.real_in_g_loss:
            others = [n for n in RECIPES.names() if RECIPES.get(n).real_in_g_loss]
            others.remove("unconditional")
            raise BadInput(
                f"loss.name {cfg.loss.name} needs the real batch in G's loss; recipe "
                f"{cfg.recipe} does not pass it: use recipe unconditional (or "
                f"{', '.join(others)}), or another game."
            )
        auto = self.game.default_penalty or "none"
        name = auto if cfg.loss.penalty == "auto" else cfg.loss.penalty
        self.penalty: Penalty = PENALTIES.get(name)()
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.rng = torch.Generator(device=device).manual_seed(cfg.train.seed + 1)
        # torch's own generator feeds dropout and noise layers: checkpointed too, for exact resume
        self.generators = {"noise": self.rng, "torch": default_generator(device)}
        if distributed.world() > 1 and not self.supports_distributed:
            raise BadInput(
                f"recipe {cfg.recipe} does not run under torchrun yet (only unconditional "
                f"does): train it in one process."
            )
        self.wrapped: list[nn.Module] = []  # DDP-wrapped networks, for the engine's no_sync
        if cfg.loss.penalty_every > 1:  # counts D steps for the lazy penalty; checkpointed
            self.modules["penalty_clock"] = RecipeState(d_steps=0).to(device)
        self._counts: dict[str, int] = {}  # Python copies of the clocks (no device sync per step)

    # -- building ---------------------------------------------------------------------------
    def build_net(self, role: str, num_classes: int = 0) -> nn.Module:
        n = self.cfg.nets
        options = dict(n.g_options if role == "g" else n.d_options)
        net = nets.build(getattr(n, role), role, self.spec.shape, n.z_dim, num_classes, **options)
        return net.to(self.device)

    def optimizer(self, net: nn.Module, lr: float) -> torch.optim.Optimizer:
        o = self.cfg.optim
        params = [p for p in net.parameters() if p.requires_grad]
        if o.name == "adam":
            return torch.optim.Adam(params, lr=lr, betas=tuple(o.betas))
        if o.name == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        if o.name == "sgd":
            return torch.optim.SGD(params, lr=lr)
        raise BadInput(f'unknown optimiser "{o.name}" in optim.name: use adam, rmsprop or sgd.')

    def penalty_of(self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        """The configured gradient penalty, weighted, or zero. With loss.penalty_every = k it runs
        on one D step in k, weighted k (lazy regularisation, StyleGAN2): k times fewer double
        backwards for about the same regularisation."""
        every = self.cfg.loss.penalty_every
        if self.penalty.term is None or not self._penalty_due(every):
            return torch.zeros((), device=self.device)
        weight = every * self.cfg.loss.penalty_weight
        return weight * self.penalty.term(critic, real, fake, self.rng)

    def _penalty_due(self, every: int) -> bool:
        return self.one_in(every, "penalty_clock", "d_steps")

    def one_in(self, every: int, clock: str, count: str) -> bool:
        """True on one call in `every`, counted in the checkpointed RecipeState modules[clock]
        (its value `count`), so that a resumed run keeps the rhythm."""
        if every == 1:
            return True
        return self.tick(clock, count) % every == 0

    def tick(self, clock: str, count: str) -> int:
        """Add one to the checkpointed counter modules[clock].count; returns its value before.
        A Python copy answers (read once after a restore), so no call waits on the device."""
        state = self.modules[clock]
        if clock not in self._counts:  # first call, after any resume restored the clock
            self._counts[clock] = int(state.value(count))
        value = self._counts[clock]
        self._counts[clock] += 1
        getattr(state, count).add_(1)  # on the device: no host-to-device copy per step
        return value

    def after_restore(self) -> None:
        """Forget the Python copies of checkpointed counters: a restore has replaced them."""
        self._counts.clear()

    # -- using ------------------------------------------------------------------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n latents; from the training stream (global batch, this rank's slice) unless a
        generator of the caller's is given (sampling, evaluation)."""
        if generator is not None:
            return torch.randn(n, self.cfg.nets.z_dim, device=self.device, generator=generator)
        return distributed.draw("normal", (n, self.cfg.nets.z_dim), self.rng, self.device)

    def wrap(self, net: nn.Module) -> nn.Module:
        """The network as training calls it: NHWC and compiled when asked, DDP-wrapped when the
        job runs on several ranks. The module itself (what checkpoints save) stays in
        `self.modules`; penalties use that eager module, since torch.compile has given wrong
        double-backward gradients."""
        t = self.cfg.train
        if t.channels_last:
            net = net.to(memory_format=torch.channels_last)
        net = distributed.wrap(net, t.sync_batchnorm)
        if distributed.world() > 1:
            self.wrapped.append(net)
        if not t.compile:
            return net
        if t.cuda_graphs and self.device.type != "cuda":
            raise BadInput("train.cuda_graphs needs a CUDA device, and this run is on the CPU.")
        # "reduce-overhead" is torch.compile's CUDA-graph mode (static shapes: fixed batches)
        return torch.compile(net, mode="reduce-overhead" if t.cuda_graphs else None)

    def save_extra_pictures(self, z: Tensor, samples: Path, step: int) -> None:
        """Grids a family shows beside the sample grid (per class, say); none by default."""

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """Samples in the data's range from latents z, with G in eval mode."""
        g = self.generator_net("g", ema)
        was_training = g.training
        g.eval()
        out = g(z) if labels is None else g(z, labels)
        g.train(was_training)
        return out


def default_generator(device: torch.device) -> torch.Generator:
    """The generator that torch.randn_like and dropout use on `device`."""
    if device.type == "cuda":
        return torch.cuda.default_generators[device.index or torch.cuda.current_device()]
    return torch.default_generator


def read_options(cfg: Config, defaults: dict[str, Any]) -> dict[str, Any]:
    """recipe_options over the recipe's defaults; unknown keys and wrong types raise BadInput."""
    values = dict(defaults)
    for key, value in cfg.recipe_options.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise BadInput(
                f'recipe {cfg.recipe} has no option "recipe_options.{key}".'
                f"{closest(key, defaults)} Its options: {known}."
            )
        kind = type(defaults[key])
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadInput(
                f"recipe_options.{key} = {value!r} has the wrong type: expected {kind.__name__}."
            )
        values[key] = value
    return values
