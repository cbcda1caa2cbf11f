"""The run config: typed sections with defaults, read from YAML, checked with clear errors.

Every key is validated here (type, range, spelling) so that a typo stops the run before any work
is done; options that belong to one registered part (a network's width, a dataset's spread) are
free-form dicts checked against that part's builder when it is built.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from gankit import files, yaml_safe
from gankit.errors import BadInput, closest


@dataclass
class DataConfig:
    name: str = "digits"
    size: int = 28  # image side in pixels (images only)
    channels: int | None = None  # 1 or 3; None keeps the dataset's own
    root: str | None = None  # where the dataset's files are, or are downloaded to
    download: bool = True  # allowed to download when the files are not found
    options: dict[str, Any] = field(default_factory=dict)  # dataset-specific settings
    # the first N items of each split only (limited-data training; the metrics' reference and
    # floor then come from the same N); None: all of them
    limit: int | None = None


@dataclass
class NetsConfig:
    g: str = "dcgan"
    d: str = "dcgan"
    z_dim: int = 100
    g_options: dict[str, Any] = field(default_factory=dict)
    d_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class LossConfig:
    name: str = "non-saturating"
    # auto: the game's own (clip for wgan, gp for wgan-gp); or none, gp, r1, dragan, clip
    penalty: str = "auto"
    penalty_weight: float = 10.0  # lambda of gp / r1 / dragan
    clip: float = 0.01  # weight clipping bound for the clip penalty
    penalty_every: int = 1  # lazy regularisation: the penalty on 1 D step in k, weighted k


@dataclass
class OptimConfig:
    name: str = "adam"  # adam | rmsprop | sgd
    lr_g: float = 2e-4  # separate G and D learning rates (TTUR)
    lr_d: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    decay_from: float | None = None  # from this fraction of the run, lrs fall linearly to 0


LOGGERS = ("tensorboard", "csv", "wandb", "mlflow")  # what gankit.train.runlog can write to


@dataclass
class TrainConfig:
    steps: int = 1000  # generator steps
    batch_size: int = 64
    n_critic: int = 1  # D steps per G step
    seed: int = 0
    budget_s: float | None = None  # stop after this many wall-clock seconds (checkpointing first)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    ema: float | None = None  # decay per step of an EMA copy of G (e.g. 0.999); None for none
    # or the EMA as a half-life (StyleGAN2-ADA): G's weights of a step count half in the average
    # after this many thousand images (e.g. 10); None: no half-life (train.ema, or no EMA)
    ema_kimg: float | None = None
    # with ema_kimg: the half-life is at most this fraction of the images averaged so far (e.g.
    # 0.05), so that the first steps' average forgets the random start; None: no ramp
    ema_rampup: float | None = None
    amp: bool = False  # bf16 autocast for the networks (losses and penalties stay float32)
    channels_last: bool = False  # NHWC memory layout for conv nets (faster convolutions on GPU)
    compile: bool = False  # torch.compile G and D (gradient penalties still run eager)
    cuda_graphs: bool = False  # with compile on CUDA: replay each step as CUDA graphs
    sync_batchnorm: bool = False  # under torchrun: batch statistics over all ranks (GPU only)
    on_nonfinite: str = "stop"  # NaN/Inf loss: stop | skip (the step) | rollback (to last ckpt)
    progress: bool = True
    threads: int | None = None  # torch's CPU threads (None: torch's choice; 1 on a busy machine)
    # where scalars and sample grids go besides metrics.jsonl: any of LOGGERS (wandb and mlflow
    # are optional extras)
    loggers: list[str] = field(default_factory=lambda: ["tensorboard"])


@dataclass
class EvalConfig:
    every: int = 0  # evaluate the generator every N steps during training (0: only at the end)
    # also at these seconds of training (time-to-quality curves); scoring stops the clock
    at_s: list[float] = field(default_factory=list)
    live: bool = False  # when an EMA G is kept, also score the live G (keys prefixed live_)
    at_end: bool = False  # evaluate once when training ends (the result is printed)
    n: int = 2000  # generated samples per evaluation
    metrics: list[str] = field(
        default_factory=lambda: ["fid", "kid", "precision_recall", "classes"]
    )
    extractor: str = "own"  # own (gankit's evaluator for the dataset) | inception
    # own: train the dataset's evaluator on first use (false: skip the evaluation, with a warning)
    auto_evaluator: bool = True
    inception_weights: str | None = None  # local weights file for the inception extractor


# Training tricks, each off by default; when each helps: gankit.stabilisers.WHEN.
@dataclass
class StabilisersConfig:
    minibatch_discrimination: int = 0  # kernels of a minibatch-discrimination head on D (0: off)
    feature_matching: float = 0.0  # weight of G's feature-matching term (0: off)
    label_smoothing: float = 0.0  # one-sided: D's target for real data is 1 - s (0: off)
    historical_averaging: float = 0.0  # weight of ||theta - mean of past theta||^2 (0: off)
    diffaugment: list[str] = field(default_factory=list)  # of color, translation, cutout
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, annealed to 0 (0: off)
    instance_noise_steps: int = 0  # G steps to anneal over (0: all of train.steps)
    # adaptive discriminator augmentation: {} or null is off; any key of ADA turns it on, with
    # the defaults for the rest (gankit.ada)
    ada: dict[str, float] | None = field(default_factory=dict)

    # ADA's keys: (default, type, whether a value is allowed, the rule in words). speed_img is
    # the number of images over which p can move from 0 to 1 (StyleGAN2-ADA's ada_kimg * 1000).
    ADA: ClassVar[dict[str, tuple[float, type, Callable[[float], bool], str]]] = {
        "target": (0.6, float, lambda v: 0 <= v < 1, "the sign-mean target r_t, in [0, 1)"),
        "speed_img": (500_000.0, float, lambda v: 0 < v <= BIG, "a number of images > 0"),
        "interval": (4, int, lambda v: 1 <= v <= BIG, "a number of D steps >= 1"),
        "p_init": (0.0, float, lambda v: 0 <= v <= 1, "a probability in [0, 1]"),
    }

    def __post_init__(self) -> None:
        """Check stabilisers.ada key by key and fill in the defaults of the keys not given."""
        checked = {}
        for key, value in (self.ada or {}).items():
            path = f"stabilisers.ada.{key}"
            if key not in self.ADA:
                known = [f"stabilisers.ada.{k}" for k in self.ADA]
                raise BadInput(
                    f'unknown config key "{path}".{closest(path, known)} stabilisers.ada takes '
                    f"{', '.join(self.ADA)}."
                )
            _, kind, allowed, rule = self.ADA[key]
            checked[key] = _check(value, kind, path)
            if not allowed(checked[key]):  # NaN fails every comparison
                raise BadInput(f"config key {path} = {checked[key]:g} is out of range: use {rule}.")
        if checked:
            self.ada = {key: checked.get(key, default) for key, (default, *_) in self.ADA.items()}
        else:
            self.ada = {}


@dataclass
class Config:
    recipe: str = "unconditional"
    data: DataConfig = field(default_factory=DataConfig)
    nets: NetsConfig = field(default_factory=NetsConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    stabilisers: StabilisersConfig = field(default_factory=StabilisersConfig)
    # Settings of the recipe itself (e.g. semi-supervised's `labelled`), checked by the recipe.
    recipe_options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Ranges checked after types: key path -> (lowest, highest allowed, why). The upper bounds keep
# a typo (an extra three zeros) from reaching torch as a size it cannot allocate or an integer it
# cannot hold; they sit far above any run this toolkit is for.
BIG = 2**62  # an interval or count with no natural bound: still a 64-bit integer in torch
_RANGES = {
    "data.size": (1, 4096, "an image side in pixels"),
    "data.limit": (1, BIG, "a number of items (null for all)"),
    "nets.z_dim": (1, 65536, "the latent size"),
    "train.steps": (0, BIG, "a number of generator steps"),
    "train.seed": (0, 2**32 - 1, "a seed"),
    "train.budget_s": (0, math.inf, "a time budget in seconds (null for none)"),
    "train.batch_size": (1, 65536, "a batch size"),
    "train.threads": (1, 4096, "a number of CPU threads (null for torch's choice)"),
    "train.n_critic": (1, 1000, "D steps per G step"),
    "train.log_every": (1, BIG, "a step interval"),
    "train.sample_every": (1, BIG, "a step interval"),
    "train.checkpoint_every": (1, BIG, "a step interval"),
    "train.keep_checkpoints": (1, 1000, "how many checkpoints to keep"),
    "eval.every": (0, BIG, "a step interval (0 for off)"),
    "eval.n": (2, 1_000_000, "a number of samples"),
    "optim.lr_g": (0, 1e6, "a learning rate"),
    "optim.lr_d": (0, 1e6, "a learning rate"),
    "loss.penalty_weight": (0, 1e6, "a penalty weight"),
    "loss.clip": (0, 1e6, "a clipping bound"),
    "loss.penalty_every": (1, BIG, "a step interval"),
    "stabilisers.minibatch_discrimination": (0, 4096, "a number of kernels"),
    "stabilisers.instance_noise_steps": (0, BIG, "a number of steps"),
}


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read a YAML config, apply `key.path=value` overrides, and validate it."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(
            f"config {path} is a folder, not a YAML file: to train on the images in it, "
            f"give it as `gankit train --data {path}`."
        )
    if not path.is_file():
        raise BadInput(
            f"config file {path} not found: give the path of a YAML file (see configs/)."
        )
    try:
        raw = yaml_safe.load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as e:
        raise BadInput(
            f"config {path} is not UTF-8 text (byte {e.start}): save it as UTF-8 YAML."
        ) from None
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        if isinstance(e, yaml_safe.Refused):
            raise BadInput(f"config {path}{where} is refused: {e.problem}.") from None
        raise BadInput(f"config {path} is not valid YAML{where}: fix the syntax there.") from None
    if not isinstance(raw, dict):
        raise BadInput(f"config {path} must be a mapping of sections (data:, nets:, ...).")
    return from_dict(apply_overrides(raw, overrides))


def apply_overrides(raw: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Set each `a.b.c=value` (value parsed as YAML) in a copy of the raw config dict."""
    raw = _deep_copy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f'--set "{item}" must look like key.path=value, e.g. train.steps=500.')
        try:
            value = yaml_safe.load(text)
        except yaml_safe.Refused as e:
            raise BadInput(f'--set "{item}" is refused: {e.problem}.') from None
        except yaml.YAMLError:
            value = text
        node = raw
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadInput(f'--set "{item}": "{part}" is a value, not a section.')
            node = child
        node[parts[-1]] = value
    return raw


