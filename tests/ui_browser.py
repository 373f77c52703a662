"""The dashboard's browser tests: a real ``vigil server`` over the demo's data, and Debian's
Chromium driven headless by Playwright (no browser download: ``/usr/bin/chromium``).

The fixtures (in ``conftest.py``): ``dashboard`` (session-wide) runs ``vigil demo``'s whole
pipeline once (captures through the capture middleware, seven hourly executions of which three
drift, alarms to ALARM and back with notifications, a training job with its loss curve, a
failed pipeline, the host's figures), then starts ``vigil server`` over that data directory with
tokens ``admin``, ``writer`` and ``reader``; ``browser`` is one headless Chromium; ``open_page``
signs a fresh browser context in with a token and, at the test's end, fails it on any console
error or uncaught exception.

Screenshots go to ``test-artifacts/screenshots/`` (``$VIGIL_TEST_ARTIFACTS`` overrides the
folder): :func:`screenshot`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("VIGIL_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@dataclass
class Dashboard:
    """A running ``vigil server`` over the demo's data."""

    url: str
    data_dir: Path
    tokens: dict[str, str]  # name -> secret: admin, writer, reader
    demo_output: Path
    proc: Any = None


@dataclass
class Watched:
    """A signed-in page and what its console said."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def goto(self, dash: Dashboard, path: str) -> Any:
        """Open ``path`` on the dashboard; asserts a 200 answer; returns the response."""
        response = self.page.goto(dash.url + path)
        assert response is not None and response.status == 200, (
            f"{path}: {response.status if response else 'no response'}"
        )
        self.page.wait_for_load_state("load")
        return response


def watch(page: Any) -> Watched:
    """Collect ``page``'s console errors and uncaught exceptions."""
    watched = Watched(page)
    page.on("console", lambda m: m.type == "error" and watched.errors.append(m.text))
    page.on("pageerror", lambda e: watched.errors.append(f"uncaught: {e}"))
    return watched


def sign_in(page: Any, dash: Dashboard, token: str) -> None:
    """Sign in through the form, as a person does."""
    page.goto(dash.url + "/signin")
    page.fill("#token", dash.tokens[token])
    page.click("#signin-form button[type=submit]")
    page.wait_for_load_state("load")


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``{ARTIFACTS}/screenshots/{name}.png``."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def chart_drawn(page: Any, figure_id: str) -> tuple[int, int]:
    """``(series, points)`` that vigil.js drew in the chart ``figure_id`` (after drawing)."""
    page.wait_for_selector(f"figure#{figure_id}[data-drawn]", state="attached", timeout=10_000)
    fig = page.locator(f"figure#{figure_id}")
    assert fig.get_attribute("data-drawn") in ("1", "empty"), fig.get_attribute("data-drawn")
    canvas = page.locator(f"figure#{figure_id} canvas")
    if fig.get_attribute("data-drawn") == "1":
        assert canvas.count() == 1, f"{figure_id}: no canvas"
    return int(fig.get_attribute("data-series") or 0), int(fig.get_attribute("data-points") or 0)
