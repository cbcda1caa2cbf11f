"""The training doctor: watches every run at its log steps and explains what is going wrong.

At each log step it measures, on the side (its own torch.Generator, buffers restored, no `.grad`
touched, so training and resume stay bit-identical):

- `g_grad_norm`: the norm of the generator's gradient on a small batch (unconditional recipes);
- `diversity`: the mean pairwise distance of generated samples over that of real ones, in the
  evaluator's feature space when gankit.metrics has a trained evaluator for the data, else in
  pixel or point space; with an evaluator also `class_coverage` (classes seen / classes);
- `condition_spread` (conditional and text-to-image recipes): how far apart G's outputs for
  different classes or captions are at the same latent, over how far apart its outputs are at
  all (0: G draws the same picture whatever it is asked for).

Then it applies plain rules to the run's history of log records (so a resumed run, which reads
its history back, decides exactly as an uninterrupted one) and, the first time each problem shows,
adds an event (what, why, what to try) to the record's "doctor" key and prints it once.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from gankit.config import Config, keeps_ema
from gankit.core.images import from_uint8, to_uint8
from gankit.core.sampling import sample_labels
from gankit.data import Dataset
from gankit.diagnostics.gradnorm import generator_gradient_norm
from gankit.errors import BadInput
from gankit.losses import LOSSES

# Thresholds of the rules (module constants: the config has no doctor section).
N_DIVERSITY = 256  # samples for the diversity estimate
N_GRADIENT = 64  # latents for the gradient-norm estimate
COLLAPSE_RATIO = 0.5  # generated diversity below half the real data's ...
COLLAPSE_POINT = 0.05  # or below this (near a single point) and not growing
COLLAPSE_PATIENCE = 3  # ... at this many log steps in a row ...
WARMUP = 0.2  # ... once this fraction of the run is done (a fresh G is a blob, not a collapse)
D_WINS = 0.05  # mean D(G(z)) below this at D_WINS_PATIENCE log steps in a row
D_WINS_PATIENCE = 2
VANISHED = 0.1  # gradient norm below this fraction of its peak so far
OSC_WINDOW = 8  # log steps looked at for oscillation
OSC_TURNS = 5  # direction changes of D's loss within the window ...
OSC_SWING = 1.0  # ... with a range over this (and over the median |d_loss|)
OVERFIT_RT = 0.9  # r_t = E[sign D(x)] over real images at or above this ...
OVERFIT_PATIENCE = 3  # ... at this many log steps in a row, once WARMUP of the run is done
LOSS_KEYS = ("d_loss", "g_loss", "d_real", "d_fake")
N_CONDITION_LATENTS = 16  # latents each condition is drawn at, for condition_spread
MAX_CONDITIONS = 10  # classes or captions compared
CONDITION_COLLAPSE = 0.15  # outputs across conditions closer than this share of G's own spread


@dataclass
class Event:
    check: str
    step: int
    title: str
    why: str
    fixes: list[str] = field(default_factory=list)

    def text(self) -> str:
        fixes = "".join(f"\n    - {f}" for f in self.fixes)
        return f"gankit doctor, step {self.step}: {self.title}. {self.why}\n  try:{fixes}"


class Doctor:
    """Create before the loop; call `observe` with each log record; merge what it returns."""

    def __init__(
        self, cfg: Config, ds: Dataset, run: Path | None = None, start_step: int = 0
    ) -> None:
        from gankit.train.runlog import read

        self.cfg, self.ds = cfg, ds
        self.game = LOSSES.get(cfg.loss.name)()
        self.history = [r for r in read(run) if r.get("step", 0) <= start_step] if run else []
        self.fired = {e["check"] for r in self.history for e in r.get("doctor", [])}
        self.evaluator = load_evaluator(cfg, ds)
        g = torch.Generator().manual_seed(cfg.train.seed + 1_234_567)
        idx = torch.randperm(len(ds), generator=g)[:N_DIVERSITY]
        self.real = self.features(ds.x[idx] if ds.kind == "image" else ds.to_model_range(ds.x[idx]))
        self.real_spread = mean_pairwise_distance(self.real[0])
        self.real_classes = class_count(self.real[1])

    # -- measuring ------------------------------------------------------------------------
    def features(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """(features, class probabilities or None) of stored-format items (uint8 images)."""
        if self.evaluator is not None:
            return self.evaluator.embed(x.cpu())
        x = from_uint8(x) if x.dtype == torch.uint8 else x.float()
        return x.flatten(1).cpu(), None

    def measure(self, step: int, recipe: Any) -> dict[str, float]:
        if hasattr(recipe, "translate"):  # translations are not draws of the data distribution
            return {}
        # Latents from a generator seeded by the step: the same numbers after a resume.
        g = torch.Generator(device=recipe.device).manual_seed(self.cfg.train.seed * 7919 + step)
        out: dict[str, float] = {}
        real = self.ds.to_model_range(self.ds.x[:N_GRADIENT]).to(recipe.device)
        norm = gradient_norm_of(recipe, recipe.noise(N_GRADIENT, g), real)
        if norm is not None:
            out["g_grad_norm"] = norm
        fake = generated(recipe, N_DIVERSITY, g)
        if not torch.isfinite(fake.float()).all():
            return out | {"diversity": math.nan}
        feats, probs = self.features(to_stored(fake, self.ds.kind))
        out["diversity"] = mean_pairwise_distance(feats) / max(self.real_spread, 1e-12)
        if probs is not None and self.real_classes:
            out["class_coverage"] = class_count(probs) / self.real_classes
        return out | self.measure_conditions(recipe, g)

    def measure_conditions(self, recipe: Any, g: torch.Generator) -> dict[str, float]:
        """`condition_spread`: the mean distance between G's outputs for two different
        conditions at the same latent, over the mean distance between any two of these outputs.
        Near 1 when the condition matters as much as the latent, near 0 when G ignores it; a
        ratio of G's own distances, so a fresh G (all outputs close together) is not flagged."""
        images = across_conditions(recipe, recipe.noise(N_CONDITION_LATENTS, g))
        if images is None:
            return {}
        k, m = images.shape[:2]
        feats = self.features(to_stored(images.flatten(0, 1), self.ds.kind))[0].double()
        per_latent = feats.reshape(k, m, -1).transpose(0, 1)  # (latents, conditions, features)
        between = exact_sum(pairwise_distances(per_latent)) / (m * k * (k - 1))
        overall = mean_pairwise_distance(feats)
        if overall <= 1e-3 * self.real_spread:  # all one picture: mode_collapse's case, not this
            return {}
        return {"condition_spread": between / overall}

    # -- deciding -------------------------------------------------------------------------
    def observe(self, step: int, record: dict[str, Any], recipe: Any) -> dict[str, Any]:
        """Measurements (merged into the record) and, when a problem first shows, its event."""
        measured = self.measure(step, recipe)
        self.history = [r for r in self.history if r.get("step", 0) < step]  # after a rollback
        skipped = {"skipped_updates": getattr(recipe, "skipped_updates", 0)}
        self.history.append(skipped | record | measured)
        events = [e for e in self.diagnose(step) if e.check not in self.fired]
        for e in events:
            self.fired.add(e.check)
            tqdm.write(e.text(), file=sys.stderr)
        if events:
            self.history[-1]["doctor"] = [asdict(e) for e in events]
            return measured | {"doctor": [asdict(e) for e in events]}
        return measured

    def diagnose(self, step: int) -> list[Event]:
        checks = (nonfinite, discriminator_wins, discriminator_overfits, mode_collapse,
                  collapse_across_conditions, oscillation)  # fmt: skip
        found = [check(self.history, step, self) for check in checks]
        return [e for e in found if e is not None]


