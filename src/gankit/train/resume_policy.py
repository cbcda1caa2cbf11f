"""What `gankit resume` may change in a run's config, declared key by key.

A checkpoint holds weights shaped by the networks and data, optimiser moments shaped by the
optimiser, and random-stream states of one device; a change that contradicts what it holds cannot be
honoured. Each config key is one of three kinds:

- free: takes effect at the resumed step (steps, budget, cadences, evaluation, learning rates);
- with --reset-optimizer: the saved optimiser state does not fit (another optimiser, other betas),
  so the optimisers start afresh, and only when asked for explicitly;
- refused: the run stops with one line naming the key, both values and the fix, before anything
  is written.

Every resume is recorded in DIR/resumes.jsonl (its step, what changed, the resolved config), which
the report shows as the run's history. docs/RELIABILITY.md carries `markdown_table()` verbatim.
"""

from __future__ import annotations

import fnmatch
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gankit import files
from gankit.config import Config
from gankit.errors import BadInput

FREE, RESET, REFUSED = "free", "with --reset-optimizer", "refused"
HISTORY = "resumes.jsonl"

# What D's output means under each game. A checkpointed D keeps its meaning across games that
# read it alike (a logit of P(real), a critic's score); another switch starts D from a wrong place.
D_OUTPUT = {
    "minimax": "logit of P(real)",
    "non-saturating": "logit of P(real)",
    "wgan": "critic score",
    "wgan-gp": "critic score",
    "lsgan": "least-squares score",
    "hinge": "margin score",
    "rpgan": "relativistic score",  # only D(x) - D(G(z)) means something: its level is free
}


def _same_d_output(old: Any, new: Any) -> bool:
    return old in D_OUTPUT and D_OUTPUT.get(old) == D_OUTPUT.get(new)


def _on_both_times(old: Any, new: Any) -> bool:
    return bool(old) == bool(new)


def _lazy_both_times(old: Any, new: Any) -> bool:
    return (old == 1) == (new == 1)


@dataclass(frozen=True)
class Rule:
    pattern: str  # a key path, `*` matching any rest (fnmatch)
    kind: str  # FREE, RESET or REFUSED
    why: str
    allowed_if: Callable[[Any, Any], bool] | None = None  # (old, new) -> a refused change is fine
    unless: str = ""  # allowed_if in words, for the table


_STATE = "its state lives in the checkpoint only while it is on"
_RNG = "the random streams continue from the checkpoint"

# First match wins; every config key has a rule (a test checks), so a new key needs a decision.
RULES: tuple[Rule, ...] = (
    Rule(
        "recipe", REFUSED, "the recipe decides which networks and optimisers the checkpoint holds"
    ),
    Rule("recipe_options.*", REFUSED, "recipe settings shape its networks and data"),
    Rule("description", FREE, "text only"),
    Rule("data.root", FREE, "where the same data set's files are"),
    Rule("data.download", FREE, "whether missing files may be fetched"),
    Rule("data.*", REFUSED, "G learned this data set, at this size and channel count"),
    Rule("nets.*", REFUSED, "the checkpoint's weights are shaped by these networks and z_dim"),
    Rule(
        "loss.name",
        REFUSED,
        "D's output means something else under another game",
        _same_d_output,
        "D's output keeps its meaning (minimax <-> non-saturating, wgan <-> wgan-gp)",
    ),
    Rule(
        "loss.penalty_every",
        REFUSED,
        "the lazy penalty's clock is checkpointed only when k > 1",
        _lazy_both_times,
        "it stays 1, or stays above 1",
    ),
    Rule("loss.*", FREE, "a regulariser's kind and weight apply from the next D step"),
    Rule("optim.name", RESET, "another optimiser cannot use this one's moments"),
    Rule("optim.betas", RESET, "Adam's moments were averaged with the old betas"),
    Rule("optim.*", FREE, "learning rates and their decay apply from the resumed step"),
    Rule("train.seed", REFUSED, _RNG + "; a run has one seed"),
    Rule("train.device", REFUSED, _RNG + ", whose states are saved per device type"),
    # The EMA keys too: an EMA a resume switches on starts as the live G, its age (the ramp's
    # clock, gankit.train.step) at zero; one switched off is dropped.
    Rule("train.*", FREE, "steps, budget, batches, cadences, EMA and speed switches"),
    Rule("eval.*", FREE, "evaluation reads the generator and changes nothing"),
    Rule(
        "stabilisers.minibatch_discrimination",
        REFUSED,
        "it adds weights to D",
    ),
    Rule(
        "stabilisers.historical_averaging",
        REFUSED,
        _STATE,
        _on_both_times,
        "it stays on, or stays off",
    ),
    Rule(
        "stabilisers.instance_noise",
        REFUSED,
        _STATE,
        _on_both_times,
        "it stays on, or stays off",
    ),
    Rule(
        "stabilisers.ada",  # on, it flattens to stabilisers.ada.target ...: those are free
        REFUSED,
        _STATE,
        _on_both_times,
        "it stays on, or stays off",
    ),
    Rule("stabilisers.*", FREE, "loss terms and augmentations apply from the next step"),
)


