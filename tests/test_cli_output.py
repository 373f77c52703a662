"""What scripts read from the CLI: every record on one line whatever the terminal's width and
the length of the paths in it, and ``--output json`` on every listing command."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import sagemaker_columns
from test_runtime import T0, VIGIL, _runtime, cli, config_file, write_captures
from vigil.actions import Runner, Workflow
from vigil.actions.records import get_run, list_attempts, run_to_dict
from vigil.alerts.service import evaluate_alarms
from vigil.app.bootstrap import open_runtime

NARROW = {"COLUMNS": "40", "LINES": "20"}
EXECUTION = r"[0-9a-f-]{36} hourly \[2024-05-0\dT\d\d:00Z, 2024-05-0\dT\d\d:00Z\) "
EXECUTION_KEYS = [
    "id", "schedule", "endpoint", "scheduled_time", "window_start", "window_end", "status",
    "failure_reason", "created_at", "started_at", "ended_at", "records_read", "records_skipped",
    "violation_count", "attempt", "output_uri",
]  # fmt: skip


def long_dir(root: Path) -> Path:
    """A directory whose path is at least 300 characters long."""
    path = root
    while len(str(path)) < 300:
        path = path / ("d" * 60)
    return path


@pytest.fixture
def installed(tmp_path: Path, sagemaker_dir: Path) -> Path:
    """A data directory with a 300-character path: the catalog applied, 6 hours captured."""
    data = long_dir(tmp_path) / "data"
    done = cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir)), env=NARROW)
    assert done.returncode == 0, done.stderr
    write_captures(data / "capture", "churn", sagemaker_columns(sagemaker_dir), T0, 6)
    return data


def backfill(data: Path, *args: str, hours: int = 3, env: dict[str, str] | None = None) -> Any:
    end = (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return cli(
        data, "monitor", "backfill", "hourly", "--start", "2024-05-01T00:00:00Z", "--end", end,
        *args, env=env,
    )  # fmt: skip


def record_evaluation(data: Path, at: datetime) -> None:
    """Evaluate the alarms at ``at`` and record the transitions (what the server does live)."""
    rt = open_runtime(data)
    try:
        evaluate_alarms(rt.db, rt.metrics, at)
    finally:
        rt.db.dispose()


def run_window(data: Path, start: str, *args: str) -> Any:
    t = datetime.fromisoformat(start)
    return cli(
        data, "monitor", "run", "hourly", "--window-start", start,
        "--window-end", (t + timedelta(hours=1)).isoformat(), *args, env=NARROW,
    )  # fmt: skip


def is_utc(text: str) -> bool:
    t = datetime.fromisoformat(text)
    return t.utcoffset() == timedelta(0)


def on_terminal(args: list[str]) -> tuple[int, list[str]]:
    """Run a command with its stdout on a 40-column pseudo-terminal; its lines, colours
    stripped."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 40, 0, 0))
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL,
        env={**os.environ, **NARROW},
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the command has ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = proc.wait(120)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", b"".join(chunks).decode())
    return code, text.replace("\r\n", "\n").splitlines()


def test_monitor_lines_stay_whole_with_a_long_data_dir_and_40_columns(installed: Path):
    data = installed
    assert len(str(data)) >= 300
    done = backfill(data, env=NARROW)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and lines[-1] == "3 Completed", done.stdout
    for line in lines[:3]:
        assert re.fullmatch(EXECUTION + "Completed -> " + re.escape(str(data)) + r"/\S+", line)

    failed = run_window(data, "2024-05-02T04:00:00+00:00")
    assert failed.returncode == 1
    assert len(failed.stdout.splitlines()) == 1, failed.stdout
    assert re.fullmatch(
        EXECUTION + r"Failed: no capture data in window .* under " + re.escape(str(data))
        + r"/capture/churn/AllTraffic: .*; last record seen at 2024-05-01T05:39:00Z\n",
        failed.stdout,
    )  # fmt: skip
    dup = run_window(data, "2024-05-02T04:00:00+00:00")
    assert dup.returncode == 2 and dup.stderr == (
        "vigil: error: an execution of 'hourly' for that window exists already\n"
    )

    listed = cli(data, "alarm", "list", env=NARROW)
    # (the endpoint's own default alarms, churn-5xx-errors and churn-p99-latency, are left
    # out here: tests/test_notify_defaults.py covers them)
    assert [line for line in listed.stdout.splitlines() if line.startswith("hourly-")] == [
        f"{name}  INSUFFICIENT_DATA  Unchecked: Initial alarm creation"
        for name in ("hourly-drift", "hourly-failed", "hourly-violations")
    ]
    # the windows [00:00, 03:00) hold the figures: at 03:05 the hour [02:00, 03:00) is complete
    evaluated = cli(data, "alarm", "evaluate", "--at", "2024-05-01T03:05:00Z", env=NARROW)
    lines = evaluated.stdout.splitlines()
    assert len(lines) == 4, evaluated.stdout
    assert all(
        re.fullmatch(r"hourly-\w+: INSUFFICIENT_DATA -> OK: Threshold .*\.", s) for s in lines[:3]
    )
    assert lines[3] == (
        "3 transition(s) at 2024-05-01T03:05:00+00:00 (preview: nothing recorded or sent)"
    )
    assert cli(data, "alarm", "history", "hourly-drift", env=NARROW).stdout == ""
    record_evaluation(data, datetime(2024, 5, 1, 3, 5, tzinfo=timezone.utc))
    history = cli(data, "alarm", "history", "hourly-drift", env=NARROW)
    assert re.fullmatch(
        r"2024-05-01T03:05:00\+00:00  INSUFFICIENT_DATA -> OK  Threshold Crossed: .*\.\n",
        history.stdout,
    )