# -- the rules: each a function of the history, returning an Event or None ------------------
def nonfinite(history: list[dict[str, Any]], step: int, doc: Doctor) -> Event | None:
    last = history[-1]
    bad = [k for k in (*LOSSES_AND_MEASURES,) if k in last and not _finite(last[k])]
    skipped = last.get("skipped_updates") or 0
    if not bad and not skipped:
        return None
    what = ", ".join(bad) if bad else f"{skipped} updates skipped for a NaN/Inf loss"
    return Event(
        "nonfinite",
        step,
        "non-finite values",
        f"{what}: the weights or the losses overflowed, usually because a step was too large.",
        [
            "lower optim.lr_d and optim.lr_g (e.g. by 10x)",
            "add a gradient penalty (loss.penalty: gp or r1) or spectral norm",
            "train.on_nonfinite: rollback goes back to the last checkpoint with halved rates",
        ],
    )


LOSSES_AND_MEASURES = (*LOSS_KEYS, "g_grad_norm", "diversity")


def discriminator_wins(history: list[dict[str, Any]], step: int, doc: Doctor) -> Event | None:
    if not doc.game.probabilistic or len(history) < D_WINS_PATIENCE:
        return None
    recent = history[-D_WINS_PATIENCE:]
    if not all(_finite(r.get("d_fake")) and r["d_fake"] < D_WINS for r in recent):
        return None
    d_fake = recent[-1]["d_fake"]
    norms = [r["g_grad_norm"] for r in history if _finite(r.get("g_grad_norm"))]
    if doc.game.saturates:
        # d/dl log(1 - sigmoid(l)) = -sigmoid(l): each fake's gradient is scaled by D(G(z)).
        why = (
            f"log(1 - D(G(z))) saturates: each fake's gradient is scaled by D(G(z)), "
            f"{1 / max(d_fake, 1e-12) - 1:.3g}x weaker than the non-saturating loss would give"
        )
    elif norms and norms[-1] < VANISHED * max(norms):
        why = f"the generator's gradient norm fell to {norms[-1]:.3g} (peak {max(norms):.3g})"
    else:
        return None
    return Event(
        "discriminator-wins",
        step,
        "the discriminator wins",
        f"D(G(z)) is {d_fake:.3g}: D rejects every fake, and {why}, so G barely learns.",
        [
            "use the non-saturating loss (loss.name: non-saturating), or wgan-gp / hinge",
            "weaken D: lower optim.lr_d, fewer train.n_critic, or add loss.penalty: r1",
            "give G a higher optim.lr_g (two time-scale updates)",
        ],
    )


