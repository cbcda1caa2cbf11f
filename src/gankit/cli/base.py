"""What every command module shares: the command table, the help layout and common flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable


class Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults and keeps the examples' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        # No "(default: None)" on required options, nor a second default where the help has one.
        text = action.help or ""
        if action.required or action.default in (None, []) or "default" in text:
            return text
        return super()._get_help_string(action)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str, help: str, example: str) -> Callable:
    """Register a subcommand: `setup(parser)` adds its arguments, and returns its runner."""

    def add(setup: Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]]):
        COMMANDS[name] = (help, example, setup)
        return setup

    return add


def add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. train.steps=500 (repeatable)",
    )


def ema_switch(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument(
        "--ema",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"{verb} the EMA generator when the run has one",
    )


def whole(lo: int, hi: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from lo to hi. Out of range, argparse's one-line error
    names the flag and the range, before any run is loaded (a huge seed or count would otherwise
    fail deep in torch, or fill the memory)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value}: {what} is a whole number from {lo} to {hi}")
        return value

    return parse


SEED = whole(0, 2**32 - 1, "a seed")  # the range of train.seed
SAMPLES = whole(1, 1_000_000, "a number of samples")  # the range of eval.n
SIDE = whole(8, 1024, "an image side")
