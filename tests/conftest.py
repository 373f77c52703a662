"""Shared fixtures: the real SageMaker artifacts in ../shared/data/sagemaker/."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# one moto server for the whole session, whichever modules ask for it (a fixture imported into
# each module would be one per module: a second server, while the first's clients live on)
from s3_fixture import s3_bucket, s3_endpoint  # noqa: F401

# The loopback receivers of the tests (and of servers started as subprocesses, which inherit
# it) are reached through the operator's outbound allow-list (vigil.net).
os.environ.setdefault("VIGIL_OUTBOUND_ALLOW", "127.0.0.1/32,::1/128")

ROOT = Path(__file__).resolve().parents[1]
SAGEMAKER = ROOT.parent / "shared" / "data" / "sagemaker"


@pytest.fixture(scope="session")
def sagemaker_dir() -> Path:
    assert SAGEMAKER.is_dir(), f"{SAGEMAKER} is missing: the real SageMaker fixtures are needed"
    return SAGEMAKER


@pytest.fixture
def sagemaker_baseline(tmp_path: Path, sagemaker_dir: Path) -> Path:
    """SageMaker's real statistics.json and constraints.json in one directory."""
    d = tmp_path / "sm-baseline"
    d.mkdir()
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", d / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", d / "constraints.json")
    return d


def sagemaker_columns(sagemaker_dir: Path) -> dict[str, list[float]]:
    """The 100 raw rows behind SageMaker's statistics.json (all on KLL level 0, in order)."""
    stats = json.loads((sagemaker_dir / "data_quality_statistics.json").read_text())
    cols = {}
    for f in stats["features"]:
        data = f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
        assert len(data) == 1, "the fixture keeps every item on level 0"
        cols[f["name"]] = data[0]
    return cols


@pytest.fixture
def sagemaker_csv(tmp_path: Path, sagemaker_dir: Path) -> Path:
    """The rows as a header-less CSV, as SageMaker's baselining job read them."""
    cols = sagemaker_columns(sagemaker_dir)
    names = list(cols)
    path = tmp_path / "sm-data.csv"
    lines = [",".join(repr(cols[c][i]) for c in names) for i in range(len(cols[names[0]]))]
    path.write_text("\n".join(lines) + "\n")
    return path


# The dashboard's browser tests (tests/ui_browser.py): one demo run and one server per session.


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``vigil server`` over the data of a whole ``vigil demo`` run (see ui_browser)."""
    from live_server import free_port, start_vigil_server
    from ui_browser import Dashboard
    from vigil import demo
    from vigil.app.bootstrap import open_database
    from vigil.server.auth import create_token
    from vigil.store.settings import Settings

    out = tmp_path_factory.mktemp("dashboard")
    allowed = os.environ.get("VIGIL_OUTBOUND_ALLOW")  # the demo sets its own while it runs
    try:
        assert demo.run(out, port=free_port(), keep_running=False) == 0
    finally:  # even when it fails: the later tests' servers need the suite's allow-list
        if allowed is None:
            os.environ.pop("VIGIL_OUTBOUND_ALLOW", None)
        else:
            os.environ["VIGIL_OUTBOUND_ALLOW"] = allowed
    data_dir = out / "data"
    db = open_database(Settings(data_dir=data_dir))
    tokens = {name: create_token(db, name, scopes)
              for name, scopes in (("admin", "admin"), ("writer", "write"), ("reader", "read"))}
    db.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (out / "server.log").open("wb")
    env = {**os.environ, "VIGIL_PUBLIC_URL": url, "VIGIL_SELF_METRICS_INTERVAL": "0"}
    proc = start_vigil_server(data_dir, port, env, stderr=log)
    try:
        yield Dashboard(url=url, data_dir=data_dir, tokens=tokens, demo_output=out, proc=proc)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the session, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from ui_browser import CHROMIUM

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, dashboard: Any) -> Iterator[Callable[..., Any]]:
    """``open_page("reader")``: a fresh browser context signed in with that token, its console
    watched; the test fails on any console error or uncaught exception in it."""
    from ui_browser import sign_in, watch

    opened: list[Any] = []

    def _open(token: str = "admin", *, signed_in: bool = True) -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        watched = watch(page)
        if signed_in:
            sign_in(page, dashboard, token)
        opened.append((context, watched))
        return watched

    yield _open
    errors = [e for _, w in opened for e in w.errors]
    for context, _ in opened:
        context.close()
    assert not errors, f"console errors: {errors}"
