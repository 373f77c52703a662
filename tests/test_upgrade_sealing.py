"""``vigil db upgrade`` seals the secrets a database written before issue 9 holds in plain
text: subscription configs, rule and workflow targets, the subscription snapshots of queued
deliveries. After the upgrade the raw file holds none of them, a second upgrade seals
nothing, and a live server still delivers with the real values (a loopback webhook receives
the secret header and a signature made with the secret).

The database is ``tests/data/pre_migration.db`` (written by the code before migrations, whose
webhook subscription and delivered outbox rows hold its signing secret ``demo-secret``), with
more plain secrets written into a copy with sqlite3, the way that code stored them.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

import vigil
from vigil.actions.definitions import load
from vigil.actions.spec import Rule
from vigil.alerts.delivery.webhook import verify_signature
from vigil.alerts.notify import put_topic, subscribe, subscriptions_of
from vigil.app.bootstrap import open_database
from vigil.store.settings import Settings

FIXTURE = Path(__file__).resolve().parent / "data" / "pre_migration.db"
SRC = Path(vigil.__file__).resolve().parents[1]
VIGIL = [sys.executable, "-m", "vigil.cli"]
SIGNING = "demo-secret"  # the fixture's own
HEADER = "Bearer legacy-hdr-7f3a9c"
ENV_TOKEN = "legacy-env-91c2d4"
HTTP_HEADER = "legacy-httphdr-2b6e"
URL_KEY = "legacy-urlkey-55ab"
PLAIN = (SIGNING, HEADER, "legacy-hdr-7f3a9c", ENV_TOKEN, HTTP_HEADER, URL_KEY)


def _env() -> dict[str, str]:
    drop = ("VIGIL_DATABASE_URL", "VIGIL_DATA_DIR", "VIGIL_SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "PYTHONPATH": str(SRC)}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VIGIL, *args], capture_output=True, text=True, timeout=120, env=_env(), check=False
    )


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _write_legacy_secrets(path: Path, hook_url: str) -> None:
    """Plain secrets where the code before issue 9 stored them: a webhook subscription's
    headers, a queued delivery's subscription snapshot, a workflow command's ``env``, an HTTP
    rule target's headers and URL query."""
    conn = sqlite3.connect(path)
    try:
        config = {"url": hook_url, "secret": SIGNING, "headers": {"Authorization": HEADER}}
        conn.execute(
            "UPDATE subscriptions SET config = ? WHERE id = 'oncall-webhook'", (json.dumps(config),)
        )
        [(payload,)] = conn.execute(
            "SELECT payload FROM delivery_outbox WHERE subscription = 'oncall-webhook' "
            "ORDER BY id LIMIT 1"
        ).fetchall()
        doc = json.loads(payload)
        doc["message"]["id"] = "legacy-queued-1"
        doc["subscription"]["config"] = config
        past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
        conn.execute(
            "INSERT INTO delivery_outbox (message_id, subscription, topic, protocol, payload, "
            "attempt, next_attempt_at, status, created_at) VALUES ('legacy-queued-1', "
            "'oncall-webhook', 'oncall', 'webhook', ?, 0, ?, 'pending', ?)",
            (json.dumps(doc), past, past),
        )
        [(spec,)] = conn.execute(
            "SELECT spec FROM action_definitions WHERE kind = 'workflow' AND name = 'retrain'"
        ).fetchall()
        workflow = json.loads(spec)
        workflow["steps"][0]["target"]["env"] = {"TRAIN_TOKEN": ENV_TOKEN}
        conn.execute(
            "UPDATE action_definitions SET spec = ? WHERE kind = 'workflow' AND name = 'retrain'",
            (json.dumps(workflow),),
        )
        rule = Rule.model_validate({
            "name": "legacy-http", "pattern": {"kind": ["never-emitted"]},
            "targets": [{"url": f"https://hooks.example.invalid/x?key={URL_KEY}",
                         "headers": {"X-Key": HTTP_HEADER}}],
        }).model_dump(mode="json")  # fmt: skip
        conn.execute(
            "INSERT INTO action_definitions (kind, name, spec, updated_at) "
            "VALUES ('rule', 'legacy-http', ?, ?)",
            (json.dumps(rule), past),
        )
        conn.commit()
    finally:
        conn.close()


def _raw(data: Path) -> bytes:
    """Every byte of the database's files (the file, its write-ahead log and journal)."""
    return b"".join(p.read_bytes() for p in sorted(data.glob("vigil.db*")))


