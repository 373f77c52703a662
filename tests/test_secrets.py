"""Secrets (issue 9, item 6): encrypted at rest, redacted in every response and export,
``${env:NAME}`` references in ``vigil export``, and subscription ids unique across topics."""

from __future__ import annotations

import http.server
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from live_server import LiveServer
from vigil.actions.definitions import load, put_rule
from vigil.actions.spec import Rule
from vigil.alerts.delivery import Message, SubscriptionTakenError
from vigil.alerts.notify import make_outbox, put_topic, subscribe, subscriptions_of
from vigil.app.bootstrap import open_database
from vigil.app.secrets import redact
from vigil.store.models import SubscriptionRecord
from vigil.store.secrets import KEY_FILE, SecretBox, SecretKeyError, box_of
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]

# One secret per declared field, each a string found nowhere else.
SECRETS = {
    "webhook-header": "hdr-7c1d9e",
    "webhook-secret": "sign-5b2f8a",
    "webhook-url-token": "qtok-9e4c21",
    "webhook-url-password": "upw-3a7d55",
    "slack-url": "https://hooks.slack.example/T0/B0/slk-8d3e1f",
    "pagerduty-key": "rk-6f2a9c",
    "alertmanager-header": "amh-1e8b4d",
    "email-password": "mailpw-4c9a7e",
    "http-header": "acth-2d6f8b",
    "http-url-token": "actq-7a1c3e",
    "command-env": "cenv-5e9d2a",
}


def _subscriptions() -> list[dict[str, Any]]:
    s = SECRETS
    return [
        {"id": "hook", "protocol": "webhook", "config": {
            "url": f"http://ops:{s['webhook-url-password']}@127.0.0.1:9/h?token="
                   f"{s['webhook-url-token']}",
            "secret": s["webhook-secret"], "headers": {"X-Api-Key": s["webhook-header"]}}},
        {"id": "slack", "protocol": "slack", "config": {"url": s["slack-url"]}},
        {"id": "pd", "protocol": "pagerduty", "config": {"routing_key": s["pagerduty-key"]}},
        {"id": "am", "protocol": "alertmanager", "config": {
            "url": "http://127.0.0.1:9", "headers": {"Authorization": s["alertmanager-header"]}}},
        {"id": "mail", "protocol": "email", "config": {
            "host": "127.0.0.1", "to": "a@x.org", "username": "u",
            "password": s["email-password"]}},
    ]


def _rule() -> dict[str, Any]:
    s = SECRETS
    return {"name": "on-drift", "pattern": {"kind": ["alarm_state_change"]}, "targets": [
        {"url": f"http://127.0.0.1:9/act?key={s['http-url-token']}",
         "headers": {"Authorization": s["http-header"]}}]}


def _command_rule() -> Rule:
    return Rule.model_validate({"name": "run-it", "pattern": {}, "targets": [
        {"command": ["true"], "env": {"TOKEN": SECRETS["command-env"]}}]})


def _assert_no_secret(text: str, where: str) -> None:
    found = [k for k, v in SECRETS.items() if v in text]
    assert not found, f"{where} holds the secrets {found}"


