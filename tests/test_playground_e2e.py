"""The playground in a real browser: Debian's chromium, headless, driven by Playwright.

GANKIT_SAVE_SCREENSHOT=1 also writes docs/img/playground.png (after a longer training).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_playground import live  # noqa: F401  (the fixture: a server in a thread)

from gankit.penalties import gradient_penalty

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_SHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "playground.png"
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install playwright"
)
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="no chromium: apt-get install chromium"
)

FIELD_COLOURS = """() => {
  const canvas = document.getElementById("field");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4) colours.add(pixels.slice(i, i + 3).join());
  return colours.size;
}"""


def test_page_trains_switches_loss_and_draws(live, tmp_path):  # noqa: F811
    save_docs_shot = os.environ.get("GANKIT_SAVE_SCREENSHOT") == "1"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 660})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(live.url)
        page.wait_for_function("() => window.playgroundState !== undefined")
        first = page.evaluate("window.playgroundState.fake")
        assert page.input_value("#loss") == "non-saturating"

        page.click("#start")
        steps = 1500 if save_docs_shot else 20
        page.wait_for_function(
            """([first, steps]) => window.playgroundState.step >= steps &&
               JSON.stringify(window.playgroundState.fake) !== JSON.stringify(first)""",
            arg=[first, steps],
            timeout=120_000,
        )
        assert page.evaluate(FIELD_COLOURS) > 50  # heat map, points and arrows are drawn
        if save_docs_shot:
            page.screenshot(path=DOCS_SHOT)

        page.select_option("#loss", "wgan-gp")
        page.wait_for_function(
            "() => playgroundState.settings.loss === 'wgan-gp' && playgroundState.step >= 5"
        )
        session = live.playground.session
        assert session.settings.loss == "wgan-gp"
        assert session.recipe.penalty.term is gradient_penalty  # the server trains the new game
        assert "running" in page.inner_text("#status")

        shot = tmp_path / "playground.png"
        page.screenshot(path=shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        browser.close()
    assert errors == []
