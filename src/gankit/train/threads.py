"""CPU threads for torch: train.threads sets them; the start of a run says how many it uses.

Small GANs on a CPU are dominated by many tiny operations, where threads that have to wait for a
core cost more than they bring: on a 2-core machine already busy with other work, the ring toy
ran at about 10 steps/s with two threads against about 190 with one. So the count is said at the
start of every run, with a hint when the machine looks busy.
"""

from __future__ import annotations

import os
import sys

import torch


def setup_threads(threads: int | None, say: bool = True) -> int:
    """Set torch's intra-op threads to `threads` (None: keep torch's choice, which follows
    OMP_NUM_THREADS or the core count); print the count and, on a busy machine, a hint."""
    if threads is not None:
        torch.set_num_threads(threads)
    used = torch.get_num_threads()
    if say:
        print(f"gankit: {thread_message(used, threads is not None)}", file=sys.stderr)
    return used


def thread_message(used: int, chosen: bool) -> str:
    cores = os.cpu_count() or 1
    source = "train.threads" if chosen else _default_source()
    line = f"torch uses {used} CPU thread{'s' if used != 1 else ''} ({source}; {cores} cores"
    load = _load_average()
    if load is None:
        return line + ")."
    line += f", load average {load:.1f})"
    # The load is the work already running: what our threads would share the cores with.
    if used > 1 and load >= 1 and load + used > cores:
        fewer = max(1, min(used - 1, cores - round(load)))
        return (
            f"{line}: the machine is busy, and waiting threads slow small models down; "
            f"train.threads: {fewer} (or OMP_NUM_THREADS={fewer}) is often much faster here."
        )
    return line + "."


def _default_source() -> str:
    value = os.environ.get("OMP_NUM_THREADS")
    return f"OMP_NUM_THREADS={value}" if value else "torch's default; set train.threads to change"


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):  # not on every platform (Windows)
        return None
