"""The docs are run: every ```python block of docs/API.md and the guide executes (their asserts
check what the prose claims), every `gankit` command they show parses with valid settings, and the
guide quotes exactly what scripts/guide_figures.py wrote."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gankit import autoconfig, cli, config
from gankit.lab import LABS  # importing LABS registers every lab
from gankit.lab.registry import settings_of

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs/guide"
DOCS = [ROOT / "README.md", ROOT / "docs/API.md", *sorted(GUIDE.glob("*.md"))]
PYTHON = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL = re.compile(r"^```(bash|text)\n(.*?)^```", re.MULTILINE | re.DOTALL)
QUOTED = re.compile(r"<!-- out:(\S+) -->\n(.*?)<!-- /out -->", re.DOTALL)
PICTURE = re.compile(r"!\[[^\]]*\]\(([^)]+\.png)\)")

# Runs each block, in order, in one namespace (like a notebook); tracebacks name the doc's lines.
RUNNER = """
import json, sys
namespace = {"__name__": "__docs__"}
for path, line, code in json.load(open(sys.argv[1])):
    exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
"""


def python_blocks(doc: Path) -> list[tuple[str, int, str]]:
    text = doc.read_text()
    return [(str(doc), text.count("\n", 0, m.start(1)) + 1, m[1]) for m in PYTHON.finditer(text)]


@pytest.mark.parametrize(
    "doc", [d for d in DOCS if python_blocks(d) and d.name != "README.md"], ids=lambda d: d.name
)
def test_python_examples_run(doc: Path, tmp_path: Path) -> None:
    (tmp_path / "configs").symlink_to(ROOT / "configs")  # the examples name shipped configs
    blocks = tmp_path / "blocks.json"
    blocks.write_text(json.dumps(python_blocks(doc)))
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(blocks)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]


def shown_commands() -> list[tuple[str, list[str]]]:
    """(doc name, argv) of every `gankit ...` command in the docs' bash blocks, and of every
    `$ gankit ...` line of their text blocks (console transcripts)."""
    found = []
    for doc in DOCS:
        for language, block in SHELL.findall(doc.read_text()):
            prompt = "$ " if language == "text" else ""
            for line in block.splitlines():
                command = line.removeprefix(prompt).split("  #")[0].strip()
                if line.startswith(prompt + "gankit ") and "|" not in command:
                    found.append((doc.name, shlex.split(command)[1:]))
    return found


@pytest.mark.parametrize(
    "doc, argv", shown_commands(), ids=[f"{d}: {' '.join(a[:2])}" for d, a in shown_commands()]
)
def test_shown_commands_are_valid(doc: str, argv: list[str]) -> None:
    args = cli.parser().parse_args(argv)  # exits (failing the test) on an unknown option
    if args.command == "train" and args.config:
        config.load(ROOT / args.config, args.set)  # every --set key exists and has the right type
    if args.command == "train" and args.data:  # the config --data writes, with the --set keys
        config.from_dict(config.apply_overrides(autoconfig.base(32, 3, args.data), args.set))
    if args.command == "lab":
        assert args.name in LABS
        known = settings_of(args.name)
        assert all(s.partition("=")[0] in known for s in args.set), (doc, argv)


def test_docs_show_commands() -> None:
    assert len(shown_commands()) >= 20


def test_guide_quotes_what_the_script_wrote() -> None:
    quoted = 0
    for chapter in sorted(GUIDE.glob("*.md")):
        for name, body in QUOTED.findall(chapter.read_text()):
            snippet = GUIDE / "out" / f"{name}.md"
            assert snippet.is_file(), f"{chapter.name} quotes {name}, which is missing"
            assert body == snippet.read_text(), (
                f"{chapter.name}: the {name} region differs from {snippet}: "
                f"rerun scripts/guide_figures.py"
            )
            quoted += 1
    assert quoted >= 30


def test_guide_pictures_exist_and_are_small() -> None:
    pictures = [  # snippets are included in the chapters: their links are relative to GUIDE
        (GUIDE / link).resolve()
        for doc in [*GUIDE.glob("*.md"), *(GUIDE / "out").glob("*.md")]
        for link in PICTURE.findall(doc.read_text())
    ]
    assert len(pictures) >= 15
    assert all(p.is_file() for p in pictures), [p for p in pictures if not p.is_file()]
    total = sum(p.stat().st_size for p in (ROOT / "docs/img/guide").glob("*.png"))
    assert total < 3_000_000


def test_guide_index_links_every_chapter() -> None:
    index = (GUIDE / "README.md").read_text()
    chapters = [p.name for p in GUIDE.glob("[0-9][0-9]-*.md")]
    assert len(chapters) >= 10
    assert all(f"({name})" in index for name in chapters)
