"""Kill test: SIGKILL `gankit train` / `gankit resume` at random moments, then resume.

Every kill is followed by a check that the newest checkpoint on disk loads and verifies, and by a
`gankit resume`; at the end the run's generator must equal an uninterrupted run's bit for bit (CPU).
Half of the kills are aimed at a checkpoint write (the process is killed as soon as a
`.tmp-step-*` folder appears, a random while into training), a quarter land at a random moment of
training and a quarter at a random moment after launch (start-up included).

    python scripts/kill_test.py                          # 100 kills of real `gankit` processes
    python scripts/kill_test.py --kills 20 --fork        # as tests/test_reliability_kill.py does

`--fork` starts each `gankit` from a warm fork server (torch already imported), so a kill costs
milliseconds instead of the seconds a fresh interpreter needs; the process is killed the same way.
Prints one JSON object with what happened.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

TMP_PREFIX = ".tmp-step-"


def toy_config(steps: int) -> dict:
    """A tiny ring run that checkpoints every step, so kills often land mid-write."""
    return {
        "data": {"name": "ring", "options": {"n": 4096}},
        "nets": {
            "g": "mlp",
            "d": "mlp",
            "z_dim": 2,
            "g_options": {"hidden": [32, 32]},
            "d_options": {"hidden": [32, 32]},
        },
        "optim": {"lr_g": 1e-3, "lr_d": 1e-3},
        "train": {
            "steps": steps,
            "batch_size": 64,
            "device": "cpu",
            "log_every": 5,
            "sample_every": 10**6,
            "checkpoint_every": 1,
            "keep_checkpoints": 2,
            "progress": False,
        },
    }


# -- launching `gankit` --------------------------------------------------------------------------
class Child:
    """A running `gankit` command: wait for it with a timeout, or SIGKILL it."""

    def wait(self, timeout: float | None) -> int | None:  # exit code, or None if still running
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError


class SubprocessChild(Child):
    def __init__(self, args: list[str]) -> None:
        self.p = subprocess.Popen(
            [sys.executable, "-m", "gankit", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self, timeout: float | None) -> int | None:
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.stderr = self.p.stderr.read() if self.p.stderr else ""
        return self.p.returncode

    def kill(self) -> None:
        self.p.kill()  # SIGKILL
        self.p.wait()


def _run_cli(args: list[str]) -> None:
    """Fork-server target: what `python -m gankit ARGS` does, in an already warm interpreter."""
    import torch

    from gankit.cli import main

    torch.set_num_threads(1)
    sys.exit(main(args))


class ForkChild(Child):
    _ctx = None

    def __init__(self, args: list[str]) -> None:
        if ForkChild._ctx is None:
            ForkChild._ctx = multiprocessing.get_context("forkserver")
            ForkChild._ctx.set_forkserver_preload(
                ["torch", "gankit.api", "gankit.cli", "torch.utils.tensorboard"]
            )
        self.p = ForkChild._ctx.Process(target=_run_cli, args=(args,))
        self.p.start()
        self.stderr = ""

    def wait(self, timeout: float | None) -> int | None:
        self.p.join(timeout)
        return self.p.exitcode

    def kill(self) -> None:
        self.p.kill()  # SIGKILL
        self.p.join()


LAUNCHERS: dict[str, Callable[[list[str]], Child]] = {
    "subprocess": SubprocessChild,
    "fork": ForkChild,
}


# -- the test ------------------------------------------------------------------------------------
@dataclass
class Report:
    kills: int = 0
    kills_of_train: int = 0
    kills_of_resume: int = 0
    kills_mid_write: int = 0  # the kill left a half-written .tmp-step-* folder behind
    newest_checkpoint_verified: int = 0  # after a kill, the newest checkpoint loaded fine
    resumes_started: int = 0
    resumes_failed: int = 0  # exited non-zero (a resume we killed is counted as a kill)
    resumes_completed: int = 0
    trains_restarted: int = 0  # killed before its first checkpoint: `gankit train` again
    newest_step_after_kills: list[int] = field(default_factory=list)
    final_step: int = 0
    generator_bit_identical: bool = False
    metrics_identical: bool = False
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def newest_step(run: Path) -> int:
    from gankit.train import checkpoint

    steps = checkpoint.list_steps(run / "checkpoints")
    return int(steps[-1].name.removeprefix("step-")) if steps else 0


def verify_newest(run: Path) -> bool:
    """The newest checkpoint folder on disk loads and matches its checksum."""
    from gankit.errors import BadInput
    from gankit.train import checkpoint

    steps = checkpoint.list_steps(run / "checkpoints")
    if not steps:
        return True
    try:
        checkpoint.load(steps[-1])
    except BadInput:
        return False
    return True


def partial_writes(run: Path) -> set[tuple[str, int, int]]:
    """The `.tmp-step-*` folders on disk, each with its inode and change time (so a leftover of an
    earlier kill is told apart from a new write of the same step)."""
    folder = run / "checkpoints"
    found = set()
    for path in folder.glob(TMP_PREFIX + "*") if folder.is_dir() else []:
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            found.add((path.name, stat.st_ino, stat.st_ctime_ns))
    return found


def wait_for_write(run: Path, child: Child, old: set, limit: float) -> None:
    """Return as soon as a new checkpoint write is under way, the child ends or `limit` passes."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if partial_writes(run) - old:
            return
        if child.wait(0.0005) is not None:
            return