def test_upgrade_seals_every_plain_secret_and_deliveries_keep_the_real_values(tmp_path: Path):
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURE, data / "vigil.db")
    _write_legacy_secrets(data / "vigil.db", hook)
    assert all(s.encode() in _raw(data) for s in PLAIN)  # what the old code left

    done = _cli("db", "upgrade", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and "upgraded from revision none" in lines[0], done.stdout
    # 2 subscriptions' values (url, secret) + 1 header; the queued delivery 3, the 7
    # delivered webhook rows 2 each; the workflow's env 1; the rule's url and header 2
    assert lines[1] == (
        "sealed 23 plain-text secret value(s) with the secret key "
        "(3 in subscriptions, 2 in rules, 1 in workflows, 17 in deliveries)"
    )
    raw = _raw(data)
    assert [s for s in PLAIN if s.encode() in raw] == []
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600

    again = _cli("db", "upgrade", "--data-dir", str(data), "--output", "json")
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert (doc["changed"], doc["sealed"]) == (False, 0)
    assert doc["sealed_by_kind"] == {"subscriptions": 0, "rules": 0, "workflows": 0,
                                     "deliveries": 0, "runs": 0}  # fmt: skip
    assert _raw(data) == raw

    # what the code reads is the real value
    db = open_database(Settings(data_dir=data))
    [sub] = [s for s in subscriptions_of(db, "oncall") if s.id == "oncall-webhook"]
    assert dict(sub.config) == {
        "url": hook, "secret": SIGNING, "headers": {"Authorization": HEADER}
    }
    rules, workflows = load(db)
    [http_rule] = [r for r in rules if r.name == "legacy-http"]
    assert http_rule.targets[0].headers == {"X-Key": HTTP_HEADER}  # type: ignore[union-attr]
    assert workflows["retrain"].steps[0].target.env == {"TRAIN_TOKEN": ENV_TOKEN}  # type: ignore[union-attr]
    db.dispose()

    # a live server delivers the queued delivery with the real header and signing secret
    port = _port()
    server = subprocess.Popen(
        [*VIGIL, "server", "--port", str(port), "--data-dir", str(data)],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(h.get("X-Vigil-Message-Id") == "legacy-queued-1" for h, _ in _Receiver.seen):
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the queued delivery did not arrive"
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
        receiver.shutdown()
    [(headers, body)] = [
        (h, b) for h, b in _Receiver.seen if h.get("X-Vigil-Message-Id") == "legacy-queued-1"
    ]
    assert headers["Authorization"] == HEADER
    assert verify_signature(
        SIGNING, headers["X-Vigil-Timestamp"], body, headers["X-Vigil-Signature"], tolerance=None
    )
    assert [s for s in PLAIN if s.encode() in _raw(data)] == []


def test_upgrade_without_the_key_of_the_sealed_values_seals_nothing_and_says_so(tmp_path: Path):
    key = Fernet.generate_key().decode()
    data = tmp_path / "data"
    db = open_database(Settings(data_dir=data, secret_key=key))
    put_topic(db, "t")
    subscribe(db, "t", "pagerduty", {"routing_key": "rk-sealed-1"}, id="new")
    db.dispose()
    conn = sqlite3.connect(data / "vigil.db")  # a row the code before issue 9 wrote
    with conn:
        conn.execute(
            "INSERT INTO subscriptions (id, topic, protocol, config, created_at) VALUES "
            "('old', 't', 'pagerduty', '{\"routing_key\": \"rk-plain-2\"}', '2026-01-01')"
        )
    conn.close()

    refused = _cli("db", "upgrade", "--data-dir", str(data))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("vigil: error: [secret_key] stored secrets are encrypted")
    assert len(refused.stderr.splitlines()) == 1
    assert not (data / "secret.key").exists() and b"rk-plain-2" in _raw(data)

    done = subprocess.run(
        [*VIGIL, "db", "upgrade", "--data-dir", str(data)], capture_output=True, text=True,
        timeout=120, env={**_env(), "VIGIL_SECRET_KEY": key}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "sealed 1 plain-text secret value(s) with the secret key (1 in subscriptions)"
    )
    assert b"rk-plain-2" not in _raw(data) and not (data / "secret.key").exists()
    db = open_database(Settings(data_dir=data, secret_key=key))
    assert {s.id: s.config["routing_key"] for s in subscriptions_of(db, "t")} == {
        "new": "rk-sealed-1", "old": "rk-plain-2"
    }
    db.dispose()
