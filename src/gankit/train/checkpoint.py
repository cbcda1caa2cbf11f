"""Checkpoints that are safe to load and safe to lose power on.

A checkpoint is a folder `checkpoints/step-NNNNNNNN/` holding `weights.safetensors` (every tensor:
network weights, optimiser moments, random-generator states) and `state.json` (everything else,
with the weights file's SHA-256 and a SHA-256 of the state itself). It is written to a temporary
folder, flushed to disk and renamed into place, so a crash mid-write leaves the previous
checkpoints untouched. Nothing is unpickled.

A checkpoint is trusted only when both checksums match, its step agrees with its folder's name and
every field has its type; anything else is named on stderr and the previous checkpoint is used,
so an edited or damaged state can neither crash a resume nor make it overwrite later history.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from gankit import __version__, files
from gankit.errors import BadInput
from gankit.files import fix_for, sha256_file

WEIGHTS, STATE = "weights.safetensors", "state.json"
TMP_PREFIX = ".tmp-step-"  # a checkpoint being written; renamed to step-NNNNNNNN when complete


def save(
    folder: Path, step: int, tensors: dict[str, torch.Tensor], state: dict[str, Any], keep: int
) -> Path:
    """Write one checkpoint atomically and delete all but the newest `keep`."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:08d}"
    tmp = folder / f"{TMP_PREFIX}{step:08d}"
    remove_partial_writes(folder)
    try:
        tmp.mkdir()
        files.save_tensors(
            {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, tmp / WEIGHTS
        )
        state = {**state, "step": step, "gankit": __version__, "sha256": sha256_file(tmp / WEIGHTS)}
        (tmp / STATE).write_text(json.dumps(seal(state)))
        for f in (tmp / WEIGHTS, tmp / STATE, tmp):
            _fsync(f)
        if final.exists():  # the same step saved again (e.g. a resume that made no progress)
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync(folder)
    except (OSError, SafetensorError) as e:  # safetensors reports a full disk as its own error
        shutil.rmtree(tmp, ignore_errors=True)
        code, why = _os_error(e)
        error = OSError(
            f"could not write checkpoint {final} ({why}); "
            f"earlier checkpoints are intact: {fix_for(code)} and resume."
        )
        error.errno, error.named = code, True
        raise error from e
    prune(folder, final, keep)
    return final


def prune(folder: Path, newest: Path, keep: int) -> None:
    """Keep `newest` and the keep - 1 newest others that verify; delete the rest. A damaged
    checkpoint holds no slot, so it never pushes out a good older one."""
    good = 1
    for old in reversed(list_steps(folder)):
        if old == newest:
            continue
        try:
            verify(old)
        except BadInput:
            shutil.rmtree(old, ignore_errors=True)
            continue
        good += 1
        if good > keep:
            shutil.rmtree(old, ignore_errors=True)


def seal(state: dict[str, Any]) -> dict[str, Any]:
    """`state` with its own checksum added (over its JSON form, as load will read it back)."""
    plain = json.loads(json.dumps(state))
    plain.pop("state_sha256", None)
    return {**plain, "state_sha256": _digest(plain)}


def _digest(state: dict[str, Any]) -> str:
    body = {k: v for k, v in state.items() if k != "state_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _os_error(e: Exception) -> tuple[int | None, str]:
    """(errno, reason) of an OSError, or of a SafetensorError that wraps one in its text."""
    if isinstance(e, OSError):
        return e.errno, e.strerror or str(e)
    match = re.search(r"os error (\d+)", str(e))  # "I/O error: No space left ... (os error 28)"
    code = int(match[1]) if match else None
    return code, os.strerror(code) if code else str(e)


def remove_partial_writes(folder: Path) -> list[Path]:
    """Delete the temporary folders of writes that never finished (a killed process leaves them).

    A run has one writer, so any temporary folder found before a save is an abandoned one.
    """
    stale = sorted(folder.glob(f"{TMP_PREFIX}*")) if folder.is_dir() else []
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def list_steps(folder: Path) -> list[Path]:
    """Checkpoint folders, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("step-*") if p.is_dir())


# What a state must hold, and of which type, before anything of it is used.
FIELDS = {"step": int, "time_s": (int, float), "stream": dict, "optimizers": dict, "data": dict}
DATA_FIELDS = {"name": str, "kind": str, "shape": list, "class_names": list}


def verify(path: Path) -> dict[str, Any]:
    """Check one checkpoint folder without reading its tensors; returns its state.

    BadInput names the file and what is wrong: unreadable, edited (state checksum), a step that
    is not its folder's, a missing or mistyped field, or weights that fail their checksum.
    """
    state_file, weights_file = path / STATE, path / WEIGHTS
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError, RecursionError) as e:
        raise BadInput(f"checkpoint {state_file} is unreadable ({type(e).__name__})") from None
    if not isinstance(state, dict):
        raise BadInput(f"checkpoint {state_file} is damaged or edited (not a JSON object)")
    if "state_sha256" not in state:
        # Written before states carried their own checksum. Anyone can recompute that checksum,
        # so it guards against damage, not forgery; what guards a state are the checks below
        # (its step is its folder's, every field has its type, the weights match their hash),
        # and an older run stays resumable.
        print(f"gankit: {state_file} has no state checksum (an older gankit wrote it): "
              "trusting its weights' checksum and its step.", file=sys.stderr)  # fmt: skip
    elif state["state_sha256"] != _digest(state):
        raise BadInput(f"checkpoint {state_file} is damaged or edited (state checksum mismatch)")
    step = state.get("step")
    if type(step) is not int or path.name != f"step-{step:08d}":
        raise BadInput(f"checkpoint {state_file} says step {step!r}, not its folder's {path.name}")
    for fields, holder in ((FIELDS, state), (DATA_FIELDS, state.get("data"))):
        for key, kind in fields.items():
            if not isinstance(holder, dict) or not isinstance(holder.get(key), kind):
                raise BadInput(f"checkpoint {state_file} lacks a valid {key!r}")
    if not weights_file.is_file():
        raise BadInput(f"checkpoint {weights_file} is missing")
    if sha256_file(weights_file) != state.get("sha256"):
        raise BadInput(f"checkpoint {weights_file} is corrupt (checksum mismatch)")
    return state


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify one checkpoint folder; BadInput names the file and what is wrong."""
    state, weights_file = verify(path), path / WEIGHTS
    try:
        tensors = load_file(weights_file)
    except (SafetensorError, OSError, ValueError) as e:
        raise BadInput(f"checkpoint {weights_file} is unreadable ({e})") from None
    for key, value in tensors.items():
        if key.startswith("rng.") and not _rng_state(value):
            raise BadInput(f"checkpoint {weights_file} holds a malformed random state {key}")
    return tensors, state


def _rng_state(t: torch.Tensor) -> bool:
    """Whether `t` can be a generator's state: CPU (Mersenne Twister) or CUDA (Philox) bytes."""
    sizes = (torch.Generator().get_state().numel(), 16)
    return t.dtype == torch.uint8 and t.ndim == 1 and t.numel() in sizes


def load_latest(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], Path]:
    """The newest checkpoint that verifies; bad ones are named on stderr and passed over."""
    problems = []
    for path in reversed(list_steps(folder)):
        try:
            tensors, state = load(path)
        except BadInput as e:
            problems.append(str(e))
            print(f"gankit: skipping {e}", file=sys.stderr)
            continue
        return tensors, state, path
    detail = f" ({'; '.join(problems)})" if problems else ""
    raise BadInput(
        f"no usable checkpoint in {folder}{detail}: start the run again with `gankit train`."
    )


# -- nested state (optimiser state dicts) <-> flat tensors + JSON --------------------------------
def split_tensors(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor inside `obj` into `tensors` (keyed by its path); return the JSON rest."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):  # keys kept with their types (optimiser state is keyed by int)
        return {
            "__dict__": [[k, split_tensors(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]
        }
    if isinstance(obj, (list, tuple)):
        return [split_tensors(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    return obj


def join_tensors(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of split_tensors."""
    if isinstance(obj, dict) and "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: join_tensors(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [join_tensors(v, tensors) for v in obj]
    return obj


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore_modules(recipe: Any, tensors: dict[str, torch.Tensor]) -> None:
    """Load a checkpoint's module tensors into a built recipe's modules (an EMA copy missing
    from the checkpoint starts as its live network)."""
    averaged = {average: live for live, average in recipe.ema_pairs()}
    for name, module in recipe.modules.items():
        prefix = f"module.{name}."
        weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        if name in averaged and not weights:  # EMA switched on for a resumed run
            module.load_state_dict(recipe.modules[averaged[name]].state_dict())
            continue
        try:
            module.load_state_dict(weights)
        except RuntimeError as e:
            raise BadInput(
                f"checkpoint does not fit network {name} as configured "
                f"({str(e).splitlines()[0]}): keep nets.* as the run had them."
            ) from None
    recipe.after_restore()