def test_apply_and_its_errors_stay_whole(tmp_path: Path, sagemaker_dir: Path):
    folder = long_dir(tmp_path)
    folder.mkdir(parents=True)
    data = folder / "data"
    path = config_file(tmp_path, sagemaker_dir)
    plan = cli(data, "apply", "-f", str(path), "--dry-run", env=NARROW)
    assert plan.stdout.splitlines() == [
        "+ endpoint churn",
        "+ baseline churn-base",
        "+ schedule hourly",
        "plan: created 3, updated 0, unchanged 0",
    ]
    bad = folder / "bad.yaml"
    bad.write_text(path.read_text().replace("rate(1 hour)", "rate(1 hours)"))
    failed = cli(data, "apply", "-f", str(bad), env=NARROW)
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr == (
        f"vigil: error: [config_error] {bad}:12: schedules[0].expression: rate(1 hours): "
        "use the singular unit with 1, as in rate(1 hour)\n"
    )


def test_baseline_and_analyze_lines_stay_whole(tmp_path: Path):
    folder = long_dir(tmp_path)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    rows = [f"{x:.3f},{'abc'[i % 3]}" for i, x in enumerate(rng.normal(size=400))]
    (folder / "train.csv").write_text("amount,channel\n" + "\n".join(rows) + "\n")
    env = {**os.environ, **NARROW}

    def vigil(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*VIGIL, *args], capture_output=True, text=True, env=env, timeout=120)

    base = vigil("baseline", str(folder / "train.csv"), "--output", str(folder / "base"))
    assert base.returncode == 0, base.stderr
    assert base.stdout == (
        f"baseline of 400 rows, 2 features written to {folder}/base/statistics.json and "
        f"{folder}/base/constraints.json\n"
    )
    an = vigil(
        "analyze", str(folder / "train.csv"), "--baseline", str(folder / "base"),
        "--output", str(folder / "an"),
    )  # fmt: skip
    assert an.returncode == 0, an.stdout + an.stderr
    lines = an.stdout.splitlines()
    assert lines[:2] == [
        "400 rows analysed",
        "feature  type  drift method  value  threshold  drift  violations",
    ]
    assert re.fullmatch(r"amount  Fractional  \w+  [\d.e-]+  [\d.e-]+  no  -", lines[2])
    assert re.fullmatch(r"channel  String  \w+  [\d.e-]+  [\d.e-]+  no  -", lines[3])
    assert lines[4:] == [f"no violations; dataset drift share 0%; report: {folder}/an/report.html"]

    missing = vigil("baseline", str(folder / "nope.csv"), "--output", str(folder / "x"))
    assert missing.returncode == 2
    assert len(missing.stderr.splitlines()) == 1 and str(folder / "nope.csv") in missing.stderr


def test_lines_stay_whole_on_a_narrow_terminal(installed: Path, tmp_path: Path):
    code, lines = on_terminal(
        [*VIGIL, "monitor", "backfill", "hourly", "--start", "2024-05-01T00:00:00Z",
         "--end", "2024-05-01T02:00:00Z", "--data-dir", str(installed)]
    )  # fmt: skip
    assert code == 0
    assert len(lines) == 3 and lines[-1] == "2 Completed", lines
    for line in lines[:2]:
        assert re.fullmatch(EXECUTION + "Completed -> " + re.escape(str(installed)) + r"/\S+", line)
    folder = long_dir(tmp_path / "t")
    folder.mkdir(parents=True)
    (folder / "x.csv").write_text("a,b\n" + "\n".join(f"{i},{i % 2}" for i in range(50)) + "\n")
    code, lines = on_terminal([*VIGIL, "baseline", str(folder / "x.csv"), "-o", str(folder / "b")])
    assert code == 0
    assert lines == [
        f"baseline of 50 rows, 2 features written to {folder}/b/statistics.json and "
        f"{folder}/b/constraints.json"
    ]
    code, lines = on_terminal(
        [*VIGIL, "analyze", str(folder / "x.csv"), "-b", str(folder / "b"), "-o", str(folder / "a")]
    )
    assert code == 0  # the table is drawn for the terminal; the summary stays one line
    assert lines[-1] == f"no violations; dataset drift share 0%; report: {folder}/a/report.html"


