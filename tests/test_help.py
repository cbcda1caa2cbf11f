"""`gankit --help` and every subcommand's help: exit 0, an example, and the defaults shown."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from gankit import cli

PARSER = cli.parser()  # imports the plugin modules, so COMMANDS is complete
SUBPARSERS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction))


def help_of(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def rendered(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """One option's lines of the help, as the parser's formatter writes them."""
    formatter = parser._get_formatter()
    formatter.add_argument(action)
    return " ".join(formatter.format_help().split())


def options_with_defaults(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings
        and a.default not in (None, [], argparse.SUPPRESS)
        and not a.required
        and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))
    ]


def test_top_level_help_lists_commands_and_examples() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gankit", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "example:\n  gankit train configs/" in done.stdout
    assert all(name in done.stdout for name in cli.COMMANDS)


@pytest.mark.parametrize("name", sorted(SUBPARSERS.choices))
def test_subcommand_help_has_example_and_defaults(name: str, capsys) -> None:
    text = help_of([name], capsys)
    assert f"example:\n  gankit {name}" in text
    parser = SUBPARSERS.choices[name]
    flat = " ".join(text.split())
    for action in options_with_defaults(parser):
        line = rendered(parser, action)
        assert "(default:" in line, f"gankit {name} {action.option_strings[0]}: no default shown"
        assert line in flat
    for action in parser._actions:  # where the help explains a default itself, it says it alike
        if "default" in (action.help or ""):
            assert "(default:" in rendered(parser, action), action.option_strings


def test_no_default_none_noise(capsys) -> None:
    texts = [help_of([name], capsys) for name in SUBPARSERS.choices]
    assert not [t for t in texts if "(default: None)" in t or "(default: [])" in t]


def test_defaults_are_the_real_ones(capsys) -> None:
    assert "number of samples (default: 64)" in " ".join(help_of(["sample"], capsys).split())
    assert "(default: runs/<config name>)" in help_of(["train"], capsys)