def _raw_database(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


def _store_everything(db: Any) -> None:
    put_topic(db, "oncall")
    for sub in _subscriptions():
        subscribe(db, "oncall", sub["protocol"], sub["config"], id=sub["id"])
    put_rule(db, Rule.model_validate(_rule()))
    put_rule(db, _command_rule())


# -- at rest ---------------------------------------------------------------------------------


def test_raw_database_holds_no_plaintext_of_any_declared_field(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    _store_everything(db)
    # queued deliveries keep a snapshot of the subscription: sealed too
    subs = subscriptions_of(db, "oncall")
    assert make_outbox(db).enqueue(Message(topic="oncall", subject="s", body="b"), subs) == 5
    db.dispose()
    _assert_no_secret(_raw_database(tmp_path / "data" / "vigil.db"), "vigil.db")
    # ... and they read back as they were given
    db = open_database(settings)
    by_id = {s.id: dict(s.config) for s in subscriptions_of(db, "oncall")}
    assert by_id == {s["id"]: s["config"] for s in _subscriptions()}
    rules, _ = load(db)
    assert {r.name for r in rules} == {"on-drift", "run-it"}
    assert next(r for r in rules if r.name == "run-it").targets[0].env == {
        "TOKEN": SECRETS["command-env"]}
    record = make_outbox(db).store.list("pending")[0]
    assert record.payload["subscription"]["config"] in [s["config"] for s in _subscriptions()]


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("VIGIL_SECRET_KEY", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    put_topic(db, "t")
    subscribe(db, "t", "pagerduty", {"routing_key": "rk-1"}, id="pd")
    key = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_bytes()
    db2 = open_database(settings)  # a second opening reuses it, never overwrites it
    subscribe(db2, "t", "pagerduty", {"routing_key": "rk-2"}, id="pd2")
    assert key.read_bytes() == first
    assert {s.id: s.config["routing_key"] for s in subscriptions_of(db2, "t")} == {
        "pd": "rk-1", "pd2": "rk-2"}


def test_wrong_or_malformed_key_is_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("VIGIL_SECRET_KEY", Fernet.generate_key().decode())
    settings = Settings.from_env(tmp_path / "data")
    db = open_database(settings)
    put_topic(db, "t")
    subscribe(db, "t", "pagerduty", {"routing_key": "rk-1"}, id="pd")
    assert not (tmp_path / "data" / KEY_FILE).exists()  # the variable's key, no file
    monkeypatch.setenv("VIGIL_SECRET_KEY", Fernet.generate_key().decode())
    other = open_database(Settings.from_env(tmp_path / "data"))
    with pytest.raises(SecretKeyError, match="VIGIL_SECRET_KEY: it is not the key"):
        subscriptions_of(other, "t")
    monkeypatch.setenv("VIGIL_SECRET_KEY", "not-a-key")
    with pytest.raises(SecretKeyError, match="VIGIL_SECRET_KEY: not a Fernet key"):
        open_database(Settings.from_env(tmp_path / "data"))
    monkeypatch.delenv("VIGIL_SECRET_KEY")
    with pytest.raises(SecretKeyError, match=r"secret\.key does not exist"):
        subscriptions_of(open_database(Settings.from_env(tmp_path / "data")), "t")
    # the CLI says so on one line, exit 2
    env = {k: v for k, v in os.environ.items() if k != "VIGIL_SECRET_KEY"}
    done = subprocess.run([*VIGIL, "export", "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "secret.key does not exist" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_plaintext_rows_of_older_versions_still_read_and_are_sealed_on_write(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path / "data"))
    put_topic(db, "t")
    with db.session() as s:  # as the landed code stored it
        s.add(SubscriptionRecord(id="old", topic="t", protocol="pagerduty",
                                 config={"routing_key": "rk-legacy-1"}))
    assert subscriptions_of(db, "t")[0].config["routing_key"] == "rk-legacy-1"
    subscribe(db, "t", "pagerduty", {"routing_key": "***"}, id="old")  # a redaction keeps it
    assert subscriptions_of(db, "t")[0].config["routing_key"] == "rk-legacy-1"
    assert "rk-legacy-1" not in _raw_database(tmp_path / "data" / "vigil.db")


def test_box_seals_with_a_rotated_key_list():
    old = Fernet.generate_key().decode()
    box = SecretBox.for_data_dir("/nonexistent", {"VIGIL_SECRET_KEY": old})
    sealed = box.seal_value("v1")
    rotated = SecretBox.for_data_dir(
        "/nonexistent", {"VIGIL_SECRET_KEY": f"{Fernet.generate_key().decode()},{old}"})
    assert rotated.open_value(sealed) == ("v1", None)


# -- responses -------------------------------------------------------------------------------


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    running = LiveServer(Settings(data_dir=tmp_path / "data"), {"admin": "admin"})
    yield running
    running.stop()


def test_api_responses_never_hold_a_secret(srv: LiveServer):
    api = srv.client("admin")
    assert api.post("/topics", json={"name": "oncall"}).status_code == 201
    texts = []
    for sub in _subscriptions():
        r = api.post("/topics/oncall/subscriptions", json=sub)
        assert r.status_code == 201, r.text
        texts.append(r.text)
    r = api.post("/rules", json=_rule())
    assert r.status_code == 201, r.text
    texts.append(r.text)
    r = api.post("/workflows", json={"name": "wf", "steps": [{"name": "a", "target": {
        "url": f"http://127.0.0.1:9/w?key={SECRETS['http-url-token']}",
        "headers": {"Authorization": SECRETS["http-header"]}}}]})
    assert r.status_code == 201, r.text
    texts.append(r.text)
    put_rule(srv.db, _command_rule())
    for path in ("/topics", "/topics/oncall/subscriptions", "/rules", "/workflows",
                 "/actions/runs", "/dead-letters"):
        r = api.get(path)
        assert r.status_code == 200, (path, r.text)
        texts.append(r.text)
    for i, text in enumerate(texts):
        _assert_no_secret(text, f"response {i}")
    listed = {s["id"]: s["config"] for s in api.get("/topics/oncall/subscriptions").json()[
        "subscriptions"]}
    # the redaction keeps what is not secret readable
    assert listed["hook"]["url"] == "http://***@127.0.0.1:9/h?token=***"
    assert listed["hook"]["headers"] == {"X-Api-Key": "***"}
    assert listed["slack"]["url"] == "***" and listed["mail"]["host"] == "127.0.0.1"


def test_env_references_are_not_read_over_the_api(srv: LiveServer, monkeypatch):
    monkeypatch.setenv("VIGIL_TEST_SERVER_SECRET", "server-env-9f3b")
    api = srv.client("admin")
    api.post("/topics", json={"name": "t"})
    r = api.post("/topics/t/subscriptions", json={"id": "x", "protocol": "webhook", "config": {
        "url": "http://127.0.0.1:9/", "headers": {"X": "${env:VIGIL_TEST_SERVER_SECRET}"}}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "secret_ref"
    assert "server-env-9f3b" not in r.text


def test_subscription_id_of_another_topic_is_refused(srv: LiveServer):
    api = srv.client("admin")
    for topic in ("a", "b"):
        api.post("/topics", json={"name": topic})
    first = {"id": "ops", "protocol": "pagerduty", "config": {"routing_key": "rk-a"}}
    assert api.post("/topics/a/subscriptions", json=first).status_code == 201
    r = api.post("/topics/b/subscriptions", json={**first, "config": {"routing_key": "rk-b"}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert "topic 'a'" in r.json()["error"]["message"]
    assert [s.topic for s in subscriptions_of(srv.db, "a")] == ["a"]
    assert subscriptions_of(srv.db, "a")[0].config["routing_key"] == "rk-a"
    assert subscriptions_of(srv.db, "b") == []
    with pytest.raises(SubscriptionTakenError):
        subscribe(srv.db, "b", "pagerduty", {"routing_key": "rk-b"}, id="ops")


def test_redact_is_the_declaration_for_every_kind():
    doc = {"subscriptions": [{"id": "s", **_subscriptions()[0]}]}
    _assert_no_secret(str(redact("topic", doc)), "topic")
    _assert_no_secret(str(redact("rule", _rule())), "rule")
    _assert_no_secret(str(redact("command", _command_rule().targets[0].model_dump())), "cmd")
    assert redact("alarm", {"name": "a"}) == {"name": "a"}


# -- export and apply ------------------------------------------------------------------------


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(dict(self.headers))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _vigil(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_export_writes_references_or_redactions_and_apply_of_it_keeps_delivering(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "127.0.0.1/32")  # the loopback receiver
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    data = tmp_path / "data"
    env = {"VIGIL_DATA_DIR": str(data), "HOOK_TOKEN": "envtok-4b8e2c",
           "VIGIL_OUTBOUND_ALLOW": "127.0.0.1/32"}
    env.pop("VIGIL_SECRET_KEY", None)
    monkeypatch.delenv("VIGIL_SECRET_KEY", raising=False)
    (tmp_path / "vigil.yaml").write_text(yaml.safe_dump({"version": 1, "topics": [{
        "name": "oncall", "subscriptions": [
            {"id": "hook", "protocol": "webhook", "config": {
                "url": f"http://127.0.0.1:{port}/hook",
                "headers": {"Authorization": "Bearer ${env:HOOK_TOKEN}",
                            "X-Static": SECRETS["webhook-header"]}}}]}],
        "rules": [{"name": "r", "pattern": {"kind": ["alarm_state_change"]}, "targets": [
            {"command": ["true"], "env": {"TOKEN": "${env:HOOK_TOKEN}",
                                          "OTHER": SECRETS["command-env"]}}]}]}))
    done = _vigil("apply", "-f", str(tmp_path / "vigil.yaml"), env=env)
    assert done.returncode == 0, done.stderr
    assert "envtok-4b8e2c" not in _raw_database(data / "vigil.db")
    exported = _vigil("export", env=env)
    assert exported.returncode == 0, exported.stderr
    text = exported.stdout
    _assert_no_secret(text, "vigil export")
    assert "envtok-4b8e2c" not in text
    assert "Bearer ${env:HOOK_TOKEN}" in text and "${env:HOOK_TOKEN}" in text
    doc = yaml.safe_load(text)
    hook = doc["topics"][0]["subscriptions"][0]["config"]
    assert hook["headers"] == {"Authorization": "Bearer ${env:HOOK_TOKEN}", "X-Static": "***"}
    assert doc["rules"][0]["targets"][0]["env"] == {"OTHER": "***", "TOKEN": "${env:HOOK_TOKEN}"}
    shown = _vigil("export", "--show-secrets", env=env)
    assert SECRETS["webhook-header"] in shown.stdout and "envtok-4b8e2c" in shown.stdout
    # apply the exported file back: nothing changes, no secret becomes "***"
    (tmp_path / "exported.yaml").write_text(text)
    again = _vigil("apply", "-f", str(tmp_path / "exported.yaml"), env=env)
    assert again.returncode == 0, again.stderr
    assert "created 0, updated 0" in again.stdout, again.stdout
    db = open_database(Settings(data_dir=data))
    [sub] = subscriptions_of(db, "oncall")
    assert sub.config["headers"] == {"Authorization": "Bearer envtok-4b8e2c",
                                     "X-Static": SECRETS["webhook-header"]}
    rules, _ = load(db)
    assert rules[0].targets[0].env == {"TOKEN": "envtok-4b8e2c", "OTHER": SECRETS["command-env"]}
    # a rotated variable is an update on the next apply
    rotated = _vigil("apply", "-f", str(tmp_path / "exported.yaml"),
                     env={**env, "HOOK_TOKEN": "envtok-rotated"})
    assert rotated.returncode == 0 and "updated 2" in rotated.stdout, rotated.stdout
    # delivery uses the real secrets
    db = open_database(Settings(data_dir=data))
    outbox = make_outbox(db)
    outbox.enqueue(Message(topic="oncall", subject="s", body="b"), subscriptions_of(db, "oncall"))
    counts = outbox.deliver_due()
    server.shutdown()
    assert counts.delivered == 1, outbox.store.list()
    assert _Receiver.seen[-1]["Authorization"] == "Bearer envtok-rotated"
    assert _Receiver.seen[-1]["X-Static"] == SECRETS["webhook-header"]
    assert box_of(db) is box_of(db.engine)


def test_apply_refuses_a_subscription_id_of_another_topic_and_a_redaction_with_nothing_stored(
    tmp_path: Path,
):
    env = {"VIGIL_DATA_DIR": str(tmp_path / "data")}
    sub = {"id": "ops", "protocol": "pagerduty", "config": {"routing_key": "rk-a"}}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"topics": [
        {"name": "a", "subscriptions": [sub]}]}))
    assert _vigil("apply", "-f", str(tmp_path / "a.yaml"), env=env).returncode == 0
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"topics": [
        {"name": "b", "subscriptions": [{**sub, "config": {"routing_key": "rk-b"}}]}]}))
    done = _vigil("apply", "-f", str(tmp_path / "b.yaml"), env=env)
    assert done.returncode == 2 and "belongs to topic 'a'" in done.stderr, done.stderr
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"topics": [{"name": "c", "subscriptions": [
        {"id": "new", "protocol": "pagerduty", "config": {"routing_key": "***"}}]}]}))
    done = _vigil("apply", "-f", str(tmp_path / "c.yaml"), env=env)
    assert done.returncode == 2 and "no secret is stored" in done.stderr, done.stderr
    (tmp_path / "d.yaml").write_text(yaml.safe_dump({"topics": [{"name": "d", "subscriptions": [
        {"id": "d1", "protocol": "pagerduty", "config": {"routing_key": "${env:NOPE_X}"}}]}]}))
    done = _vigil("apply", "-f", str(tmp_path / "d.yaml"), env=env)
    assert done.returncode == 2 and "NOPE_X is not set" in done.stderr, done.stderr