def rule_for(key: str) -> Rule:
    for rule in RULES:  # "nets.*" covers "nets" too (an empty options dict flattens to its key)
        if fnmatch.fnmatchcase(key, rule.pattern) or fnmatch.fnmatchcase(f"{key}.", rule.pattern):
            return rule
    raise KeyError(f"no resume rule covers config key {key}")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Key paths to leaf values (lists are values): {"optim": {"lr_g": 1}} -> {"optim.lr_g": 1}."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out |= flatten(value, f"{path}.")
        else:
            out[path] = value
    return out


_UNSET = "(unset)"


def changes(before: Config, after: Config) -> dict[str, tuple[Any, Any]]:
    """Every key whose value differs, with (old, new); a key set on one side only reads unset."""
    old, new = flatten(before.to_dict()), flatten(after.to_dict())
    keys = sorted(old.keys() | new.keys())
    return {
        k: (old.get(k, _UNSET), new.get(k, _UNSET))
        for k in keys
        if old.get(k, _UNSET) != new.get(k, _UNSET)
    }


def show(value: Any) -> str:
    return value if value == _UNSET else json.dumps(value)


@dataclass
class ResumePlan:
    """A checked resume: what changed, and which checkpoints hold an optimiser state to drop."""

    changed: dict[str, tuple[Any, Any]]
    reset_optimizer: bool
    # Checkpoints at or before this step hold state of an optimiser the run no longer has.
    fresh_optimizers_upto: float
    config: dict[str, Any]

    def record(self, run: Path, step: int) -> None:
        """Append this resume to the run's history."""
        entry = {
            "step": step,
            "changed": {k: [old, new] for k, (old, new) in self.changed.items()},
            "reset_optimizer": self.reset_optimizer,
            "config": self.config,
        }
        text = "".join(json.dumps(e) + "\n" for e in [*history(run), entry])
        files.write_text_atomic(run / HISTORY, text)


def plan(run: Path, before: Config, after: Config, reset_optimizer: bool = False) -> ResumePlan:
    """Check a resume of `run` from config `before` to `after`; BadInput names a refused change.

    Runs before anything is written, so a refused resume leaves the run as it was.
    """
    changed = changes(before, after)
    for key, (old, new) in changed.items():
        rule = rule_for(key)
        what = f"resume cannot change {key} from {show(old)} to {show(new)} ({rule.why})"
        if rule.kind == REFUSED and not (rule.allowed_if and rule.allowed_if(old, new)):
            raise BadInput(f"{what}: start a new run with `gankit train`, or drop that --set.")
        if rule.kind == RESET and not reset_optimizer:
            raise BadInput(
                f"{what}: add --reset-optimizer to start the optimisers afresh, or start a new "
                f"run with `gankit train`."
            )
    if reset_optimizer:
        swapped = [
            f"{k} {show(o)} -> {show(n)}"
            for k, (o, n) in changed.items()
            if rule_for(k).kind == RESET
        ]
        print(
            "gankit: warning: --reset-optimizer: the optimisers start afresh at the resumed step "
            f"(their moments and step counts are dropped){'; ' if swapped else ''}"
            f"{', '.join(swapped)}.",
            file=sys.stderr,
        )
    resets = [e["step"] for e in history(run) if e.get("reset_optimizer")]
    upto = math.inf if reset_optimizer else max(resets, default=-1)
    return ResumePlan(changed, reset_optimizer, upto, after.to_dict())


def history(run: Path) -> list[dict[str, Any]]:
    """The run's resumes, oldest first (a torn line from a crash is passed over)."""
    path = run / HISTORY
    entries = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


# -- learning rates across a checkpoint ---------------------------------------------------------
# A checkpoint's optimiser state carries each group's lr, which may differ from the config for a
# reason the run must keep (a rollback halved it, the decay lowered it). Each group also carries
# the lr its config asked for ("configured_lr"), so a resume can tell a changed setting from those.


def tag_learning_rates(optimizers: dict[str, torch.optim.Optimizer]) -> None:
    """Mark each group of freshly built optimisers with the lr the config gave it."""
    for opt in optimizers.values():
        for group in opt.param_groups:
            group.setdefault("configured_lr", group["lr"])


def configured_learning_rates(opt: torch.optim.Optimizer) -> list[float]:
    return [g.get("configured_lr", g["lr"]) for g in opt.param_groups]


def apply_learning_rates(
    opt: torch.optim.Optimizer, configured: list[float], decay_from: float | None
) -> None:
    """After loading a checkpoint into `opt`: a learning rate the config changed wins over the
    saved one from the resumed step on; an unchanged one keeps the saved (halved, decayed) value."""
    for group, lr in zip(opt.param_groups, configured):
        if group.get("configured_lr") != lr:
            group["lr"] = group["configured_lr"] = lr
            if "base_lr" in group:  # optim.decay_from decays from this base
                group["base_lr"] = lr
        if decay_from is None and "base_lr" in group:  # the decay was switched off
            group["lr"] = group.pop("base_lr")


def markdown_table() -> str:
    """The rules as docs/RELIABILITY.md shows them."""
    rows = ["| config key | on resume | why |", "| --- | --- | --- |"]
    for r in RULES:
        kind = f"{r.kind} unless {r.unless}" if r.unless else r.kind
        rows.append(f"| `{r.pattern}` | {kind} | {r.why} |")
    return "\n".join(rows) + "\n"
