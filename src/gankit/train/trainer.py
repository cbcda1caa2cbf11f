"""The training loop every recipe shares, readable top to bottom.

build data, recipe (G, D, optimisers) and the batch stream
restore the newest good checkpoint when resuming
repeat: recipe.step() -> log, samples, checkpoint, time budget
final checkpoint, samples and report
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from gankit import config, data, recipes
from gankit.config import Config
from gankit.core import distributed
from gankit.core.device import pick_device
from gankit.data import BatchStream, DataSpec
from gankit.diagnostics.doctor import Doctor
from gankit.errors import BadInput
from gankit.recipes import Recipe
from gankit.train import checkpoint, resume_policy
from gankit.train.resume_policy import ResumePlan
from gankit.train.runlog import RunLog
from gankit.train.step import NonFiniteRecord, Stats, read_all
from gankit.train.threads import setup_threads
from gankit.viz.report import write_report
from gankit.viz.samples import save_samples


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the losses became NaN); earlier checkpoints are kept."""


def build_recipe(cfg: Config, spec: DataSpec, device: torch.device) -> Recipe:
    recipe = recipes.build(cfg, spec, device)
    resume_policy.tag_learning_rates(recipe.optimizers)  # so a resume sees a changed lr
    return recipe


def train(cfg: Config, out: Path, resume: ResumePlan | None = None) -> dict[str, Any]:
    """Train (or resume, as checked by resume_policy.plan) the run in `out`; returns where its
    samples and report are.

    Under torchrun every rank runs this loop on its slice of each batch; rank 0 alone writes the
    run directory (config, logs, samples, checkpoints, report).
    """
    device = distributed.setup(pick_device(cfg.train.device))
    lead = distributed.rank() == 0
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, device)
    stream = BatchStream(ds, cfg.train.batch_size, cfg.train.seed, device)
    # said once the config has built (a bad one fails with its one line alone), before any step;
    # a quiet run (train.progress: false, as scripts and tests use) does not say it
    setup_threads(cfg.train.threads, say=lead and cfg.train.progress)
    step, time_s = 0, 0.0
    fresh_upto = resume.fresh_optimizers_upto if resume else -1
    if resume and checkpoint.list_steps(out / "checkpoints"):
        step, time_s = restore(recipe, stream, out / "checkpoints", fresh_upto)
        fresh_upto = min(fresh_upto, step)  # checkpoints saved from here on hold the new state
    elif resume:  # stopped before its first checkpoint: nothing was trained that could be kept
        tqdm.write(f"gankit: {out} has no checkpoint yet: training from step 0.", file=sys.stderr)
    if lead:
        out.mkdir(parents=True, exist_ok=True)
        config.save(cfg, out / "config.yaml")
        if resume:
            resume.record(out, step)
    log = RunLog(out, step if resume else None, cfg.train.loggers) if lead else None
    doctor = Doctor(cfg, ds, out, step) if lead else None
    start_step = step
    fixed = fixed_noise(recipe, cfg.train.seed, 1000 if ds.kind == "points" else 64)
    real_points = ds.to_model_range(ds.x[:2000]) if ds.kind == "points" else None

    def save_pictures(step: int) -> Path:
        path = out / "samples" / f"step-{step:08d}.png"
        save_samples(recipe.generate(fixed), path, real_points, f"step {step}")
        log.image("samples", path, step)
        recipe.save_extra_pictures(fixed, out / "samples", step)  # e.g. one row per class
        return path

    t = cfg.train
    bar = tqdm(
        total=t.steps,
        initial=step,
        disable=not (t.progress and lead),
        unit="step",
        dynamic_ncols=True,
    )
    start, last_log, last_step = time.perf_counter(), time.perf_counter(), step
    rollbacks = 0
    guard = NonFiniteRecord(device, step)
    eval_times = sorted(x for x in cfg.eval.at_s if x > time_s)  # eval.at_s still ahead
    while step < t.steps:
        if cfg.optim.decay_from is not None:
            progress = run_progress(step, time_s + time.perf_counter() - start, t)
            decay_learning_rates(recipe, progress, cfg.optim.decay_from)
        stats = train_step(recipe, stream, guard, t.amp)
        # rollback acts on the step that went wrong, so it reads each step's stats (a host sync)
        if t.on_nonfinite == "rollback" and not finite_everywhere(stats):
            rollbacks += 1
            step = rollback(recipe, stream, out, step, rollbacks, fresh_upto)
            guard.reset(step)
            if log:
                log.rewind(step)
            bar.reset(t.steps)
            bar.update(step)
            continue
        step += 1
        bar.update(1)
        elapsed = time.perf_counter() - start
        out_of_time = t.budget_s is not None and distributed.largest(elapsed) >= t.budget_s
        if step % t.log_every == 0 or step == t.steps or out_of_time:
            stats = distributed.mean_over_ranks(stats)  # every rank takes part
            now = time.perf_counter()
            # one transfer reads the step's stats, the non-finite record and the skip count
            values = read_all(
                stats | {"first_bad": guard.first_bad, "skipped": recipe.skipped_updates}
            )
            first_bad, skipped = int(values.pop("first_bad")), int(values.pop("skipped"))
            record = {"step": step, "time_s": round(time_s + elapsed, 3)} | values
            record["steps_per_s"] = round((step - last_step) / max(now - last_log, 1e-9), 3)
            last_log, last_step = now, step
            record |= doctor.observe(step, record, recipe) if doctor else {}
            if t.on_nonfinite == "skip":
                record["skipped_updates"] = skipped
                record = {k: v if _finite(v) else None for k, v in record.items()}
            elif t.on_nonfinite == "stop":
                stop_if_nonfinite(first_bad, record, out)
            if log:
                log.write(record)
            bar.set_postfix(progress_fields(record))
        checkpoint_due = step % t.checkpoint_every == 0 and step != t.steps and not out_of_time
        if t.on_nonfinite == "stop" and (step % t.sample_every == 0 or checkpoint_due):
            stop_if_nonfinite(int(guard.first_bad), {}, out)  # before anything is saved
        eval_due = cfg.eval.every and step % cfg.eval.every == 0
        while eval_times and time_s + elapsed >= eval_times[0]:
            eval_times.pop(0)  # one evaluation however many times the step has passed
            eval_due = True
        if lead and eval_due and step != t.steps and not out_of_time:
            scoring = time.perf_counter()
            log.write({"step": step, "time_s": round(time_s + elapsed, 3)} | evaluate(recipe, cfg))
            # scoring is not training: the clock (and the budget) stand still while it runs
            start += time.perf_counter() - scoring
        if lead and step % t.sample_every == 0:
            save_pictures(step)
        if lead and checkpoint_due:
            save_checkpoint(recipe, stream, out, step, time_s + elapsed, ds.spec)
        if out_of_time:
            break
    bar.close()
    result: dict[str, Any] = {"run": out, "step": step, "metrics": None}
    if lead:
        trained_s = time_s + time.perf_counter() - start  # the final scoring is not training
        if step != start_step or not resume:
            save_checkpoint(recipe, stream, out, step, trained_s, ds.spec)
        result["samples"] = save_pictures(step)
        if cfg.eval.every or cfg.eval.at_end or cfg.eval.at_s:
            result["metrics"] = evaluate(recipe, cfg)
            log.write({"step": step, "time_s": round(trained_s, 3)} | result["metrics"])
        log.close()
        result["report"] = write_report(out)
    distributed.shutdown()
    return result


