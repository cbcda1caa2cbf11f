"""The Python surface of gankit: train, resume, load, sample, evaluate. The CLI is a thin shell
over it; docs/API.md has tested examples.

import gankit.api as gk
run = gk.train("configs/quickstart.yaml", out="runs/quick", overrides=["train.steps=200"])
arrays = gk.sample(run["run"], n=64)
scores = gk.evaluate(run["run"], n=500)
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit import config, describe, files, limits, recipes
from gankit.config import Config, DataConfig
from gankit.core.device import pick_device
from gankit.core.images import to_uint8  # also public here: api.to_uint8
from gankit.core.sampling import sample_in_chunks, sample_labels
from gankit.data import DATASETS, DataSpec
from gankit.errors import BadInput
from gankit.losses import LOSSES
from gankit.nets import NETS
from gankit.nets.registry import SWITCHES
from gankit.nets.style import truncation as style_truncation
from gankit.nets.text import ENCODERS
from gankit.penalties import PENALTIES
from gankit.recipes import RECIPES, Recipe
from gankit.stabilisers import WHEN as STABILISERS
from gankit.train import checkpoint, resume_policy


def train(
    cfg: Config | str | Path,
    out: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Train a GAN from a config (object or YAML path) into a new run directory."""
    if not isinstance(cfg, Config):
        path = Path(cfg)
        cfg = config.load(path, overrides)
        cfg = describe.follow_data(cfg, describe.file_data(path), str(path))
        out = out or Path("runs") / path.stem
    else:  # checked like a YAML file: a Config built in Python gets the same clear errors
        written = cfg.to_dict()["data"]
        cfg = config.from_dict(config.apply_overrides(cfg.to_dict(), overrides))
        cfg = describe.follow_data(cfg, written, "the given config")
    out = Path(out or "runs/run")
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file: a run is a folder; give another --out.")
    if checkpoint.list_steps(out / "checkpoints"):
        raise BadInput(
            f"{out} already holds a run: continue it with `gankit resume {out}`, "
            f"or pass another --out."
        )
    return _engine().train(cfg, out)


def resume(
    run: str | Path, overrides: list[str] | tuple[str, ...] = (), reset_optimizer: bool = False
) -> dict[str, Any]:
    """Continue a run from its newest good checkpoint, optionally with new settings.

    gankit.train.resume_policy says which settings may change: a refused one raises BadInput
    before anything is written; another optimiser (or betas) needs `reset_optimizer`.
    """
    run = Path(run)
    before = config.load(_config_path(run))
    cfg = config.load(_config_path(run), overrides)
    plan = resume_policy.plan(run, before, cfg, reset_optimizer)
    return _engine().train(cfg, run, resume=plan)


@dataclass
class LoadedRun:
    cfg: Config
    spec: DataSpec
    recipe: Recipe
    step: int

    def generator(self, name: str = "g", ema: bool = True) -> torch.nn.Module:
        """Generator `name` of the run: its EMA copy when the run keeps one and `ema`, else the
        live network (sampling, evaluation, export and the latent tools all choose here)."""
        return self.recipe.generator_net(name, ema)


def load(run: str | Path, device: str = "cpu") -> LoadedRun:
    """A trained run's networks (newest good checkpoint), ready to generate."""
    run = Path(run)
    cfg = config.load(_config_path(run))
    tensors, state, _ = checkpoint.load_latest(run / "checkpoints")
    d = state["data"]
    spec = DataSpec(d["name"], d["kind"], tuple(d["shape"]), tuple(d["class_names"]))
    recipe = recipes.build(cfg, spec, pick_device(device))
    checkpoint.restore_modules(recipe, tensors)
    return LoadedRun(cfg, spec, recipe, int(state["step"]))


