"""The adversarial step every recipe runs: the engine owns the loop, a recipe owns its losses.

The recipe contract (gankit.recipes.base.Recipe builds on `Engine`). A recipe declares

    modules      {"g": G, "d": D, ...}: everything a checkpoint holds
    optimizers   {"d": ..., "g": ...}: one per phase (`critic` and `generator` name them)
    ema_of       the generators the engine keeps an EMA copy of when the config keeps one
                 (train.ema or train.ema_kimg; "g")

and supplies its maths, with the objective written beside each loss:

    draw(stream) -> batch                 one training batch (and the step's draws: labels ...)
    fake(batch) -> fake                   G's output for it (a tensor or a tuple of them)
    d_loss(batch, fake) -> (loss, stats)  what D minimises; `fake` arrives detached
    g_loss(batch, fake) -> (loss, stats)  what G minimises

The engine runs each step the way StyleGAN2-ADA's training loop does (pytorch/examples dcgan
is its n_critic = 1 case):

    n_critic times:  batch = draw(stream); fake = fake(batch)   (a graph on the last one only)
                     phase D: d_loss(batch, fake.detach())
    phase G:         g_loss(batch, fake)                        (the last fake batch, reused)
    every (live, EMA) pair is updated; then end_step(), a recipe's own per-step upkeep

The EMA's decay per step is train.ema, or StyleGAN2-ADA's half-life: G's weights of now count
half in the average after train.ema_kimg thousand images, and with train.ema_rampup r the
half-life is at most r times the images the average has seen (`ema_beta`).

One phase: freeze every parameter another optimiser owns (G's gradients flow through D, not into
D's weights), call the loss with the frozen networks under DDP's no_sync (only the trained one's
gradients are all-reduced), zero, back-propagate, step the optimiser, and after D's phase apply
the penalty's weight constraint (WGAN's clipping). With train.on_nonfinite "skip" an update whose
loss is not finite is dropped on the device (the fused optimiser's found_inf), without a host
sync. Stats come back as detached device scalars, `d_loss` and `g_loss` included; the trainer
reads them, with the non-finite record, in one transfer at its log boundaries.

Variations, each a class attribute or a hook: `d_due()` False skips D's phase on a step
(pix2pix's adversarial_every); `g_first` runs G's phase before D's (CycleGAN); `critic = None`
trains G's phase alone (the VAE); lazy regularisation is `Recipe.penalty_of` inside a d_loss
(the penalty on one D step in loss.penalty_every, weighted by that count).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import Any

import torch
from torch import Tensor, nn

from gankit.config import TrainConfig, keeps_ema
from gankit.core import distributed
from gankit.core.state import RecipeState
from gankit.data import BatchStream
from gankit.losses import d_output_mean

Stats = dict[str, Tensor]
LossFn = Callable[[Any, Any], tuple[Tensor, Stats]]


EMA_CLOCK = "ema_clock"  # the module counting the G steps the EMA copies have averaged


def ema_name(name: str) -> str:
    """The module name of generator `name`'s EMA copy (checkpoints store it under this name)."""
    return f"{name}_ema"


def ema_beta(train: TrainConfig, images: int) -> float:
    """The EMA's decay on a step that `images` training images precede (StyleGAN2-ADA's
    training_loop): train.ema, or 0.5 ** (batch / half-life) with a half-life of train.ema_kimg
    thousand images, at most train.ema_rampup x images, so that the average of the first steps
    forgets the random start as fast as G leaves it. A Python float: no device sync."""
    if train.ema_kimg is None:
        assert train.ema is not None
        return train.ema
    half_life = train.ema_kimg * 1000
    if train.ema_rampup is not None:
        half_life = min(half_life, images * train.ema_rampup)
    return 0.5 ** (train.batch_size / max(half_life, 1e-8))


def _fill_missing_clock(module: nn.Module, state: dict, prefix: str, *args: object) -> None:
    # A checkpoint without the clock had no EMA (or was written before the clock existed): the
    # average starts at this resume, so its age starts at zero.
    for name, buffer in module.named_buffers():
        state.setdefault(prefix + name, torch.zeros_like(buffer))


def detached(fake: Any) -> Any:
    """`fake` without its graph: a tensor, or tuples and lists of them."""
    if isinstance(fake, Tensor):
        return fake.detach()
    if isinstance(fake, (tuple, list)):
        return type(fake)(detached(part) for part in fake)
    return fake