def train_step(recipe: Recipe, stream: BatchStream, guard: NonFiniteRecord, amp: bool) -> Stats:
    """One training step and its non-finite check, with no host sync (the stats stay on the
    device until a log boundary reads them)."""
    with torch.autocast(recipe.device.type, torch.bfloat16, enabled=amp):
        stats = recipe.step(stream)
    guard.observe(stats)
    return stats


def finite_everywhere(stats: dict[str, torch.Tensor]) -> bool:
    """Whether every stat is finite on every rank (so all ranks roll back together)."""
    return bool(
        torch.isfinite(torch.stack(list(distributed.mean_over_ranks(stats).values()))).all()
    )


def evaluate(recipe: Recipe, cfg: Config) -> dict[str, Any]:
    """The configured metrics of the generator (EMA when there is one), with their floors; with
    eval.live and an EMA kept, the live G's metrics too, prefixed live_ (floors are shared)."""
    from gankit.metrics import evaluate_generator  # heavy, and only when asked for

    metrics = evaluate_generator(recipe, cfg)
    if cfg.eval.live and any(recipe.ema_pairs()):
        live = evaluate_generator(recipe, cfg, ema=False)
        metrics |= {
            f"live_{k}": v
            for k, v in live.items()
            if isinstance(v, (int, float)) and not k.endswith(("_floor", "_total"))
        }
    return metrics