def from_dict(raw: dict[str, Any]) -> Config:
    """Build a validated Config from plain data; the first problem raises BadInput."""
    cfg = _build(Config, raw, "")
    for key, (low, high, what) in _RANGES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value is not None and not (low <= value <= high and math.isfinite(value)):
            bound = f">= {low}" if high == math.inf else f"from {low} to {high:g}"
            raise BadInput(  # NaN and infinity fail too
                f"config key {key} = {value:g} is out of range: {what} must be a finite "
                f"number {bound}."
            )
    if cfg.data.channels not in (None, 1, 3):
        raise BadInput(f"config key data.channels = {cfg.data.channels}: use 1, 3 or null.")
    if len(cfg.optim.betas) != 2 or not all(0 <= b < 1 for b in cfg.optim.betas):
        raise BadInput("config key optim.betas must hold two numbers in [0, 1), e.g. [0.5, 0.999].")
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", cfg.train.device):
        raise BadInput(
            f'config key train.device = "{cfg.train.device}": use auto, cpu, cuda or cuda:N.'
        )
    if cfg.train.on_nonfinite not in ("stop", "skip", "rollback"):
        raise BadInput(
            f'config key train.on_nonfinite = "{cfg.train.on_nonfinite}": '
            "use stop, skip or rollback."
        )
    if cfg.train.cuda_graphs and not cfg.train.compile:  # the device is checked once resolved
        raise BadInput(
            "train.cuda_graphs needs train.compile: true and a CUDA device (train.device: auto "
            "or cuda): set both, or switch it off."
        )
    for name in cfg.train.loggers:
        if name not in LOGGERS:
            raise BadInput(
                f'config key train.loggers: unknown logger "{name}"; use any of '
                f"{', '.join(LOGGERS)}.{closest(name, LOGGERS)}"
            )
    decay_from = cfg.optim.decay_from
    if decay_from is not None and not 0 <= decay_from < 1:
        raise BadInput(
            f"config key optim.decay_from = {decay_from}: use a fraction of the run in [0, 1) "
            "or null."
        )
    if any(not (math.isfinite(t) and t > 0) for t in cfg.eval.at_s):
        raise BadInput(
            f"config key eval.at_s = {cfg.eval.at_s}: use seconds of training > 0, e.g. [150, 300]."
        )
    _check_ema(cfg.train)
    return cfg


