"""The audit trail: every configuration change through the API or the CLI, attributed, with
before and after redacted; GET /api/v1/audit and `vigil audit` filter it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from live_server import LiveServer
from vigil.app.bootstrap import open_database
from vigil.store.audit import acting_as, cli_actor, list_entries
from vigil.store.models import AlarmRecord, AuditEntry, TopicRecord
from vigil.store.redaction import redact, scrub_text
from vigil.store.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
VIGIL = [sys.executable, "-m", "vigil.cli"]
SECRETS = ("hush-hook-secret", "hdr-value-4242", "pw-in-url-77", "sig-in-query-99", "T0KENSLACK")


TOKENS = {"alice": "write", "bob": "write", "boss": "admin", "reader": "read"}


class Live(LiveServer):
    """The live server with four tokens, and the audit trail as ``boss`` (admin) reads it."""

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        r = self.client("boss").get("/audit", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    running = Live(Settings(data_dir=tmp_path / "data"), TOKENS)
    yield running
    running.stop()


def _configure(live: Live) -> None:
    alice, bob = live.client("alice"), live.client("bob")
    assert alice.post("/endpoints", json={"name": "churn"}).status_code == 201
    assert bob.post("/topics", json={"name": "team"}).status_code == 201
    sub = alice.post(
        "/topics/team/subscriptions",
        json={
            "id": "hook",
            "protocol": "webhook",
            "config": {
                "url": "https://ops:pw-in-url-77@hooks.example/x?sig=sig-in-query-99",
                "secret": "hush-hook-secret",
                "headers": {"X-Api-Key": "hdr-value-4242"},
            },
        },
    )
    assert sub.status_code == 201, sub.text
    slack = bob.post(
        "/topics/team/subscriptions",
        json={
            "id": "chat",
            "protocol": "slack",
            "config": {"url": "https://hooks.slack.com/services/T0/B0/T0KENSLACK"},
        },
    )
    assert slack.status_code == 201, slack.text
    alarm = bob.post(
        "/alarms",
        json={
            "name": "lat",
            "namespace": "app",
            "metric_name": "latency",
            "statistic": "Average",
            "period": 60,
            "evaluation_periods": 1,
            "threshold": 1.0,
            "comparison_operator": "GreaterThanThreshold",
            "alarm_actions": ["team"],
        },
    )
    assert alarm.status_code == 201, alarm.text


def test_api_changes_are_attributed_to_their_token_with_redacted_before_and_after(live: Live):
    _configure(live)
    entries = live.audit()
    made = {(e["kind"], e["name"]): e for e in entries if e["actor"].startswith("token:")}
    assert made[("endpoint", "churn")]["actor"] == "token:alice"
    assert made[("topic", "team")]["actor"] == "token:bob"
    assert made[("subscription", "hook")]["actor"] == "token:alice"
    assert made[("subscription", "chat")]["actor"] == "token:bob"
    assert made[("alarm", "lat")]["actor"] == "token:bob"
    hook = made[("subscription", "hook")]
    assert hook["action"] == "create" and hook["before"] is None
    config = hook["after"]["config"]
    assert config["secret"] == "***" and config["headers"] == {"X-Api-Key": "***"}
    assert config["url"] == "https://***@hooks.example/x?***"
    assert made[("subscription", "chat")]["after"]["config"]["url"] == "***"
    assert made[("alarm", "lat")]["after"]["spec"]["threshold"] == 1.0
    # the tokens made outside any request are the system's
    assert {e["name"] for e in entries if e["kind"] == "token"} == set(live.tokens)
    assert all(e["actor"] == "system" for e in entries if e["kind"] == "token")
    # no secret and no token anywhere in the stored trail or the response
    with live.db.session() as s:
        stored = json.dumps([[r.before, r.after] for r in s.scalars(select(AuditEntry))])
    text = live.client("boss").get("/audit").text
    for secret in (*SECRETS, *live.tokens.values()):
        assert secret not in stored and secret not in text


def test_updates_pause_and_delete_carry_before_and_after(live: Live, sagemaker_dir: Path):
    alice, bob = live.client("alice"), live.client("bob")
    assert alice.post("/endpoints", json={"name": "churn"}).status_code == 201
    base = live.settings.data_dir / "sm"  # inside the data directory, where baselines may live
    base.mkdir(parents=True)
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", base / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", base / "constraints.json")
    made = alice.post("/baselines", json={"name": "sm", "endpoint": "churn", "path": str(base)})
    assert made.status_code == 201, made.text
    schedule = alice.post(
        "/schedules",
        json={
            "name": "hourly",
            "endpoint": "churn",
            "baseline": "sm",
            "expression": "rate(1 hour)",
        },
    )
    assert schedule.status_code == 201, schedule.text
    assert bob.post("/schedules/hourly/pause").status_code == 200
    paused = live.audit(kind="schedule", name="hourly", limit=1)[0]
    assert paused["actor"] == "token:bob" and paused["action"] == "pause"
    assert paused["fields"] == ["status"]
    assert paused["before"]["status"] == "Scheduled" and paused["after"]["status"] == "Paused"
    assert bob.delete("/schedules/hourly").status_code == 204
    gone = live.audit(kind="schedule", name="hourly", limit=1)[0]
    assert gone["action"] == "delete" and gone["after"] is None
    assert gone["before"]["status"] == "Paused"


def test_server_state_is_not_configuration(live: Live):
    _configure(live)
    before = len(live.audit(limit=1000))
    with live.db.session() as s:  # what an evaluation writes: the alarm's state
        row = s.get(AlarmRecord, "lat")
        assert row is not None
        row.state, row.state_reason = "ALARM", "Threshold Crossed"
    live.client("reader").get("/alarms")  # a request: the token's last_used_at moves
    assert len(live.audit(limit=1000)) == before


def test_orm_bulk_statements_are_recorded(live: Live):
    _configure(live)
    with acting_as("cli:ops"), live.db.session() as s:
        s.execute(delete(TopicRecord).where(TopicRecord.name == "team"))
    gone = live.audit(kind="topic", limit=1)[0]
    assert gone == {**gone, "actor": "cli:ops", "action": "delete", "name": "team", "after": None}


def test_get_audit_filters_and_needs_admin(live: Live):
    _configure(live)
    # alice's endpoint (with its two default alarms, created by her request) and subscription
    alices = live.audit(actor="alice")
    assert {e["actor"] for e in alices} == {"token:alice"}
    assert sorted((e["kind"], e["name"]) for e in alices) == [
        ("alarm", "churn-5xx-errors"), ("alarm", "churn-p99-latency"), ("endpoint", "churn"),
        ("subscription", "hook")]
    assert {e["actor"] for e in live.audit(actor="token:bob")} == {"token:bob"}
    assert [e["name"] for e in live.audit(kind="subscription")] == ["chat", "hook"]  # newest first
    assert [e["kind"] for e in live.audit(name="churn")] == ["endpoint"]
    assert len(live.audit(limit=2)) == 2
    everything = live.audit(limit=1000)
    middle = everything[len(everything) // 2]["time"]
    newer = live.audit(since=middle, limit=1000)
    older = live.audit(until=middle, limit=1000)
    assert len(newer) + len(older) == len(everything)
    assert all(e["time"] >= middle for e in newer) and all(e["time"] < middle for e in older)
    assert live.client("reader").get("/audit").status_code == 403
    assert live.client("alice").get("/audit").status_code == 403
    bad = live.client("boss").get("/audit", params={"limit": 0})
    assert bad.status_code == 422 and "limit" in bad.json()["error"]["message"]


def _vigil(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [*VIGIL, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_vigil_apply_and_token_commands_are_recorded_as_the_cli_user(tmp_path: Path):
    data = tmp_path / "data"
    config = tmp_path / "vigil.yaml"
    config.write_text("endpoints:\n  - name: churn\n    variant: A\n")
    assert _vigil("apply", "-f", str(config), "--data-dir", str(data)).returncode == 0
    config.write_text("endpoints:\n  - name: churn\n    variant: B\n")
    assert _vigil("apply", "-f", str(config), "--data-dir", str(data)).returncode == 0
    made = _vigil("token", "create", "--name", "ci", "--scopes", "read", "--data-dir", str(data))
    assert made.returncode == 0
    assert _vigil("token", "revoke", "--name", "ci", "--data-dir", str(data)).returncode == 0
    done = _vigil("audit", "--output", "json", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)["entries"]
    actor = cli_actor()
    # the endpoint's default alarms follow it (their dimensions name the variant)
    alarms = [(e["action"], e["name"]) for e in entries if e["kind"] == "alarm"]
    assert sorted(alarms) == [("create", "churn-5xx-errors"), ("create", "churn-p99-latency"),
                              ("update", "churn-5xx-errors"), ("update", "churn-p99-latency")]
    entries = [e for e in entries if e["kind"] != "alarm"]
    assert [(e["action"], e["kind"], e["name"]) for e in entries] == [
        ("revoke", "token", "ci"),
        ("create", "token", "ci"),
        ("update", "endpoint", "churn"),
        ("create", "endpoint", "churn"),
    ]
    assert {e["actor"] for e in entries} == {actor}
    update = entries[2]
    assert update["fields"] == ["variant"]
    assert update["before"]["variant"] == "A" and update["after"]["variant"] == "B"
    assert made.stdout.strip() not in done.stdout  # the token's secret is never recorded
    # filters, and the table: one line per entry, never wrapped
    only = _vigil("audit", "--kind", "token", "--output", "json", "--data-dir", str(data))
    assert [e["action"] for e in json.loads(only.stdout)["entries"]] == ["revoke", "create"]
    table = _vigil("audit", "--name", "churn", "--data-dir", str(data))
    assert table.returncode == 0
    rows = table.stdout.splitlines()
    assert rows[1].split() == ["time", "actor", "action", "kind", "name", "fields"]
    assert rows[2].split()[1:] == [actor, "update", "endpoint", "churn", "variant"]
    bad = _vigil("audit", "--since", "yesterday", "--data-dir", str(data))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    entries_db = list_entries(open_database(Settings(data_dir=data)), actor=actor)
    assert len(entries_db) == 8  # 4 of the endpoint and the token, 4 of its default alarms


def test_redact_hides_secrets_at_any_depth():
    doc = {
        "name": "retrain",
        "steps": [
            {
                "target": {
                    "command": ["train"],
                    "env": {"AWS_SECRET": "s1", "MODE": "x"},
                    "headers": {"Authorization": "Bearer abc"},
                }
            },
            {"target": {"url": "https://u:p@h/x?api_key=k", "password": "pw"}},
        ],
        "routing_key": "rk",
        "nested": {"deep": {"api-key": "k2", "token": "t", "note": "Bearer vgl_abcdef"}},
    }
    out = redact("workflow", doc)
    flat = json.dumps(out)
    for secret in ("s1", '"x"', "abc", "u:p", "api_key=k", "pw", "rk", "k2", '"t"', "vgl_abcdef"):
        assert secret not in flat, secret
    assert out["steps"][0]["target"]["env"] == {"AWS_SECRET": "***", "MODE": "***"}
    assert out["steps"][0]["target"]["command"] == ["train"]
    assert out["steps"][1]["target"]["url"] == "https://***@h/x?***"
    assert redact("teams", {"url": "https://x.webhook.office.com/a/b"}) == {"url": "***"}
    assert scrub_text("authorization=Basic dXNlcjpwYXNz ok") == "authorization=*** ok"
