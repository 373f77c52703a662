"""Scopes that mean something: read / ingest / write / admin on a live server, the token API
(admin only) and revocation that holds at once on every server sharing the database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_server import LiveServer
from vigil.app.bootstrap import open_database
from vigil.server.auth import create_token
from vigil.store.settings import Settings

CAPTURE = (
    '{"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", '
    '"data": "1,2", "encoding": "CSV"}}, "eventMetadata": {"eventId": "e1", '
    '"inferenceTime": "2024-05-01T10:00:00Z"}, "eventVersion": "0"}\n'
)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    # commands would be allowed: what is refused below is refused for the scope alone
    settings = Settings(data_dir=tmp_path / "data", allow_commands=(sys.executable,))
    srv = LiveServer(settings, {s: s for s in ("read", "ingest", "write", "admin")})
    yield srv
    srv.stop()


def _workflow(target: dict) -> dict:
    return {"name": "wf", "steps": [{"name": "s", "target": target}]}


def add_endpoint_and_baseline(c: httpx.Client, baseline: Path) -> None:
    """Endpoint ``churn`` and baseline ``base`` (uploaded), as a schedule needs them."""
    c.post("/endpoints", json={"name": "churn"}).raise_for_status()
    files = {
        "statistics": ("statistics.json", (baseline / "statistics.json").read_bytes()),
        "constraints": ("constraints.json", (baseline / "constraints.json").read_bytes()),
    }
    c.post(
        "/baselines/upload", data={"name": "base", "endpoint": "churn"}, files=files
    ).raise_for_status()


def schedule(preprocessor: str | None = None) -> dict:
    body: dict = {
        "name": "s",
        "endpoint": "churn",
        "baseline": "base",
        "expression": "rate(1 hour)",
    }
    if preprocessor is not None:
        body["config"] = {"preprocessor": preprocessor}
    return body


def test_a_write_token_cannot_define_code(
    live: LiveServer, tmp_path: Path, sagemaker_baseline: Path
):
    w = live.client("write")
    command = {"command": [sys.executable, "-c", "print(1)"]}
    for path, body in [
        ("/workflows", _workflow(command)),
        ("/workflows", _workflow({"entry_point": "os:system"})),
        ("/rules", {"name": "r", "pattern": {"kind": ["x"]}, "targets": [command]}),
        ("/rules", {"name": "r", "pattern": {"kind": ["x"]}, "targets": [{"command": "id"}]}),
        (
            "/rules",
            {"name": "r", "pattern": {"kind": ["x"]}, "targets": [{"entry_point": "os:system"}]},
        ),
    ]:
        r = w.post(path, json=body)
        assert r.status_code == 403, (path, body, r.text)
        assert r.json()["error"]["code"] == "forbidden"
        assert "'admin' scope" in r.json()["error"]["message"]
    add_endpoint_and_baseline(w, sagemaker_baseline)
    evil = tmp_path / "evil.py"
    evil.write_text("def preprocess_handler(r):\n    return []\n")
    sched = w.post("/schedules", json=schedule(str(evil)))
    assert sched.status_code == 403 and "admin" in sched.json()["error"]["message"], sched.text
    assert live.client("admin").get("/rules").json() == {
        "rules": [], "workflows": [], "errors": []
    }
    # configuration without code stays a write token's job
    ok = w.post("/workflows", json=_workflow({"url": "https://hooks.example.com/retrain"}))
    assert ok.status_code == 201, ok.text
    assert w.post("/schedules", json=schedule()).status_code == 201


def test_an_ingest_token_sends_data_only(live: LiveServer):
    live.client("write").post("/endpoints", json={"name": "churn"}).raise_for_status()
    i = live.client("ingest")
    cap = i.post(
        "/endpoints/churn/captures", content=CAPTURE, headers={"content-type": "application/jsonl"}
    )
    assert cap.status_code == 200 and cap.json()["stored"] == 1, cap.text
    gt = i.post("/ground-truth", json={"records": [{"event_id": "e1", "label": 1}]})
    assert gt.status_code == 200, gt.text
    m = i.post("/metrics", json={"namespace": "app", "data": [{"name": "latency", "value": 3}]})
    assert m.status_code == 200 and m.json() == {"stored": 1}, m.text
    for method, path, body in [
        ("GET", "/endpoints", None),
        ("GET", "/endpoints/churn", None),
        ("GET", "/metrics", None),
        ("GET", "/executions", None),
        ("GET", "/tokens", None),
        ("POST", "/endpoints", {"name": "other"}),
        ("POST", "/workflows", _workflow({"url": "https://hooks.example.com/x"})),
        ("DELETE", "/schedules/x", None),
    ]:
        r = i.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)
        assert "lacks the" in r.json()["error"]["message"]
    # read cannot send data; write and admin can (they imply ingest)
    r = live.client("read")
    assert (
        r.post("/metrics", json={"namespace": "a", "data": [{"name": "x", "value": 1}]}).status_code
        == 403
    )
    for scope in ("write", "admin"):
        sent = live.client(scope).post(
            "/metrics", json={"namespace": "a", "data": [{"name": "x", "value": 1}]}
        )
        assert sent.status_code == 200, (scope, sent.text)


def test_tokens_over_the_api_need_admin(live: LiveServer):
    for scope in ("read", "ingest", "write"):
        c = live.client(scope)
        assert c.get("/tokens").status_code == 403
        assert c.post("/tokens", json={"name": "x", "scopes": ["read"]}).status_code == 403
        assert c.delete("/tokens/read").status_code == 403
    admin = live.client("admin")
    made = admin.post("/tokens", json={"name": "model-server", "scopes": ["ingest"]})
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["name"] == "model-server" and doc["scopes"] == ["ingest"] and not doc["revoked"]
    secret = doc["secret"]
    assert secret.startswith("vgl_")
    assert admin.post("/tokens", json={"name": "model-server"}).status_code == 409
    bad = admin.post("/tokens", json={"name": "y", "scopes": ["root"]})
    assert bad.status_code == 422 and "read, ingest, write, admin" in bad.json()["error"]["message"]
    sent = live.client(secret).post(
        "/metrics", json={"namespace": "a", "data": [{"name": "x", "value": 1}]}
    )
    assert sent.status_code == 200
    listed = admin.get("/tokens").json()["tokens"]
    assert [t["name"] for t in listed] == ["admin", "ingest", "model-server", "read", "write"]
    assert secret not in str(listed) and all("secret" not in t for t in listed)
    used = next(t for t in listed if t["name"] == "model-server")
    assert used["last_used_at"] is not None and used["created_at"]
    gone = admin.delete("/tokens/model-server")
    assert gone.status_code == 200 and gone.json()["revoked"] is True
    assert admin.delete("/tokens/nobody").status_code == 404
    assert live.client(secret).get("/metrics").status_code == 401
    openapi = httpx.get(f"http://127.0.0.1:{live.port}/openapi.json").json()
    schema = openapi["paths"]["/api/v1/tokens"]["post"]["responses"]["201"]["content"]
    assert schema["application/json"]["schema"]["$ref"].endswith("/TokenCreated")


def test_a_revoked_token_is_refused_at_once_by_another_server(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    a = LiveServer(settings)
    # a second process's view of the same database
    b = LiveServer(settings, db=open_database(settings))
    try:
        admin = create_token(a.db, "admin", "admin")
        victim = create_token(a.db, "ci", "write")
        on_b = b.client(victim)
        assert on_b.get("/endpoints").status_code == 200  # known to server b now
        assert a.client(admin).delete("/tokens/ci").status_code == 200
        refused = on_b.get("/endpoints")
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "unauthorized"
    finally:
        a.stop()
        b.stop()


def test_existing_scopes_keep_working(live: LiveServer):
    assert live.client("read").get("/endpoints").status_code == 200
    assert (
        live.client("read").post("/endpoints", json={"name": "e"}).status_code == 403
    )
    assert (
        live.client("write").post("/endpoints", json={"name": "e"}).status_code == 201
    )
    assert live.client("admin").get("/endpoints").status_code == 200