def keeps_ema(cfg: Config) -> bool:
    """Whether the run keeps an EMA copy of its generators (a decay or a half-life)."""
    return cfg.train.ema is not None or cfg.train.ema_kimg is not None


def _check_ema(t: TrainConfig) -> None:
    if t.ema is not None and not 0 < t.ema < 1:
        raise BadInput(f"config key train.ema = {t.ema}: use a decay in (0, 1) or null.")
    if t.ema_kimg is not None and not (0 < t.ema_kimg and math.isfinite(t.ema_kimg)):
        raise BadInput(
            f"config key train.ema_kimg = {t.ema_kimg}: use a half-life in thousands of images "
            "above 0 (e.g. 10) or null."
        )
    if t.ema_rampup is not None and not 0 < t.ema_rampup <= 1:
        raise BadInput(
            f"config key train.ema_rampup = {t.ema_rampup}: use a fraction in (0, 1] (e.g. "
            "0.05) or null."
        )
    if t.ema is not None and t.ema_kimg is not None:
        raise BadInput(
            f"config keys train.ema = {t.ema} and train.ema_kimg = {t.ema_kimg} both set the EMA: "
            "keep one (ema: a decay per step; ema_kimg: a half-life) and set the other to null."
        )
    if t.ema_rampup is not None and t.ema_kimg is None:
        raise BadInput(
            f"config key train.ema_rampup = {t.ema_rampup} ramps the half-life train.ema_kimg, "
            "which is not set: set train.ema_kimg (e.g. 10), or train.ema_rampup to null."
        )


def save(cfg: Config, path: str | Path) -> None:
    files.write_text_atomic(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise BadInput(f"config section {where or 'top level'} must be a mapping, got {raw!r}.")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in fields:
            known = {f"{where}.{f}" if where else f for f in fields}
            raise BadInput(f'unknown config key "{path}".{closest(path, known)}')
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            values[key] = _build(hint, value if value is not None else {}, path)
        else:
            values[key] = _check(value, hint, path)
    return cls(**values)


def _check(value: Any, hint: Any, path: str) -> Any:
    """Coerce obvious cases (int for float, numeric strings like 2e-4) and reject the rest."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(o for o in options if o is not type(None))
        origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if hint is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = origin or hint
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise BadInput(f"config key {path} = {value!r} has the wrong type: expected {_name(hint)}.")
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_check(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _deep_copy(raw: Any) -> Any:
    if isinstance(raw, dict):
        return {k: _deep_copy(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_deep_copy(v) for v in raw]
    return raw
