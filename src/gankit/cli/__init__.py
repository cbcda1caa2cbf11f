"""The `gankit` command: parse, call gankit.api, print. Exit 0 ok, 2 bad input, 1 anything else.

Each module of this package registers its commands with `base.command`; their heavy imports are
inside the runners, so `gankit list` and `--help` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gankit import __version__
from gankit.cli.base import COMMANDS, Help
from gankit.errors import BadInput, printable

# Importing the command modules registers their commands, in the order `gankit --help` lists.
# isort: off
from gankit.cli import runs  # noqa: E402,F401  train, resume, sample, classify, export, push, list
from gankit.cli import evaluation, lab, translate, upscale  # noqa: E402,F401
from gankit.cli import generate, playground  # noqa: E402,F401
# isort: on


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="gankit",
        formatter_class=Help,
        description="Train, evaluate and understand GANs.",
        epilog="example:\n  gankit train configs/quickstart.yaml\n  gankit list",
    )
    top.add_argument("--version", action="version", version=f"gankit {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, example, setup) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=Help,
            epilog=f"example:\n  {example}",
        )
        p.set_defaults(handler=setup(p))
    return top


def _resume_hint(args: argparse.Namespace) -> str:
    """How to go on after Ctrl-C: training continues from the run's newest checkpoint; any other
    command is simply run again."""
    if args.command not in ("train", "resume"):
        return ""
    run = args.run if args.command == "resume" else args.out
    return f"; continue from the newest checkpoint with `gankit resume {run or 'RUN'}`"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except BadInput as e:
        print(f"gankit: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gankit: interrupted{_resume_hint(args)}.", file=sys.stderr)
        return 130
    except Exception as e:  # anything unforeseen: one line, and the traceback on request
        from gankit.train.trainer import TrainingError

        if isinstance(e, (TrainingError, OSError)):
            print(f"gankit: error: {one_line(e)}", file=sys.stderr)
            return 1
        raise


def one_line(error: Exception) -> str:
    """The error's message on one line (see errors.printable)."""
    return printable(str(error))