# Where kills land, in turn: any moment after launch (start-up included), a checkpoint write a
# while into training, a random moment of training, another write.
MODES = ("launch", "write", "training", "write")


def wait_for_step(run: Path, child: Child, step: int, limit: float) -> None:
    """Return once checkpoint `step` (or a later one) exists, the child ends or `limit` passes."""
    end = time.monotonic() + limit
    while time.monotonic() < end and newest_step(run) < step and child.wait(0.002) is None:
        pass


def kill_once(
    run: Path, child: Child, rng: random.Random, mode: str, max_delay: float, old: set
) -> int | None:
    """Let `child` run a while and SIGKILL it; returns its exit code if it ended first.

    Moments inside training are counted in checkpoints (0 to 3 more), not seconds, so the kills
    spread over the run however fast the machine is.
    """
    if mode == "launch":
        time.sleep(rng.uniform(0, max_delay))
    else:
        wait_for_step(run, child, newest_step(run) + rng.randint(1, 4), limit=max_delay * 8)
        if mode == "write":
            wait_for_write(run, child, old, limit=max_delay)
            time.sleep(rng.uniform(0, 0.002))  # a small checkpoint is written in a few ms
        else:
            time.sleep(rng.uniform(0, 0.05))  # about one step with its checkpoint
    code = child.wait(0)
    if code is not None:
        return code
    child.kill()
    return None


def interrupted_run(
    config: Path, run: Path, kills: int, launch: Callable, rng: random.Random, max_delay: float
) -> Report:
    """Train `run` to the end while killing it `kills` times; resume after each kill."""
    report, started = Report(), False
    while True:
        if newest_step(run) or not started:
            args = ["resume", str(run)] if started else ["train", str(config), "--out", str(run)]
        else:  # killed before its first checkpoint: nothing to resume, so train again
            args = ["train", str(config), "--out", str(run)]
            report.trains_restarted += 1
        is_resume = args[0] == "resume"
        report.resumes_started += is_resume
        started = True
        before, old = newest_step(run), partial_writes(run)
        child = launch(args)
        if report.kills >= kills:
            code = child.wait(None)
        else:
            mode = MODES[report.kills % len(MODES)]
            code = kill_once(run, child, rng, mode, max_delay, old)
        if code is None:  # killed
            report.kills += 1
            report.kills_of_resume += is_resume
            report.kills_of_train += not is_resume
            report.kills_mid_write += bool(partial_writes(run) - old)
            report.newest_step_after_kills.append(newest_step(run))
            if verify_newest(run):
                report.newest_checkpoint_verified += 1
            else:
                report.failures.append(f"kill {report.kills}: newest checkpoint does not verify")
            continue
        if code != 0:
            report.resumes_failed += is_resume
            report.failures.append(f"{args[0]} exited {code}: {getattr(child, 'stderr', '')}")
            if before == newest_step(run):  # no progress possible: give up
                break
            continue
        report.resumes_completed += is_resume
        break
    report.final_step = newest_step(run)
    return report


def generator(run: Path) -> dict:
    from safetensors.torch import load_file

    from gankit.train import checkpoint

    tensors = load_file(checkpoint.list_steps(run / "checkpoints")[-1] / "weights.safetensors")
    return {k: v for k, v in tensors.items() if k.startswith("module.g.")}


def logged(run: Path) -> list[dict]:
    from gankit.train.runlog import read

    wall = ("time_s", "steps_per_s")
    return [{k: v for k, v in r.items() if k not in wall} for r in read(run)]


def kill_test(
    workdir: Path, kills: int = 20, steps: int = 120, launcher: str = "fork", seed: int = 0
) -> Report:
    """The whole test: an uninterrupted reference run and a run killed `kills` times."""
    import torch

    start = time.perf_counter()
    launch, rng = LAUNCHERS[launcher], random.Random(seed)
    config = workdir / "kill.yaml"
    config.write_text(yaml.safe_dump(toy_config(steps)))
    reference = workdir / "reference"
    if launch(["train", str(config), "--out", str(reference)]).wait(None) != 0:
        raise RuntimeError("the uninterrupted reference run failed")
    # Kill at random within about one segment's setup plus a few steps.
    max_delay = 0.6 if launcher == "fork" else 6.0
    report = interrupted_run(config, workdir / "killed", kills, launch, rng, max_delay)
    a, b = generator(reference), generator(workdir / "killed")
    report.generator_bit_identical = a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) for k in a
    )
    report.metrics_identical = logged(reference) == logged(workdir / "killed")
    report.seconds = round(time.perf_counter() - start, 1)
    return report


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--steps", type=int, default=400, help="generator steps of the toy run")
    p.add_argument("--fork", action="store_true", help="launch from a warm fork server")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    p.add_argument("--keep", help="work in this folder (default: a temporary one)")
    a = p.parse_args()
    launcher = "fork" if a.fork else "subprocess"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(a.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = kill_test(workdir, a.kills, a.steps, launcher, a.seed)
    print(json.dumps(asdict(report) | {"launcher": launcher, "steps": a.steps}))
    ok = report.generator_bit_identical and not report.failures and report.kills >= a.kills
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
