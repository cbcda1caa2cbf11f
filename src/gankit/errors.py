"""The one exception type for bad input: the CLI turns it into exit code 2 and one line."""

import difflib
from collections.abc import Iterable


class BadInput(Exception):
    """A problem with what the user gave (config, data, checkpoint), with the fix in its message."""


def closest(name: str, choices: Iterable[str]) -> str:
    """' Did you mean "x"?' for the nearest choice, or '' when nothing is close."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f' Did you mean "{match[0]}"?' if match else ""
