"""docs/BENCHMARKS.md is what bench/render.py makes of the records, every table on it has its
command and a step of bench/suite.py that rewrites its records, and the page stays short enough
to read."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "BENCHMARKS.md"


def test_page_is_rendered_from_the_records() -> None:
    done = subprocess.run(
        [sys.executable, "bench/render.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_every_table_has_its_command_and_the_page_is_short() -> None:
    text = PAGE.read_text()
    assert text.count("\n") <= 440  # one sitting's reading
    for block in re.split(r"^#+ ", text, flags=re.M)[1:]:
        title = block.splitlines()[0]
        tables = re.findall(r"^\|.*\|$\n^\|(?:---\|)+$", block, flags=re.M)
        for table in tables:
            before = block[: block.index(table)]
            assert re.search(r"^    \S", before, flags=re.M), f"a table of '{title}' has no command"
    assert "No record yet" not in text, "a section's records are missing"


def test_records_say_where_each_number_came_from() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import records

    for path in sorted(records.RECORDS.glob("*.jsonl")):
        for i, r in enumerate(records.read(path.stem)):
            missing = {"command", "machine", "torch", "date"} - set(r)
            assert not missing, f"{path.name} line {i + 1} lacks {sorted(missing)}"


def test_every_table_on_the_page_has_a_suite_step_that_rewrites_it(monkeypatch) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import records
    import render
    import suite

    read, shown = records.read, []
    monkeypatch.setattr(
        records, "read", lambda name, root=None: shown.append(name) or read(name, root)
    )
    for name in re.findall(r"^\{\{ (\w+) \}\}$", render.TEMPLATE.read_text(), flags=re.M):
        if name != "did_not_help":  # lessons of historical records: kept, never rerun
            render.TABLES[name]()
    on_page = {name for name in set(shown) if render.current(name)}
    written = {name for names in suite.WRITES.values() for name in names}
    assert on_page - written == set(), "tables whose records no step of bench/suite.py writes"
    assert set(suite.WRITES) == set(suite.steps(False)), "WRITES names every step, no other"


def test_publishing_a_suite_run_replaces_current_records_and_keeps_historical_ones(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import suite

    docs, run = tmp_path / "docs", tmp_path / "run"
    (run / "records").mkdir(parents=True)
    docs.mkdir()
    old = [{"fid": 9.0, "status": "historical", "lesson": "x"}, {"fid": 8.0}, {"fid": 7.0}]
    (docs / "races.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    (docs / "other.jsonl").write_text('{"fid": 1.0}\n')
    (run / "records" / "races.jsonl").write_text('{"fid": 6.0}\n\n{"fid": 5.0}\n')
    assert suite.publish(run, docs) == ["races"]
    lines = [json.loads(line) for line in (docs / "races.jsonl").read_text().splitlines()]
    assert lines == [old[0], {"fid": 6.0}, {"fid": 5.0}]
    assert (docs / "other.jsonl").read_text() == '{"fid": 1.0}\n'
