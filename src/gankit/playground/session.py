"""One playground session: a real gankit recipe on a 2D toy, stepped live, and what it looks like.

The state a page draws: real and generated points, D's decision surface on a grid, where G's loss
pushes each generated point (minus its gradient), and the recent losses. Every array has a fixed
size, so a session's memory does not grow however long it trains.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from gankit.errors import BadInput, closest
from gankit.lab import toy
from gankit.losses import LOSSES
from gankit.penalties import PENALTIES

DATASETS = ("ring", "grid", "swiss-roll")  # the 2D toys of gankit.data.toy
LR_RANGE = (1e-6, 1.0)
N_CRITIC_RANGE = (1, 10)
POINTS = 256  # real and generated points shown
GRID = 32  # D's surface is drawn as GRID x GRID cells
HISTORY = 500  # loss records kept, one a step


@dataclass(frozen=True)
class Settings:
    """What the page's controls choose; a change rebuilds the session."""

    dataset: str = "ring"
    loss: str = "non-saturating"
    penalty: str = "auto"  # the game's own (clip for wgan, gp for wgan-gp), or a penalty's name
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    n_critic: int = 1

    def updated(self, changes: dict[str, Any]) -> Settings:
        """A copy with `changes` applied; the first bad name or value raises BadInput."""
        names = [f.name for f in dataclasses.fields(self)]
        for key in changes:
            if key not in names:
                raise BadInput(
                    f'unknown setting "{key}".{closest(key, names)} Settings: {", ".join(names)}.'
                )
        return dataclasses.replace(self, **{k: _checked(k, v) for k, v in changes.items()})


def _checked(key: str, value: Any) -> Any:
    if key in ("lr_g", "lr_d", "n_critic"):
        low, high = N_CRITIC_RANGE if key == "n_critic" else LR_RANGE
        kind = int if key == "n_critic" else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
            raise BadInput(
                f"{key} = {value!r} is out of range: use a number in [{low:g}, {high:g}]."
            )
        return value if key == "n_critic" else float(value)
    if not isinstance(value, str):
        raise BadInput(f"{key} = {value!r}: give a name.")
    if key == "dataset" and value not in DATASETS:
        raise BadInput(
            f'unknown dataset "{value}".{closest(value, DATASETS)} '
            f"The playground's 2D toys: {', '.join(DATASETS)}."
        )
    if key == "loss":
        LOSSES.get(value)  # unknown names raise BadInput with the closest one
    if key == "penalty" and value != "auto":
        PENALTIES.get(value)
    return value


def options() -> dict[str, Any]:
    """What the controls may choose, and the defaults."""
    return {
        "datasets": list(DATASETS),
        "losses": LOSSES.names(),
        "penalties": ["auto", *PENALTIES.names()],
        "lr": list(LR_RANGE),
        "n_critic": list(N_CRITIC_RANGE),
        "defaults": dataclasses.asdict(Settings()),
    }


class Session:
    """A recipe training on a toy, watched through fixed latents and a fixed grid."""

    def __init__(self, settings: Settings, seed: int = 0) -> None:
        self.settings = settings
        self.recipe, self.stream, ds = toy.build(_config(settings, seed))
        self.real = ds.x[:POINTS]  # the toys are drawn at random, so the first points are a sample
        half = 1.25 * float(ds.x.abs().max())
        self.bounds = (-half, half)
        centres = -half + (torch.arange(GRID) + 0.5) * (2 * half / GRID)
        ys, xs = torch.meshgrid(centres, centres, indexing="ij")  # row r is y = centres[r]
        self.grid = torch.stack([xs.flatten(), ys.flatten()], 1)
        # The same latents every time, so the page shows the same points moving.
        self.z = self.recipe.noise(POINTS, torch.Generator().manual_seed(seed))
        self.steps = 0
        self.history: deque[tuple[int, float | None, float | None]] = deque(maxlen=HISTORY)
        self.diverged = False

    def step(self) -> None:
        """One generator step with its n_critic D steps: the recipe's own training step."""
        stats = self.recipe.step(self.stream)
        d_loss, g_loss = float(stats["d_loss"]), float(stats["g_loss"])
        self.steps += 1
        self.history.append((self.steps, _number(d_loss), _number(g_loss)))
        self.diverged = not (math.isfinite(d_loss) and math.isfinite(g_loss))

    def state(self) -> dict[str, Any]:
        fake = self.recipe.generate(self.z)
        return {
            "settings": dataclasses.asdict(self.settings),
            "step": self.steps,
            "diverged": self.diverged,
            "bounds": list(self.bounds),
            "grid": GRID,
            "surface": _rounded(self.surface()),
            "real": _rounded(self.real),
            "fake": _rounded(fake),
            "arrows": _rounded(self.g_directions(fake)),
            "history": list(self.history),
        }

    @torch.no_grad()
    def surface(self) -> Tensor:
        """D on the grid, in [0, 1] with 1 for "real": P(real) where the game has one, else the
        critic's score scaled to the grid's range."""
        out = self.recipe.modules["d"](self.grid).flatten()
        if self.recipe.game.probabilistic:
            return out.sigmoid()
        return (out - out.min()) / (out.max() - out.min()).clamp_min(1e-12)

    def g_directions(self, fake: Tensor) -> Tensor:
        """Where G's loss pushes each generated point: minus the gradient of its term."""
        x = fake.detach().requires_grad_(True)
        d = self.recipe.modules["d"]
        real = self.real[: len(x)].to(x.device)  # rpgan pairs each fake with a real point
        loss = self.recipe.game.g_loss(d(x), d(real))
        (grad,) = torch.autograd.grad(loss * len(x), x)  # per point, not divided by the batch
        return -grad


def _config(s: Settings, seed: int) -> dict[str, Any]:
    return toy.ring_config(
        data={"name": s.dataset},
        loss={"name": s.loss, "penalty": s.penalty},
        optim={"lr_g": s.lr_g, "lr_d": s.lr_d},
        train={"n_critic": s.n_critic, "seed": seed},
    )


def _rounded(t: Tensor) -> list:
    """Plain numbers for JSON (which has no NaN or infinity), to 4 decimals."""
    return torch.nan_to_num(t.detach().float(), posinf=1e6, neginf=-1e6).round(decimals=4).tolist()


def _number(x: float) -> float | None:
    return round(x, 5) if math.isfinite(x) else None
