"""The one exception type for bad input: the CLI turns it into exit code 2 and one line."""

import difflib
from collections.abc import Iterable


class BadInput(Exception):
    """A problem with what the user gave (config, data, checkpoint), with the fix in its message."""


def closest(name: str, choices: Iterable[str]) -> str:
    """' Did you mean "x"?' for the nearest choice, or '' when nothing is close."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f' Did you mean "{match[0]}"?' if match else ""


def printable(text: str) -> str:
    """`text` on one line: line breaks and control characters (a hostile file name or key can
    carry them, e.g. an ANSI escape) are shown escaped, as Python writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
