"""Issue 9, item 9: every command other than baseline/analyze/apply/export (swept in
test_input.py) exits 2 with one ``vigil: error:`` line, never a traceback, on a bad time, number,
name, path or option value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VIGIL = [sys.executable, "-m", "vigil.cli"]
W0, W1 = "2024-05-01T00:00:00Z", "2024-05-01T02:00:00Z"
CONFIG = (
    "version: 1\nendpoints:\n  - name: ep\nbaselines:\n  - name: b\n    endpoint: ep\n"
    "    path: ok.csv\nschedules:\n  - name: s\n    endpoint: ep\n    baseline: b\n"
    "    expression: rate(1 hour)\n"
)


def _vigil(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    )
    return subprocess.run(
        [*VIGIL, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "60", "PYTHONPATH": path},
    )  # fmt: skip


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a data dir ``d`` holding endpoint ep, baseline b, schedule s; a file
    ``afile`` where a directory is expected."""
    root = tmp_path_factory.mktemp("bad")
    (root / "ok.csv").write_text("a,b\n1,x\n2,y\n3,z\n")
    (root / "afile").write_text("not a directory")
    (root / "v.yaml").write_text(CONFIG)
    done = _vigil(root, "apply", "-f", "v.yaml", "--data-dir", "d")
    assert done.returncode == 0, done.stderr
    return root


D = ["--data-dir", "d"]
CASES: list[tuple[list[str], list[str]]] = [
    # a data directory that is a file (or under one): every command that opens the database
    (["monitor", "run", "s", "--data-dir", "afile"], ["data directory afile"]),
    (["monitor", "run", "s", "--data-dir", "afile/sub"], ["data directory afile/sub"]),
    (["alarm", "list", "--data-dir", "afile"], ["data directory afile"]),
    (["action", "runs", "--data-dir", "afile"], ["data directory afile"]),
    (["delivery", "dead-letters", "--data-dir", "afile"], ["data directory afile"]),
    (["token", "list", "--data-dir", "afile"], ["data directory afile"]),
    (["db", "upgrade", "--data-dir", "afile"], ["data directory afile"]),
    (["db", "check", "--data-dir", "afile"], ["data directory afile"]),
    (["audit", "--data-dir", "afile"], ["data directory afile"]),
    (["delete", "endpoint", "ep", "--data-dir", "afile"], ["data directory afile"]),
    (["export", "--data-dir", "afile"], ["data directory afile"]),
    (["server", "--port", "0", "--data-dir", "afile"], ["data directory afile"]),
    # times
    (["monitor", "run", "s", "--window-start", "nope", "--window-end", W0, *D], ["--window-start"]),
    (["monitor", "run", "s", "--window-start", "2024-13-01", "--window-end", W0, *D],
     ["'2024-13-01'"]),
    (["monitor", "run", "s", "--window-start", W1, "--window-end", W0, *D], ["not after"]),
    (["monitor", "backfill", "s", "--start", "nope", "--end", W1, *D], ["--start 'nope'"]),
    (["monitor", "backfill", "s", "--start", W1, "--end", W0, *D], ["--end", "after --start"]),
    (["alarm", "evaluate", "--at", "nope", *D], ["--at 'nope'"]),
    (["alarm", "evaluate", "--at", "2024-13-01", *D], ["--at '2024-13-01'"]),
    (["alarm", "evaluate", "--at", "0001-01-01T00:00:00Z", *D], ["--at", "1970"]),
    (["audit", "--since", "2024-13-01", *D], ["--since '2024-13-01'"]),
    (["audit", "--until", "nope", *D], ["--until 'nope'"]),
    # numbers
    (["alarm", "silence", "--matcher", "alarm=x", "--hours", "abc", *D], ["--hours"]),
    (["alarm", "silence", "--matcher", "alarm=x", "--hours", "nan", *D], ["--hours nan"]),
    (["alarm", "silence", "--matcher", "alarm=x", "--hours", "inf", *D], ["--hours inf"]),
    (["alarm", "silence", "--matcher", "alarm=x", "--hours", "1e300", *D], ["--hours"]),
    (["alarm", "silence", "--matcher", "alarm=x", "--hours", "-1", *D], ["--hours -1"]),
    (["audit", "--limit", "0", *D], ["--limit 0"]),
    (["audit", "--limit", "abc", *D], ["--limit"]),
    (["delivery", "redrive", "--id", "abc", *D], ["--id"]),
    (["server", "--port", "99999", *D], ["--port"]),
    (["server", "--port", "-5", *D], ["--port"]),
    (["demo", "--port", "99999", "--exit", "-o", "dm"], ["--port"]),
    # option values and names
    (["alarm", "silence", "--matcher", "bad", *D], ["matcher 'bad'"]),
    (["alarm", "silence", "--matcher", 'alarm=~"("', *D], ["not a regular expression"]),
    (["alarm", "history", "nosuch", *D], ["no alarm named 'nosuch'"]),
    (["alarm", "list", "--output", "xml", *D], ["--output"]),
    (["monitor", "run", "nosuch", *D], ["nosuch"]),
    (["monitor", "backfill", "nosuch", "--start", W0, "--end", W1, *D], ["nosuch"]),
    (["action", "runs", "--status", "nope", *D], ["--status 'nope'"]),
    (["action", "show", "nosuch", *D], ["nosuch"]),
    (["delivery", "redrive", "--id", "999", *D], ["--id 999"]),
    (["delivery", "redrive", "--subscription", "nosuch", *D], ["--subscription nosuch"]),
    (["token", "create", "--name", "t", "--scopes", "nope", *D], ["scopes nope"]),
    (["token", "create", "--name", "", *D], ["--name ''"]),
    (["token", "revoke", "nosuch", *D], ["nosuch"]),
    (["delete", "nope", "x", *D], ["KIND 'nope'"]),
    (["delete", "endpoint", "nosuch", *D], ["nosuch"]),
    (["delete", "endpoint", "ep", *D], ["in use"]),
    (["server", "--host", "999.1.1.1", "--port", "0", *D], ["--host '999.1.1.1'"]),
    (["nosuchcommand"], ["nosuchcommand"]),
    # outputs
    (["demo", "--output", "afile/x", "--exit", "--port", "0"], ["--output afile/x"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_option_exits_2_on_one_line(place: Path, args: list[str], words: list[str]):
    done = _vigil(place, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("vigil: error: "), done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
