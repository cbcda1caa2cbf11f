"""The `gankit lab` command (and `gankit latent`, registered from gankit.viz's latent tools)."""

from __future__ import annotations

import argparse
import json

import yaml

from gankit.cli.base import SEED, command, whole
from gankit.errors import BadInput

LAB_NAMES = (
    "optimal-d",
    "saturation",
    "vanishing-gradients",
    "js-vs-wasserstein",
    "mode-collapse",
    "doctor",
)


def parse_settings(items: list[str]) -> dict:
    """`key=value` pairs, each value read as YAML (numbers, lists, strings)."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f'--set "{item}" must look like key=value, e.g. steps=500.')
        out[key.strip()] = yaml.safe_load(text)
    return out


@command(
    "lab",
    "run an experiment that makes GAN theory visible (plots + a JSON of its numbers)",
    "gankit lab optimal-d --out labs/optimal-d --set steps=2000",
)
def _lab(p: argparse.ArgumentParser):
    p.add_argument("name", choices=LAB_NAMES, help="the lab: " + ", ".join(LAB_NAMES))
    p.add_argument("--out", help="folder for its plots and JSON (default: labs/<name>)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a lab setting, e.g. steps=500 or epochs=[1,5] (repeatable; see the lab's JSON "
        "for all of them)",
    )

    def run(a: argparse.Namespace) -> int:
        from gankit import lab

        out = a.out or f"labs/{a.name}"
        numbers = lab.run(a.name, out, parse_settings(a.set))
        print(f"lab {a.name}: {numbers['seconds']} s, numbers in {out}/{a.name}.json")
        for line in numbers.get("summary", []):
            print(f"  {line}")
        if not numbers.get("summary"):
            print(json.dumps(numbers)[:2000])
        return 0

    return run


@command(
    "latent",
    "explore a run's latent space: interpolation, latent arithmetic, GAN inversion",
    "gankit latent runs/quick --interpolate slerp --arithmetic 1 7 4 --invert 64",
)
def _latent(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    p.add_argument("--out", help="folder for the grids and latent.json (default: RUN/latent)")
    p.add_argument("--interpolate", choices=("linear", "slerp"), help="an interpolation grid")
    p.add_argument(
        "--arithmetic",
        nargs=3,
        type=int,
        metavar=("A", "B", "C"),
        help="class-mean latents (classes found by the evaluator): G(A - B + C)",
    )
    p.add_argument(
        "--invert",
        type=int,
        metavar="N",
        help="invert N held-out real items: z* = argmin ||G(z)-x||",
    )
    p.add_argument(
        "--steps",
        type=whole(1, 1_000_000, "a number of steps"),
        default=300,
        help="optimiser steps of the inversion",
    )
    p.add_argument("--seed", type=SEED, default=0, help="seed of the latents")

    def run(a: argparse.Namespace) -> int:
        from pathlib import Path

        from gankit import api
        from gankit.viz import latent

        if not (a.interpolate or a.arithmetic or a.invert is not None):
            raise BadInput("give --interpolate, --arithmetic or --invert (or several).")
        loaded = api.load(a.run)
        out = Path(a.out or Path(a.run) / "latent")
        out.mkdir(parents=True, exist_ok=True)
        result: dict = {}
        if a.interpolate:
            path = latent.interpolation_grid(loaded, out, a.interpolate, seed=a.seed)
            result["interpolation"] = {"mode": a.interpolate, "grid": str(path)}
        if a.arithmetic:
            result["arithmetic"] = latent.arithmetic(loaded, out, *a.arithmetic, seed=a.seed)
        if a.invert is not None:
            result["inversion"] = latent.inversion_report(loaded, out, a.invert, a.steps, a.seed)
        (out / "latent.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result))
        return 0

    return run
