"""Every configuration object can be read and deleted; a delete is refused (409, exit 2)
while something refers to it, and the message names the referrer. Over real HTTP on loopback,
and through ``vigil delete``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from live_server import LiveServer
from vigil.store.settings import Settings

VIGIL = Path(sys.executable).with_name("vigil")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(data_dir=tmp_path / "data")
    running = LiveServer(settings, {"contract": "admin"}, log_level="error")
    yield running
    running.stop()


def _seed(live: LiveServer, tmp_path: Path, sagemaker_dir: Path) -> None:
    base = tmp_path / "data" / "baselines" / "incoming"  # where API paths may point
    base.mkdir(parents=True)
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", base / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", base / "constraints.json")
    with live.client("contract") as c:
        for path, body in [
            ("/endpoints", {"name": "churn"}),
            ("/baselines", {"name": "churn-base", "endpoint": "churn", "path": str(base)}),
            ("/schedules", {"name": "hourly", "endpoint": "churn", "baseline": "churn-base",
                            "expression": "rate(1 hour)"}),
            ("/topics", {"name": "team"}),
            ("/topics/team/subscriptions", {"protocol": "webhook", "id": "team-hook",
                                            "config": {"url": "https://example.invalid/h"}}),
            ("/alarms", {"name": "drift", "namespace": "vigil/Drift", "metric_name": "x",
                         "statistic": "Maximum", "period": 60, "evaluation_periods": 1,
                         "threshold": 0.1, "comparison_operator": "GreaterThanThreshold",
                         "alarm_actions": ["team"]}),
            ("/alarms", {"name": "both", "alarm_rule": 'ALARM("drift")'}),
            ("/workflows", {"name": "notify", "steps": [
                {"name": "call", "target": {"url": "https://example.invalid/x"}}]}),
            ("/rules", {"name": "on-drift", "pattern": {"detail": {"alarm": ["drift"]}},
                        "targets": [{"workflow": "notify"}]}),
        ]:  # fmt: skip
            r = c.post(path, json=body)
            assert r.status_code == 201, (path, r.text)


def test_every_object_is_readable_and_deletable_once_unreferenced(live, tmp_path, sagemaker_dir):
    _seed(live, tmp_path, sagemaker_dir)
    c = live.client("contract")
    ends = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    silence = c.post("/silences", json={"matchers": ['alarm="drift"'], "ends_at": ends}).json()
    for path in ("/rules/on-drift", "/workflows/notify", "/topics/team",
                 "/topics/team/subscriptions/team-hook", f"/silences/{silence['id']}",
                 "/alarms/both", "/endpoints/churn", "/baselines/churn-base"):  # fmt: skip
        assert c.get(path).status_code == 200, path
    assert c.get("/topics/team").json()["subscriptions"] == ["team-hook"]
    assert c.get("/topics/other/subscriptions/team-hook").status_code == 404

    refused = {
        "/endpoints/churn": ["baseline 'churn-base'", "schedule 'hourly'"],
        "/baselines/churn-base": ["schedule 'hourly'"],
        "/topics/team": ["alarm 'drift'", "subscription 'team-hook'"],
        "/alarms/drift": ["composite alarm 'both'", "rule 'on-drift'"],
        "/workflows/notify": ["rule 'on-drift'"],
    }
    for path, referrers in refused.items():
        r = c.delete(path)
        assert r.status_code == 409, (path, r.text)
        error = r.json()["error"]
        assert error["code"] == "in_use" and error["details"]["referrers"] == referrers
        assert all(x in error["message"] for x in referrers), error

    # in the order the references allow
    for path in ("/schedules/hourly", "/baselines/churn-base", "/endpoints/churn",
                 "/rules/on-drift", "/workflows/notify", "/alarms/both", "/alarms/drift",
                 "/topics/team/subscriptions/team-hook", "/topics/team",
                 f"/silences/{silence['id']}"):  # fmt: skip
        assert c.delete(path).status_code == 204, path
        assert c.get(path).status_code == 404, path
        r = c.delete(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    assert c.get("/alarms/drift/history").status_code == 404
    c.close()


def _vigil(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    return subprocess.run(
        [str(VIGIL), *args, "--data-dir", str(data_dir)], capture_output=True, text=True, env=env
    )


def test_cli_delete_refuses_in_use_and_missing_on_one_line(live, tmp_path, sagemaker_dir):
    _seed(live, tmp_path, sagemaker_dir)
    data = tmp_path / "data"
    r = _vigil(data, "delete", "topic", "team")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "alarm 'drift'" in r.stderr and "in use" in r.stderr
    r = _vigil(data, "delete", "alarm", "nope")
    assert (r.returncode, r.stderr) == (2, "vigil: error: no alarm named 'nope'\n")
    r = _vigil(data, "delete", "gadget", "x")
    assert r.returncode == 2 and "expected one of endpoint" in r.stderr
    r = _vigil(data, "delete", "schedule", "hourly", "--output", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"deleted": {"kind": "schedule", "name": "hourly"}}
    assert (
        _vigil(data, "delete", "baseline", "churn-base").stdout == "deleted baseline churn-base\n"
    )
    with live.client("contract") as c:
        assert c.get("/baselines/churn-base").status_code == 404