def discriminator_overfits(history: list[dict[str, Any]], step: int, doc: Doctor) -> Event | None:
    """D is sure of (nearly) every real image it trains on: r_t = E[sign D(x)] near 1, the
    overfitting heuristic of Karras et al. 2020, read from `ada_rt` when ADA logs it.

    Without ADA, d_real = E[sigmoid D(x)] of a game whose D gives a logit of P(real) bounds it
    from below: a real image D rejects adds at most 1/2 to d_real, so the share D accepts is
    above 2 d_real - 1 and r_t >= 4 d_real - 3. Image data only, where ADA applies.
    """
    if doc.ds.kind != "image" or step < WARMUP * doc.cfg.train.steps:
        return None
    recent = history[-OVERFIT_PATIENCE:]
    rts = [real_sign_mean(r, doc) for r in recent]
    if len(recent) < OVERFIT_PATIENCE or not all(_finite(v) and v >= OVERFIT_RT for v in rts):
        return None
    last = recent[-1]
    more_data = "more training images: D memorises a small set, and augmentation only slows it"
    if "ada_rt" in last:
        what = (
            f"r_t = E[sign D(x)] over the augmented real images is {rts[-1]:.2f} with ADA's p "
            f"at {last.get('ada_p', 0):.2f}"
        )
        fixes = [
            more_data,
            "a smaller stabilisers.ada.speed_img lets p rise faster (images for p to go 0 to 1)",
            "add stabilisers.diffaugment: [color, translation, cutout] on top",
        ]
    else:
        what = (
            f"D(x) is {last['d_real']:.3f} on real images, so r_t = E[sign D(x)] >= {rts[-1]:.2f}"
        )
        fixes = [more_data, "regularise D: loss.penalty: r1, or a lower optim.lr_d"]
        if applies_stabilisers(doc.cfg.recipe):
            fixes[:0] = [
                "turn on stabilisers.ada (e.g. stabilisers.ada.target=0.6): augmentation of what "
                "D sees, as strong as r_t asks for",
                "or stabilisers.diffaugment: [color, translation, cutout], a fixed augmentation",
            ]
    return Event(
        "d-overfits",
        step,
        "the discriminator overfits",
        f"{what} at {OVERFIT_PATIENCE} log steps in a row: D has memorised the real images "
        f"rather than learnt what makes them real, and its feedback to G degrades.",
        fixes,
    )


def applies_stabilisers(recipe: str) -> bool:
    """Whether the recipe reads the stabilisers: section (the unconditional family does)."""
    from gankit.recipes import RECIPES
    from gankit.recipes.unconditional import Unconditional

    return issubclass(RECIPES.get(recipe), Unconditional)