class Built(type):
    """Recipes are completed by the engine once their constructor has declared everything."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        recipe = super().__call__(*args, **kwargs)
        recipe.finish()
        return recipe


class Engine(metaclass=Built):
    """The step template; a Recipe supplies `draw`, `fake`, `d_loss` and `g_loss`."""

    ema_of: tuple[str, ...] = ("g",)
    critic: str | None = "d"  # D's optimiser; None: no adversary, G's phase alone
    generator: str = "g"  # G's optimiser
    g_first = False  # G's phase before D's, one D step per G step (CycleGAN)
    log_phase_losses = True  # report each phase's loss as d_loss / g_loss

    # set by the Recipe constructor
    cfg: Any
    device: torch.device
    game: Any
    penalty: Any
    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    wrapped: list[nn.Module]  # the DDP-wrapped networks (none in one process)
    # Recipe.tick: add one to a checkpointed counter, answered from its Python copy
    tick: Callable[[str, str], int]

    # -- the recipe's part --------------------------------------------------------------------
    def draw(self, stream: BatchStream) -> Any:
        return stream.next()

    def fake(self, batch: Any) -> Any:
        raise NotImplementedError

    def d_loss(self, batch: Any, fake: Any) -> tuple[Tensor, Stats]:
        raise NotImplementedError

    def g_loss(self, batch: Any, fake: Any) -> tuple[Tensor, Stats]:
        raise NotImplementedError

    def d_due(self) -> bool:
        """Whether D trains on this step (every step unless a recipe spaces its D steps out)."""
        return True

    def end_step(self) -> None:
        """A recipe's own upkeep once per step (stabilisers' clocks, say); none by default."""

    # -- the engine's part --------------------------------------------------------------------
    def finish(self) -> None:
        """Called once after the constructor: the EMA copies and the phases' parameter sets."""
        if keeps_ema(self.cfg):
            for name in self.ema_of:
                average = copy.deepcopy(self.modules[name]).eval().requires_grad_(False)
                self.modules[ema_name(name)] = average
        self.averages = [
            (self.modules[n], self.modules[ema_name(n)])
            for n in self.ema_of
            if ema_name(n) in self.modules
        ]
        if self.averages:  # the average's age, for the ramp; kept with any EMA so that a resume
            # switching the ramp on finds it, and checkpointed so that a resume keeps the ramp
            clock = RecipeState(g_steps=0).to(self.device)
            clock.register_load_state_dict_pre_hook(_fill_missing_clock)
            self.modules[EMA_CLOCK] = clock
        self.params = {
            name: [p for group in opt.param_groups for p in group["params"]]
            for name, opt in self.optimizers.items()
        }
        self.frozen = {  # per optimiser: the parameters every other one owns
            name: [p for other, ps in self.params.items() if other != name for p in ps]
            for name in self.params
        }
        self.skip_nonfinite = self.cfg.train.on_nonfinite == "skip"
        self.skipped_updates = torch.zeros((), dtype=torch.long, device=self.device)
        critic_params = self.params.get(self.critic or "", [])
        self.constrained = nn.ParameterList(critic_params)  # what D's weight constraint clamps
        self.last_d_stats: Stats = {}
        self.d_ran = False

    def step(self, stream: BatchStream) -> Stats:
        """One G step with its n_critic D steps; returns detached scalar stats."""
        self.d_ran = self.critic is not None and self.d_due()
        d_first = self.d_ran and not self.g_first
        n = self.cfg.train.n_critic if d_first else 1
        d_stats = self.last_d_stats
        for i in range(n):
            batch = self.draw(stream)
            with torch.set_grad_enabled(i == n - 1):  # only the G step's fake needs a graph
                fake = self.fake(batch)
            if d_first:
                d_stats = self.phase("d", self.d_loss, batch, detached(fake))
        g_stats = self.phase("g", self.g_loss, batch, fake)
        if self.d_ran and self.g_first:
            d_stats = self.phase("d", self.d_loss, batch, detached(fake))
        self.update_averages()
        self.end_step()
        self.last_d_stats = d_stats  # logged again on steps without a D phase
        return d_stats | g_stats if not self.g_first else g_stats | d_stats

    def phase(self, which: str, loss_fn: LossFn, batch: Any, fake: Any) -> Stats:
        """One optimiser step of phase `which` ("d" or "g") on loss_fn(batch, fake)."""
        name = self.critic if which == "d" else self.generator
        assert name is not None
        frozen = self.frozen[name]
        for p in frozen:
            p.requires_grad_(False)
        try:
            with ExitStack() as calls:
                for net in self.wrapped:  # a DDP network this phase does not train (frozen)
                    if not any(p.requires_grad for p in net.parameters()):
                        calls.enter_context(distributed.no_sync(net))
                loss, stats = loss_fn(batch, fake)
            self.descend(name, loss)
        finally:
            for p in frozen:
                p.requires_grad_(True)
        if which == "d" and self.penalty.constraint is not None:
            self.penalty.constraint(self.constrained, self.cfg.loss.clip)
        return ({f"{which}_loss": loss.detach()} if self.log_phase_losses else {}) | stats

    def descend(self, name: str, loss: Tensor) -> None:
        """Zero, back-propagate and step optimiser `name`; a non-finite loss's update is dropped
        when train.on_nonfinite is skip (on the device where the optimiser is fused-capable)."""
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        if not self.skip_nonfinite:
            loss.backward()
            opt.step()
            return
        bad = ~torch.isfinite(loss.detach())
        self.skipped_updates += bad
        if not all("fused" in group for group in opt.param_groups):  # rmsprop: no found_inf
            if bool(bad):  # the one host sync per update this optimiser needs to skip
                return
            loss.backward()
            opt.step()
            return
        loss.backward()
        for group in opt.param_groups:
            group["fused"] = True  # the fused kernels leave weights and moments alone on found_inf
        opt.found_inf = bad.float()  # type: ignore[attr-defined]
        opt.step()

    @torch.no_grad()
    def update_averages(self) -> None:
        """theta_ema <- lerp(theta_ema, theta, 1 - beta) for every registered pair, with this
        step's beta from `ema_beta`."""
        if not self.averages:
            return
        # The images averaged before this step. train.batch_size is the whole job's batch under
        # torchrun too (gankit.core.distributed), as StyleGAN2-ADA's batch_size is, so no world
        # size enters; a resume that changes the batch counts the earlier steps at the new one.
        images = self.tick(EMA_CLOCK, "g_steps") * self.cfg.train.batch_size
        beta = ema_beta(self.cfg.train, images)
        for live, average in self.averages:
            torch._foreach_lerp_(list(average.parameters()), list(live.parameters()), 1 - beta)
            # Buffers are copied from G, not averaged (as StyleGAN2-ADA does): they are running
            # records, not learned weights: batch-norm statistics, already averages over recent
            # batches, and integer counters such as num_batches_tracked, which lerp cannot blend.
            for b_average, b in zip(average.buffers(), live.buffers()):
                b_average.copy_(b)

    def generator_net(self, name: str = "g", ema: bool = True) -> nn.Module:
        """Generator `name` for sampling, evaluation, export and translation: its EMA copy when
        one is kept and `ema`, else the live network. The one place that makes this choice."""
        if ema and ema_name(name) in self.modules:
            return self.modules[ema_name(name)]
        return self.modules[name]

    def ema_pairs(self) -> Iterable[tuple[str, str]]:
        """(live name, EMA name) of every generator averaged in this run."""
        return [(n, ema_name(n)) for n in self.ema_of if ema_name(n) in self.modules]

    def d_outputs(self, real: Tensor, fake: Tensor) -> Stats:
        """D(x) and D(G(z)) as a user reads them (probabilities for probabilistic games)."""
        return {
            "d_real": d_output_mean(self.game, real.detach()),
            "d_fake": d_output_mean(self.game, fake.detach()),
        }


class NonFiniteRecord:
    """The first step whose stats were not finite, recorded on the device: checked every step
    without a host sync, read with the logged values."""

    def __init__(self, device: torch.device, step: int) -> None:
        self.step = torch.full((), step, dtype=torch.long, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)

    def observe(self, stats: Stats) -> None:
        self.step += 1
        if not stats:
            return
        values = [v.detach().float().reshape(()).to(self.step.device) for v in stats.values()]
        finite = torch.isfinite(torch.stack(values))
        new = (self.first_bad < 0) & ~finite.all()
        self.first_bad.copy_(torch.where(new, self.step, self.first_bad))

    def reset(self, step: int) -> None:
        self.step.fill_(step)
        self.first_bad.fill_(-1)


def read_all(values: dict[str, Tensor]) -> dict[str, float]:
    """Device scalars as Python floats, in one transfer."""
    if not values:
        return {}
    device = next(iter(values.values())).device
    stacked = torch.stack([v.detach().float().reshape(()).to(device) for v in values.values()])
    return dict(zip(values, stacked.tolist()))
