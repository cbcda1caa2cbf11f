"""SIGKILL `gankit train` / `gankit resume` 20 times; every resume works and nothing is lost.

The long version (real `gankit` processes, 100 kills): python scripts/kill_test.py
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "scripts"))
from kill_test import kill_test  # noqa: E402


def test_killed_twenty_times_the_run_ends_bit_identical(tmp_path):
    report = kill_test(tmp_path, kills=20, steps=400, launcher="fork", seed=0)
    assert report.failures == [], asdict(report)
    assert report.kills == 20, asdict(report)
    assert report.kills_of_train >= 1
    # Some kills landed inside a checkpoint write. Ten kills aim at a write; on a loaded machine
    # the write can finish before the kill arrives (CI once saw 4), so ask for three.
    assert report.kills_mid_write >= 3
    assert report.newest_checkpoint_verified == 20  # after every kill, the newest one loads
    assert report.resumes_failed == 0 and report.resumes_completed == 1
    assert report.final_step == 400
    assert report.generator_bit_identical
    assert report.metrics_identical  # metrics.jsonl too, apart from wall-clock fields