def test_monitor_output_json(installed: Path):
    data = installed
    done = backfill(data, "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert list(doc) == ["executions", "counts"] and doc["counts"] == {"Completed": 3}
    assert [list(e) for e in doc["executions"]] == [EXECUTION_KEYS] * 3
    first = doc["executions"][0]
    assert first["window_start"] == "2024-05-01T00:00:00+00:00"
    assert first["window_end"] == "2024-05-01T01:00:00+00:00"
    assert all(is_utc(first[k]) for k in ("scheduled_time", "created_at", "ended_at"))
    assert first["records_read"] == 40 and first["output_uri"].startswith(str(data))
    again = json.loads(backfill(data, "--output", "json").stdout)
    assert again == {"executions": [], "counts": {}}  # each window runs once

    failed = run_window(data, "2024-05-02T04:00:00+00:00", "--output", "json")
    assert failed.returncode == 1
    (ex,) = json.loads(failed.stdout)["executions"]
    assert ex["status"] == "Failed" and "last record seen at" in ex["failure_reason"]
    ok = run_window(data, "2024-05-01T04:00:00+00:00", "--output", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["counts"] == {"Completed": 1}


def test_alarm_output_json(installed: Path):
    data = installed
    listed = json.loads(cli(data, "alarm", "list", "--output", "json").stdout)
    listed["alarms"] = [a for a in listed["alarms"] if a["name"].startswith("hourly-")]
    assert [a["name"] for a in listed["alarms"]] == [
        "hourly-drift",
        "hourly-failed",
        "hourly-violations",
    ]
    assert list(listed["alarms"][0]) == [
        "name", "kind", "definition", "state", "state_reason", "state_reason_data",
        "state_updated_at",
    ]  # fmt: skip
    assert listed["alarms"][0]["definition"]["metric_name"] == "drifted_features"

    assert backfill(data).returncode == 0
    at = "2024-05-01T03:05:00Z"
    evaluated = json.loads(cli(data, "alarm", "evaluate", "--at", at, "--output", "json").stdout)
    assert list(evaluated) == ["at", "preview", "states", "transitions", "errors"]
    assert evaluated["at"] == "2024-05-01T03:05:00+00:00" and evaluated["preview"] is True
    assert sorted(t["alarm"] for t in evaluated["transitions"]) == [
        a["name"] for a in listed["alarms"]
    ]  # the endpoint's default alarms, without serving data, stay INSUFFICIENT_DATA
    assert evaluated["transitions"][0]["time"] == "2024-05-01T03:05:00+00:00"
    assert evaluated["states"] == {a["name"]: "OK" for a in listed["alarms"]} | {
        "churn-5xx-errors": "INSUFFICIENT_DATA", "churn-p99-latency": "INSUFFICIENT_DATA"}
    assert evaluated["errors"] == {}
    # a preview changes nothing; a recorded evaluation is in the history
    assert json.loads(cli(data, "alarm", "history", "hourly-drift", "--output", "json").stdout)[
        "history"
    ] == []
    record_evaluation(data, datetime(2024, 5, 1, 3, 5, tzinfo=timezone.utc))
    history = json.loads(cli(data, "alarm", "history", "hourly-drift", "--output", "json").stdout)
    assert history["alarm"] == "hourly-drift"
    (entry,) = history["history"]
    assert list(entry) == ["time", "old_state", "new_state", "reason", "reason_data", "actions"]
    assert (entry["old_state"], entry["new_state"], entry["time"]) == (
        "INSUFFICIENT_DATA",
        "OK",
        "2024-05-01T03:05:00+00:00",
    )
    nothing = cli(data, "alarm", "history", "nope", "--output", "json")  # an unknown name
    assert nothing.returncode == 2 and nothing.stdout == ""
    assert nothing.stderr == "vigil: error: no alarm named 'nope'\n"


def test_actions_delivery_and_apply_output_json(installed: Path, tmp_path: Path):
    data = installed
    assert json.loads(cli(data, "action", "runs", "--output", "json").stdout) == {"runs": []}
    missing = cli(data, "action", "show", "nope", "--output", "json")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == "vigil: error: no action run with id 'nope'\n"  # as the API says
    dead = cli(data, "delivery", "dead-letters", "--output", "json")
    assert json.loads(dead.stdout) == {"dead_letters": []}

    again = cli(data, "apply", "-f", str(tmp_path / "vigil.yaml"), "--output", "json")
    assert json.loads(again.stdout) == {
        "dry_run": False,
        "changes": [],
        "summary": {"created": 0, "updated": 0, "unchanged": 3},
    }
    paused = tmp_path / "paused.yaml"
    paused.write_text((tmp_path / "vigil.yaml").read_text().replace("Scheduled", "Paused"))
    plan = cli(data, "apply", "-f", str(paused), "--dry-run", "--output", "json")
    assert json.loads(plan.stdout) == {
        "dry_run": True,
        "changes": [
            {"action": "update", "kind": "schedule", "name": "hourly", "fields": ["status"]}
        ],
        "summary": {"created": 0, "updated": 1, "unchanged": 2},
    }
    fresh = cli(tmp_path / "fresh", "apply", "-f", str(paused), "--output", "json")
    assert json.loads(fresh.stdout)["changes"] == [
        {"action": "create", "kind": kind, "name": name, "fields": []}
        for kind, name in (
            ("endpoint", "churn"),
            ("baseline", "churn-base"),
            ("schedule", "hourly"),
        )
    ]

    wrong = cli(data, "alarm", "list", "--output", "yaml")
    assert wrong.returncode == 2 and wrong.stdout == ""


def test_action_runs_and_show_output_json(tmp_path: Path):
    data = tmp_path / "data"
    rt = _runtime(data)
    wf = Workflow.model_validate(
        {"name": "w", "steps": [{"name": "s", "target": {"command": "true"}}]}
    )
    run = Runner(rt.db).run_workflow(wf, {"alarm": "drift"})
    listed = json.loads(cli(data, "action", "runs", "--output", "json").stdout)
    assert listed == {"runs": [run_to_dict(get_run(rt.db, run.id))]}
    assert listed["runs"][0]["workflow"] == "w" and is_utc(listed["runs"][0]["started_at"])
    text = cli(data, "action", "runs")
    assert len(text.stdout.splitlines()) == 1 and text.stdout.startswith(f"{run.id}  -  w  ")
    shown = cli(data, "action", "show", run.id, "--output", "json")
    doc = json.loads(shown.stdout)
    assert doc == run_to_dict(get_run(rt.db, run.id), list_attempts(rt.db, run.id))
    assert [a["step"] for a in doc["attempts"]] == ["s"]
    assert json.loads(cli(data, "action", "show", run.id).stdout) == doc


def test_main_module_and_script_entry_point_agree():
    done = subprocess.run([*VIGIL, "--version"], capture_output=True, text=True, timeout=60)
    script = Path(sys.executable).parent / "vigil"
    if script.exists():
        assert (
            subprocess.run(
                [str(script), "--version"], capture_output=True, text=True, timeout=60
            ).stdout
            == done.stdout
        )
    assert done.stdout == "vigil 0.1.0\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["monitor", "run", "--window-startx", "x"], "No such option: --window-startx"),
        (["analyz"], "No such command 'analyz'. Did you mean 'analyze'?"),
        (["monitor"], "Missing command."),
        (["alarm", "history"], "Missing argument 'name'."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    """A wrong option or command gets ``vigil: error: ...`` on one line, as every other
    error, not a boxed panel that wraps at the terminal's width."""
    done = subprocess.run(
        [*VIGIL, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **NARROW}
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vigil: error: "), done.stderr
    assert message in lines[0] and "--help'" in lines[0]


@pytest.mark.parametrize("spec", ["a=psi:abc", "a", "=psi"])
def test_a_bad_feature_drift_option_is_one_line_not_a_traceback(tmp_path: Path, spec: str) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n2\n")
    done = subprocess.run(
        [*VIGIL, "baseline", str(data), "-o", str(tmp_path / "o"), "--feature-drift", spec],
        capture_output=True, text=True, timeout=60, env={**os.environ, **NARROW},
    )  # fmt: skip
    assert done.returncode == 2
    expected = f"--feature-drift {spec!r}: expected FEATURE=METHOD[:THRESHOLD]"
    assert done.stderr.splitlines() == [f"vigil: error: [config_error] {expected}"]
    assert not (tmp_path / "o").exists()
