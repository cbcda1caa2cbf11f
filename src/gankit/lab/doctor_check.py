"""doctor: the training doctor on shipped configs run briefly (it should stay quiet) and on runs
built to fail (it should fire): a table of which problems it flagged, and when.

Each case is an ordinary `gankit train` (api.train) into out/runs/NAME; the doctor's events are
read back from the run's metrics.jsonl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit import api
from gankit.lab.registry import LABS
from gankit.train.runlog import read

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
QUIET = "train.progress=false"
CASES: dict[str, tuple[str, list[str], str]] = {  # name -> (config, overrides, expectation)
    "ring": ("ring.yaml", [], "quiet"),
    "grid": ("grid.yaml", [], "quiet"),
    "quickstart": ("quickstart.yaml", ["eval.at_end=false"], "quiet"),
    "ring-lr-0.02": ("ring.yaml", ["optim.lr_g=0.02", "optim.lr_d=0.02"], "fires"),
    "ring-minimax-strong-d": (
        "ring.yaml",
        ["loss.name=minimax", "optim.lr_d=5e-3", "train.n_critic=5"],
        "fires",
    ),
}


def events_of(run: Path) -> list[dict[str, Any]]:
    return [e for r in read(run) for e in r.get("doctor", [])]


@LABS.register("doctor")
def doctor(
    out: Path,
    *,
    steps: int = 1000,
    image_steps: int = 300,
    cases: list[str] = list(CASES),  # noqa: B006
    configs: str = str(CONFIGS),
) -> dict[str, Any]:
    """The training doctor on shipped configs run briefly and on runs built to fail."""
    rows = []
    for name in cases:
        cfg, overrides, expected = CASES[name]
        n = image_steps if cfg == "quickstart.yaml" else steps
        sets = [*overrides, f"train.steps={n}", f"train.log_every={max(n // 20, 1)}", QUIET]
        run = out / "runs" / name
        try:
            api.train(Path(configs) / cfg, run, sets)
            error = None
        except Exception as e:  # a run built to fail may stop on non-finite losses
            error = str(e).splitlines()[0]
        events = events_of(run)
        fired = ", ".join(f"{e['check']} (step {e['step']})" for e in events) or "none"
        ok = (expected == "quiet") == (not events)
        rows.append(
            {"case": name, "config": cfg, "overrides": overrides, "steps": n,
             "expected": expected, "events": fired, "as_expected": ok, "error": error}
        )  # fmt: skip
    numbers: dict[str, Any] = {"rows": rows}
    numbers["summary"] = [
        f"{r['case']:<22} expected {r['expected']:<5} -> {r['events']}"
        + ("" if r["as_expected"] else "  [UNEXPECTED]")
        for r in rows
    ]
    return numbers