def real_sign_mean(record: dict[str, Any], doc: Doctor) -> float | None:
    """r_t of a log record: ADA's own, or the bound from d_real (None when neither applies)."""
    if "ada_rt" in record:
        return record["ada_rt"]
    if doc.game.probabilistic and _finite(record.get("d_real")):
        return 4 * record["d_real"] - 3
    return None


def mode_collapse(history: list[dict[str, Any]], step: int, doc: Doctor) -> Event | None:
    """Diversity fell: below COLLAPSE_RATIO of the real data's and below half its own peak.

    A fresh G maps every latent near one point, so low diversity alone is not a collapse; a
    fall from what G already reached is.
    """
    if step < WARMUP * doc.cfg.train.steps or len(history) < COLLAPSE_PATIENCE:
        return None
    recent = history[-COLLAPSE_PATIENCE:]
    peak = max((r["diversity"] for r in history if _finite(r.get("diversity"))), default=0.0)
    if all(fell(history, r, "diversity") for r in recent):
        what = f"spread {recent[-1]['diversity']:.2f} of the real data's, down from {peak:.2f}"
    elif stuck_at_a_point(recent):
        what = f"spread {recent[-1]['diversity']:.3f} of the real data's, and not growing"
    elif all(fell(history, r, "class_coverage") for r in recent):
        what = f"{recent[-1]['class_coverage']:.0%} of the classes"
    else:
        return None
    return Event(
        "mode-collapse",
        step,
        "mode collapse",
        f"generated samples are much less varied than real ones ({what}): G maps many "
        f"latents to a few outputs.",
        [
            "use wgan-gp (loss.name: wgan-gp) or add a penalty (loss.penalty: r1 or dragan)",
            "lower optim.lr_g, or raise train.n_critic so D keeps up with G",
            "a larger batch (train.batch_size) shows D more of the data at once",
        ],
    )


def collapse_across_conditions(
    history: list[dict[str, Any]], step: int, doc: Doctor
) -> Event | None:
    """G ignores its condition: different classes or captions give (nearly) the same picture.

    Diversity over latents can look healthy meanwhile, so mode_collapse does not see this. No
    warm-up: condition_spread is a ratio of G's own distances, about 1 for a fresh G.
    """
    if len(history) < COLLAPSE_PATIENCE:
        return None
    spreads = [r.get("condition_spread") for r in history[-COLLAPSE_PATIENCE:]]
    if not all(_finite(v) and v < CONDITION_COLLAPSE for v in spreads):
        return None
    text = doc.cfg.recipe == "stackgan"
    what = "captions" if text else "classes"
    fixes = (
        [
            "raise recipe_options.match_weight (e.g. 2): the sentence-matching loss pushes "
            "each image towards its own caption",
            "lower recipe_options.kl_weight, so the conditioning code keeps the caption",
            "recipe_options.encoder: minilm gives different captions different codes from the "
            "start (optional extra: pip install 'gankit[text]')",
        ]
        if text
        else [
            "a discriminator that checks the class: recipe: projection, or recipe: acgan (raise "
            "recipe_options.class_weight to push harder)",
            "lower optim.lr_g, so G keeps up with what D asks for each class",
        ]
    )
    return Event(
        "condition-collapse",
        step,
        f"the same picture for different {what}",
        f"G's outputs for different {what} at the same latent differ by only "
        f"{spreads[-1]:.2f} of how much its outputs differ at all: G ignores its condition, a "
        f"collapse across {what} that the diversity over latents does not show.",
        fixes,
    )


def stuck_at_a_point(recent: list[dict[str, Any]]) -> bool:
    """Diversity near zero in every recent record and not growing (a fresh G would grow)."""
    values = [r.get("diversity") for r in recent]
    if not all(_finite(v) and v < COLLAPSE_POINT for v in values):
        return False
    return values[-1] <= 1.25 * values[0] + 1e-9


def fell(history: list[dict[str, Any]], record: dict[str, Any], key: str) -> bool:
    """Whether record[key] is under COLLAPSE_RATIO and under half its peak in the history."""
    value = record.get(key)
    peak = max((r[key] for r in history if _finite(r.get(key))), default=0.0)
    return _finite(value) and value < COLLAPSE_RATIO and value < 0.5 * peak


