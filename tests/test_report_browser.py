"""The run report in a real browser: Debian's chromium, headless, with the network cut,
opens DIR/report.html of a tiny run; every picture decodes and no script or resource fails."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import tiny_digits

from gankit import api, config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install playwright"
)
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="no chromium: apt-get install chromium"
)

PICTURES = """() => Array.from(document.images).map(i => [i.complete, i.naturalWidth])"""


def test_report_is_self_contained_and_every_picture_decodes(tmp_path):
    raw = tiny_digits(steps=20)
    raw["eval"] = {"at_end": True, "n": 200, "metrics": ["classes"]}
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page()
        fetched: list[str] = []
        page.route("**/*", lambda route: (fetched.append(route.request.url), route.continue_()))
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(r.url))
        page.goto((run / "report.html").as_uri())
        pictures = page.evaluate(PICTURES)
        headings = page.locator("h2").all_inner_texts()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert problems == []
    assert all(url.startswith("file://") for url in fetched)  # nothing from the network
    grids = list((run / "samples").glob("step-*.png"))
    assert len(grids) >= 1 and len(pictures) == 1 + len(grids)  # the curves, every grid
    assert all(done and width > 0 for done, width in pictures)
    assert "Training curves" in headings
    assert (tmp_path / "report.png").stat().st_size > 10_000
