"""Progressive growing (Karras et al. 2018) as a recipe: the unconditional game, with G and D
(nets: progressive) trained from the smallest resolution up.

Schedule, in G steps: `stable_steps` at level 0; then for each next level `fade_steps` with alpha
rising linearly from 0 to 1, then `stable_steps` at alpha 1; the last level stays. The phase is a
pure function of the step count, kept in `modules["schedule"]`, so resume is exact. Real images
are area-downsampled to the current side and, while a level fades in, blended with their own
lower-resolution version the same way G's output is (the paper's section A.1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.config import Config
from gankit.core.state import RecipeState
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.nets.progressive import Growing
from gankit.recipes.base import RECIPES
from gankit.recipes.unconditional import Unconditional


def phase(step: int, levels: int, fade: int, stable: int) -> tuple[int, float]:
    """(level, alpha) after `step` G steps of the schedule."""
    if step < stable or levels == 1:
        return 0, 1.0
    t = step - stable
    level = 1 + t // (fade + stable)
    if level >= levels:
        return levels - 1, 1.0
    within = t % (fade + stable)
    return level, (within / fade if within < fade else 1.0)


def real_at(x: Tensor, side: int, alpha: float) -> Tensor:
    """Real images at `side`, blended with their side/2 version while a level fades in."""
    if x.shape[-1] != side:
        x = F.adaptive_avg_pool2d(x, side)
    if alpha < 1:
        low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
        x = torch.lerp(low, x, alpha)
    return x


class AtResolution:
    """A batch stream whose images come at the current phase's resolution."""

    def __init__(self, stream: BatchStream, side: int, alpha: float) -> None:
        self.stream, self.side, self.alpha = stream, side, alpha

    def next(self) -> tuple[Tensor, Tensor | None]:
        x, y = self.stream.next()
        return real_at(x, self.side, self.alpha), y


@RECIPES.register("progressive")
class Progressive(Unconditional):
    """ProGAN: resolution blocks added during training with fade-in (nets.g/d: progressive)."""

    supports_distributed = False  # not tried under torchrun
    options = {"fade_steps": 500, "stable_steps": 500}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)  # reads recipe_options into self.opts
        if self.opts["fade_steps"] < 0 or self.opts["stable_steps"] < 0:
            raise BadInput("recipe_options.fade_steps and stable_steps must be >= 0.")
        if self.opts["fade_steps"] + self.opts["stable_steps"] == 0:
            raise BadInput("recipe_options: give fade_steps or stable_steps a positive count.")
        if not all(isinstance(self.modules[role], Growing) for role in ("g", "d")):
            raise BadInput("recipe progressive needs nets.g: progressive and nets.d: progressive.")
        self.schedule = RecipeState(step=0).to(device)
        self.modules["schedule"] = self.schedule
        self.levels = self.modules["g"].levels

    def step(self, stream: BatchStream) -> dict[str, Tensor]:
        o = self.opts
        done = self.tick("schedule", "step")  # G steps before this one
        level, alpha = phase(done, self.levels, o["fade_steps"], o["stable_steps"])
        for net in self.modules.values():  # G, D and G's EMA copy
            if isinstance(net, Growing):
                net.set_phase(level, alpha)
        side = self.modules["g"].side(level)
        stats = super().step(AtResolution(stream, side, alpha))
        on = {"device": self.device}  # made on the device: no copy to it per step
        return stats | {"level": torch.full((), level, **on), "alpha": torch.full((), alpha, **on)}