def oscillation(history: list[dict[str, Any]], step: int, doc: Doctor) -> Event | None:
    losses = [r.get("d_loss") for r in history[-OSC_WINDOW:]]
    if len(losses) < OSC_WINDOW or not all(_finite(v) for v in losses):
        return None
    diffs = [b - a for a, b in zip(losses, losses[1:])]
    turns = sum(1 for a, b in zip(diffs, diffs[1:]) if a * b < 0)
    swing = max(losses) - min(losses)
    typical = sorted(abs(v) for v in losses)[len(losses) // 2]
    if turns < OSC_TURNS or swing < max(OSC_SWING, typical):
        return None
    fixes = [
        "lower both learning rates (optim.lr_d, optim.lr_g)",
        "Adam with beta1 0.5 or 0 (optim.betas) damps the momentum that feeds the cycle",
        "add loss.penalty: r1 (a zero-centred penalty makes the game converge locally)",
    ]
    if not keeps_ema(doc.cfg):  # a run that keeps one already samples from it
        fixes.append(
            "keep an EMA of G for the samples (train.ema: 0.999, or a half-life: "
            "train.ema_kimg: 10)"
        )
    return Event(
        "oscillation",
        step,
        "the losses oscillate",
        f"D's loss swung over a range of {swing:.3g} and changed direction {turns} times in the "
        f"last {OSC_WINDOW} log steps: G and D are chasing each other instead of converging.",
        fixes,
    )


# -- helpers ------------------------------------------------------------------------------
def load_evaluator(cfg: Config, ds: Dataset) -> Any:
    """gankit.metrics' cached evaluator for labelled images, or None (never trained here)."""
    if ds.kind != "image" or ds.num_classes < 2:
        return None
    try:
        from gankit.metrics.evaluator import load

        return load(cfg.data, ds.shape[0], auto_train=False)
    except Exception:  # no cached evaluator (or metrics unavailable): pixel space instead
        return None


def gradient_norm_of(recipe: Any, z: Tensor, real: Tensor) -> float | None:
    """The G gradient norm for recipes whose G takes z alone and D returns one logit."""
    if getattr(recipe, "conditional", False) or not {"g", "d"} <= set(recipe.modules):
        return None
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return None  # a backward on one rank alone would wait forever for the others
    g, d = recipe.modules["g"], recipe.modules["d"]
    try:
        return generator_gradient_norm(g, d, recipe.game.g_loss, z, real)
    except (TypeError, RuntimeError, ValueError, BadInput):  # another signature, or packing
        return None


def across_conditions(recipe: Any, z: Tensor) -> Tensor | None:
    """G's outputs (conditions, latents, ...) for up to MAX_CONDITIONS classes or captions at the
    same latents z, or None when G takes no condition."""
    if hasattr(recipe, "generate_from_text"):
        from gankit.data.captions import default_prompts

        prompts = list(dict.fromkeys(default_prompts(recipe.cfg.data, MAX_CONDITIONS)))
        if len(prompts) < 2:
            return None
        return torch.stack([recipe.generate_from_text(z, [p] * len(z)) for p in prompts])
    classes = getattr(recipe, "num_classes", 0)
    if not getattr(recipe, "conditional", False) or classes < 2:
        return None
    return torch.stack([
        recipe.generate(z, torch.full((len(z),), c, device=z.device))
        for c in range(min(classes, MAX_CONDITIONS))
    ])  # fmt: skip


def generated(recipe: Any, n: int, g: torch.Generator) -> Tensor:
    labels = sample_labels(recipe, n, None)  # conditional G: a balanced spread, no randomness
    return recipe.generate(recipe.noise(n, g), labels)


def to_stored(x: Tensor, kind: str) -> Tensor:
    """Generated items in the dataset's stored format (uint8 images), for the evaluator."""
    if kind != "image":
        return x.float().cpu()
    return to_uint8(x).cpu()


def pairwise_distances(x: Tensor) -> Tensor:
    """Euclidean distances in float64, each pair on its own: cdist's matmul shortcut and a
    threaded sum both round differently with the thread count, and a run resumed by a process with
    other threads must log the same numbers."""
    x = x.double()
    return torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")


def exact_sum(t: Tensor) -> float:
    """The correctly rounded sum, the same in any order (torch's sum splits by thread)."""
    return math.fsum(t.flatten().tolist())


def mean_pairwise_distance(x: Tensor) -> float:
    n = len(x)
    return exact_sum(pairwise_distances(x)) / max(n * (n - 1), 1)


def class_count(probs: Tensor | None) -> int:
    return 0 if probs is None else int(probs.argmax(1).unique().numel())


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