PROGRESS_NAMES = {"d_real": "D(x)", "d_fake": "D(G(z))", "steps_per_s": "step/s"}


def progress_fields(record: dict[str, Any]) -> dict[str, str]:
    """The progress bar's view of a log record: losses, D(x), D(G(z)), speed."""
    return {
        PROGRESS_NAMES.get(k, k): f"{v:.3g}"
        for k, v in record.items()
        if k not in ("step", "time_s") and isinstance(v, (int, float))
    }


def fixed_noise(recipe: Recipe, seed: int, n: int) -> torch.Tensor:
    """The same latents every time a run draws its sample grids, so grids show progress."""
    return recipe.noise(n, torch.Generator(device=recipe.device).manual_seed(seed + 2))


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def stop_if_nonfinite(first_bad: int, record: dict[str, Any], out: Path) -> None:
    """train.on_nonfinite "stop": end the run at a boundary, before anything after the first
    non-finite step (`first_bad`, -1 for none) is saved; `record` names what is non-finite now."""
    if first_bad < 0:
        return
    bad = [k for k, v in record.items() if not _finite(v)]
    what = ", ".join(bad) if bad else "the losses"
    kept = checkpoint.list_steps(out / "checkpoints")
    where = (
        f"the checkpoints in {out / 'checkpoints'} are from before and intact"
        if kept
        else "the run has no checkpoint yet, so nothing of it is kept"
    )
    raise TrainingError(
        f"{what} became non-finite at step {first_bad}: stopped, the weights after it were not "
        f"saved; {where}. Lower optim.lr_d / optim.lr_g or add a penalty."
    )


MAX_ROLLBACKS = 3


def run_progress(step: int, seconds: float, t: config.TrainConfig) -> float:
    """The fraction of the run done: of train.steps, or of train.budget_s when the budget is the
    nearer end (so that optim.decay_from also fits runs that a budget stops)."""
    done = step / t.steps
    if t.budget_s:
        done = max(done, distributed.largest(seconds) / t.budget_s)  # one clock for all ranks
    return min(done, 1.0)


def decay_learning_rates(recipe: Recipe, progress: float, start: float) -> None:
    """optim.decay_from: each lr is its base value until `start`, then falls linearly to 0 at the
    end; the base lives in the optimiser's state, so resume and rollback keep it."""
    factor = min(1.0, (1 - progress) / (1 - start))
    for opt in recipe.optimizers.values():
        for group in opt.param_groups:
            group.setdefault("base_lr", group["lr"])
            group["lr"] = group["base_lr"] * factor


