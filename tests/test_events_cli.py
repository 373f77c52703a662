"""``vigil events put`` and ``vigil events list`` over a local data directory (real
processes), bad input exiting 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

VIGIL = [sys.executable, "-m", "vigil.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], capture_output=True, text=True, input=stdin,
                          timeout=60)


def test_put_then_list_and_bad_input(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    entries = {"Entries": [
        {"Source": "com.acme.ml", "DetailType": "Model Promoted", "Detail": '{"model": "a"}',
         "Time": "2024-05-01T12:00:00Z"},
        {"Source": "com.acme.ml", "DetailType": "Model Promoted", "Detail": "[1]"},
    ]}
    put = run("events", "put", "-", "--data-dir", data, "--output", "json",
              stdin=json.dumps(entries))
    assert put.returncode == 1, put.stderr  # one entry failed
    answer = json.loads(put.stdout)
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][1]["ErrorMessage"] == "Detail: expected a JSON object, got list"
    listed = run("events", "list", "--data-dir", data, "--source", "com.acme.ml", "--output",
                 "json")
    assert listed.returncode == 0, listed.stderr
    [event] = json.loads(listed.stdout)["events"]
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["detail"] == {"model": "a"} and event["time"] == "2024-05-01T12:00:00Z"
    bad = run("events", "list", "--data-dir", data, "--pattern", "{oops")
    assert bad.returncode == 2 and bad.stderr.startswith("vigil: error: --pattern: not valid")
    bad = run("events", "list", "--data-dir", data, "--pattern", '{"a": [{"prefx": "b"}]}')
    assert bad.returncode == 2 and "unknown operator 'prefx'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