def sample(
    run: str | Path | LoadedRun,
    n: int,
    seed: int = 0,
    class_index: int | str | None = None,
    ema: bool = True,
    batch: int = 500,
    truncation: float = 1.0,
) -> dict[str, np.ndarray]:
    """n samples in the export format: images uint8 (N, C, H, W) or points float32 (N, D).

    Conditional runs add `labels` int64 (N,): all `class_index` (an index or a class name), or
    a balanced spread of the classes when none is given. `truncation` psi < 1 trades variety for
    fidelity (style-based generators only; 1 is off).
    """
    loaded = run if isinstance(run, LoadedRun) else load(run)
    if n < 1:
        raise BadInput(f"--n {n}: ask for at least one sample.")
    # float32 chunks from G, their concatenation, then the export (uint8 images, float points)
    per_sample = math.prod(loaded.spec.shape) * 12
    limits.check_memory(f"--n {n} samples", n * per_sample, "ask for fewer with --n")
    if not loaded.recipe.samples_from_noise:
        raise BadInput(
            f"{loaded.cfg.recipe} runs translate images rather than sample them: "
            f"use `gankit translate RUN --input ... --out ...` (`gankit upscale` for srgan)."
        )
    labels = sample_labels(loaded.recipe, n, class_index)  # None unless conditional
    g = torch.Generator(device=loaded.recipe.device).manual_seed(seed)
    # the truncation trick, for style-based generators (a no-op context at psi 1)
    truncated = (
        nullcontext()
        if truncation == 1.0
        else style_truncation(loaded.recipe.modules.values(), truncation)
    )
    with truncated:
        x = sample_in_chunks(loaded.recipe, n, g, labels, batch, ema)
    out = {"points": x.float().numpy()} if loaded.spec.kind == "points" else {}
    if loaded.spec.kind != "points":
        out["images"] = to_uint8(x).numpy()
    if hasattr(loaded.recipe, "levels_of"):  # a pyramid: the coarser levels of each image too
        for level in pyramid_levels(loaded.recipe, n, g.manual_seed(seed), batch, ema)[:-1]:
            out[f"level_{level.shape[-1]}px"] = to_uint8(level).numpy()
    if labels is not None:
        out["labels"] = labels.cpu().numpy().astype(np.int64)
    return out


def pyramid_levels(
    recipe: Recipe, n: int, g: torch.Generator, batch: int, ema: bool
) -> list[torch.Tensor]:
    """A LAPGAN run's samples at every level (the same latents as its final images)."""
    chunks = [recipe.levels_of(recipe.noise(min(batch, n - i), g), ema) for i in range(0, n, batch)]
    return [torch.cat([c[k] for c in chunks]).cpu() for k in range(len(chunks[0]))]


def evaluate(
    run: str | Path | LoadedRun,
    n: int | None = None,
    metrics: list[str] | None = None,
    seed: int | None = None,
    data: DataConfig | None = None,
    extractor: str | None = None,
    inception_weights: str | None = None,
    resize: str | None = None,
    ema: bool = True,
) -> dict[str, Any]:
    """Score a run's generator (EMA copy when it has one and `ema`): each metric beside its
    real-data floor, plus the protocol record, as `gankit eval RUN` prints it.

    Defaults come from the run's config: eval.n samples, eval.metrics, train.seed, its own dataset
    (or `data`, another reference) and eval.extractor.
    """
    from gankit.metrics.evaluate import evaluate_samples, generate  # heavy: only when asked

    loaded = run if isinstance(run, LoadedRun) else load(run)
    cfg = loaded.cfg
    seed = cfg.train.seed if seed is None else seed
    return evaluate_samples(
        generate(loaded.recipe, n or cfg.eval.n, seed, ema=ema),
        data or cfg.data,
        metrics or cfg.eval.metrics,
        seed=seed,
        extractor=extractor or cfg.eval.extractor,
        inception_weights=inception_weights or cfg.eval.inception_weights,
        auto_evaluator=cfg.eval.auto_evaluator,
        resize=resize,
    )


def save_npz(arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    """Write `arrays` to `path` (".npz" added when missing, as numpy does); returns the file."""
    path = Path(path)
    if path.is_dir():  # numpy would write a sibling DIR.npz, not a file in it
        raise BadInput(f"{path} is a folder: name the file to write, e.g. {path / 'samples.npz'}.")
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    with files.writing(path):
        np.savez_compressed(path, **arrays)
    return path


def list_parts() -> dict[str, dict[str, str]]:
    """Every registered part, by kind, with its one-line description."""
    return {
        "datasets": DATASETS.describe(),
        "networks": NETS.describe(),
        "losses": LOSSES.describe(),
        "penalties": PENALTIES.describe(),
        "recipes": RECIPES.describe(),
        "stabilisers": {f"stabilisers.{k}": v for k, v in STABILISERS.items()},
        "network switches": SWITCHES,
        "text encoders": ENCODERS.describe(),
    }


def _engine():
    """The training engine, imported on first use (it pulls tqdm, matplotlib and the doctor),
    so that `gankit list` does not wait for it."""
    from gankit.train import trainer

    return trainer


def _config_path(run: Path) -> Path:
    path = run / "config.yaml"
    if not path.is_file():
        raise BadInput(
            f"{run} is not a gankit run directory (no config.yaml): give the --out "
            f"folder of a `gankit train`."
        )
    return path