def rollback(
    recipe: Recipe, stream: BatchStream, out: Path, step: int, count: int, fresh_upto: float = -1
) -> int:
    """train.on_nonfinite "rollback": back to the newest checkpoint with halved learning rates."""
    if count > MAX_ROLLBACKS or not checkpoint.list_steps(out / "checkpoints"):
        why = "no checkpoint to go back to" if count == 1 else f"{MAX_ROLLBACKS} rollbacks"
        raise TrainingError(
            f"losses became non-finite at step {step + 1} ({why}): lower optim.lr_d / "
            f"optim.lr_g or add a penalty."
        )
    key = "base_lr" if recipe.cfg.optim.decay_from is not None else "lr"
    lrs = {name: [g[key] for g in opt.param_groups] for name, opt in recipe.optimizers.items()}
    back_to, _ = restore(recipe, stream, out / "checkpoints", fresh_upto)
    for name, opt in recipe.optimizers.items():
        for group, lr in zip(opt.param_groups, lrs[name]):
            group[key] = 0.5 * lr
    tqdm.write(
        f"gankit: non-finite loss at step {step + 1}: rolled back to step {back_to} with the "
        f"learning rates halved (rollback {count} of at most {MAX_ROLLBACKS}).",
        file=sys.stderr,
    )
    return back_to


def save_checkpoint(
    recipe: Recipe, stream: BatchStream, out: Path, step: int, time_s: float, spec: DataSpec
) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for name, module in recipe.modules.items():
        for key, value in module.state_dict().items():
            if not torch.isfinite(value).all():
                raise TrainingError(
                    f"weight {name}.{key} is non-finite at step {step}: not saved; lower the "
                    f"learning rates (optim.lr_d, optim.lr_g). Earlier checkpoints are intact."
                )
            tensors[f"module.{name}.{key}"] = value
    optimizers = {
        name: checkpoint.split_tensors(opt.state_dict(), f"optim.{name}", tensors)
        for name, opt in recipe.optimizers.items()
    }
    for name, g in recipe.generators.items():
        tensors[f"rng.{name}"] = g.get_state()
    state = {
        "time_s": time_s,
        "stream": stream.state_dict(),
        "optimizers": optimizers,
        "data": {
            "name": spec.name,
            "kind": spec.kind,
            "shape": list(spec.shape),
            "class_names": list(spec.class_names),
        },
    }
    checkpoint.save(out / "checkpoints", step, tensors, state, recipe.cfg.train.keep_checkpoints)


def restore(
    recipe: Recipe, stream: BatchStream, folder: Path, fresh_optimizers_upto: float = -1
) -> tuple[int, float]:
    """Load the newest good checkpoint into recipe and stream; returns (step, time_s).

    The optimisers keep their fresh state when the checkpoint is from at or before
    `fresh_optimizers_upto` (a --reset-optimizer resume: its state is another optimiser's).
    """
    tensors, state, _ = checkpoint.load_latest(folder)
    checkpoint.restore_modules(recipe, tensors)
    fresh = int(state["step"]) <= fresh_optimizers_upto
    if fresh:
        tqdm.write(f"gankit: optimisers start afresh at step {state['step']}.", file=sys.stderr)
    for name, opt in ({} if fresh else recipe.optimizers).items():
        configured = resume_policy.configured_learning_rates(opt)
        try:
            opt.load_state_dict(checkpoint.join_tensors(state["optimizers"][name], tensors))
        except (KeyError, ValueError) as e:
            raise BadInput(
                f"the checkpoint's {name} optimiser state does not fit optim.name "
                f'"{recipe.cfg.optim.name}" ({type(e).__name__}: {e}): keep the run\'s optimiser.'
            ) from None
        resume_policy.apply_learning_rates(opt, configured, recipe.cfg.optim.decay_from)
    for name, g in recipe.generators.items():
        if f"rng.{name}" in tensors:  # checkpoints from before a stream existed lack it
            g.set_state(tensors[f"rng.{name}"])
    stream.load_state_dict(state["stream"])
    return int(state["step"]), float(state["time_s"])
