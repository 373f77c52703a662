"""The server over real HTTP on loopback: auth, catalog, ingestion, executions, metrics."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from conftest import sagemaker_columns
from live_server import ADMIN_WRITER_READER, LiveServer
from vigil.server.auth import hash_secret
from vigil.store.models import ApiToken
from vigil.store.settings import Settings

HOUR = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
TRAIN_URL = "https://retrain.example.com/train"


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    running = LiveServer(
        Settings(data_dir=tmp_path / "data", max_body_bytes=1 << 20), ADMIN_WRITER_READER
    )
    yield running
    running.stop()


def _baseline_dir(tmp_path: Path, sagemaker_dir: Path) -> Path:
    d = tmp_path / "sm"
    d.mkdir(parents=True)
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", d / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", d / "constraints.json")
    return d


def _capture_lines(cols: dict[str, list[float]], n: int, start: datetime, seed: int) -> bytes:
    """``n`` capture lines whose rows are drawn from SageMaker's own baseline rows."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        pick = rng.integers(0, 100)
        row = ",".join(repr(cols[c][pick]) for c in cols)
        t = (start + timedelta(seconds=30 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(
            '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
            f'"data":"{row}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":"e{seed}-{i}",'
            f'"inferenceTime":"{t}"}},"eventVersion":"0"}}'
        )
    return ("\n".join(lines) + "\n").encode()


def test_every_route_but_health_needs_a_token_and_scopes_hold(srv: LiveServer):
    assert httpx.get(srv.url + "/health").json()["status"] == "ok"
    anonymous = srv.client(None)
    for path in ("/endpoints", "/baselines", "/schedules", "/executions", "/metrics"):
        r = anonymous.get(path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    bogus = srv.client("vgl_not-a-real-token")
    assert bogus.get("/endpoints").status_code == 401
    reader = srv.client("reader")
    assert reader.get("/endpoints").status_code == 200
    r = reader.post("/endpoints", json={"name": "churn"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # tokens are stored hashed: the secret itself is nowhere in the database
    with srv.db.session() as s:
        stored = {t.name: t.token_hash for t in s.scalars(select(ApiToken))}
    secret = srv.tokens["reader"]
    assert stored["reader"] == hash_secret(secret) and secret not in stored.values()


def test_errors_are_json_with_codes_and_bodies_are_limited(srv: LiveServer):
    w = srv.client("writer")
    r = w.post("/endpoints", json={"name": "bad name!"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["message"].startswith("name:")
    r = w.get("/schedules/nope")
    assert r.status_code == 404 and "no schedule named 'nope'" in r.json()["error"]["message"]
    r = w.post("/metrics", content=b"x" * (2 << 20), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    r = w.post("/endpoints", json={"name": "e1"})
    assert r.status_code == 201
    r = w.post(
        "/schedules",
        json={"name": "s", "endpoint": "e1", "baseline": "b", "expression": "rate(5 minute)"},
    )
    assert r.status_code == 422 and "plural" in r.json()["error"]["message"]


def test_capture_ingestion_to_execution_to_metrics(
    srv: LiveServer, tmp_path: Path, sagemaker_dir: Path
):
    w, r = srv.client("writer"), srv.client("reader")
    assert w.post("/endpoints", json={"name": "churn"}).status_code == 201
    base = _baseline_dir(srv.settings.data_dir, sagemaker_dir)  # API paths stay in the data dir
    assert (
        w.post(
            "/baselines", json={"name": "sm", "endpoint": "churn", "path": str(base)}
        ).status_code
        == 201
    )
    r_sched = w.post(
        "/schedules",
        json={
            "name": "hourly",
            "endpoint": "churn",
            "baseline": "sm",
            "expression": "cron(0 * ? * * *)",
        },
    )
    assert r_sched.status_code == 201, r_sched.text
    # one hour of normal traffic, the next hour shifted (SageMaker capture lines)
    cols = sagemaker_columns(sagemaker_dir)
    ingest = w.post(
        "/endpoints/churn/captures",
        content=_capture_lines(cols, 100, HOUR, 1),
        headers={"content-type": "application/x-ndjson"},
    )
    assert ingest.json() == {"stored": 100, "files": 1}
    plain = {
        "records": [
            {
                "input": [9.5, 7.5, 8.5, 9.5, 7.5, 8.5],
                "content_type": "text/csv",
                "inference_time": (HOUR + timedelta(hours=1, minutes=i)).isoformat(),
                "inference_id": f"i{i}",
            }
            for i in range(60)
        ]
    }
    assert w.post("/endpoints/churn/captures", json=plain).json()["stored"] == 60

    ok = w.post(
        "/schedules/hourly/run",
        json={
            "window_start": HOUR.isoformat(),
            "window_end": (HOUR + timedelta(hours=1)).isoformat(),
        },
    ).json()
    assert ok["status"] == "Completed", ok
    assert ok["records_read"] == 100 and ok["violation_count"] == 0
    bad = w.post(
        "/schedules/hourly/run",
        json={
            "window_start": (HOUR + timedelta(hours=1)).isoformat(),
            "window_end": (HOUR + timedelta(hours=2)).isoformat(),
        },
    ).json()
    assert bad["status"] == "CompletedWithViolations", bad
    assert bad["records_read"] == 60 and bad["violation_count"] > 0
    again = w.post(
        "/schedules/hourly/run",
        json={
            "window_start": HOUR.isoformat(),
            "window_end": (HOUR + timedelta(hours=1)).isoformat(),
        },
    )
    assert again.status_code == 409  # each (schedule, window) runs once
    empty = w.post(
        "/schedules/hourly/run",
        json={
            "window_start": (HOUR + timedelta(hours=5)).isoformat(),
            "window_end": (HOUR + timedelta(hours=6)).isoformat(),
        },
    ).json()
    assert empty["status"] == "Failed"
    assert "churn" in empty["failure_reason"] and "11:59" in empty["failure_reason"]

    listed = r.get("/executions", params={"status": "CompletedWithViolations"}).json()
    assert [e["id"] for e in listed["executions"]] == [bad["id"]]
    assert set(bad["outputs"]) >= {
        "statistics.json",
        "constraint_violations.json",
        "constraints.json",
        "report.html",
    }
    violations = r.get(f"/executions/{bad['id']}/outputs/constraint_violations.json").json()
    assert {v["constraint_check_type"] for v in violations["violations"]} >= {
        "baseline_drift_check"
    }
    out_dir = Path(srv.settings.reports_root) / "churn" / "hourly" / "2024" / "05" / "01" / "12"
    assert (out_dir / "constraint_violations.json").is_file()

    q = r.get(
        "/metrics/query",
        params={
            "namespace": "aws/sagemaker/Endpoints/data-metrics",
            "name": "feature_baseline_drift__c0",
            "dimension": ["Endpoint:churn", "MonitoringSchedule:hourly"],
            "start": HOUR.isoformat(),
            "end": (HOUR + timedelta(hours=3)).isoformat(),
            "period": 3600,
            "statistic": ["Maximum"],
        },
    ).json()
    values = [p["Maximum"] for p in q["datapoints"]]
    assert len(values) == 2 and values[0] < 0.1 < values[1]
    status = r.get(
        "/metrics/query",
        params={
            "namespace": "vigil/Executions",
            "name": "execution_status_Failed",
            "dimension": ["Endpoint:churn", "MonitoringSchedule:hourly"],
            "start": HOUR.isoformat(),
            "end": (HOUR + timedelta(hours=8)).isoformat(),
            "period": 86400,
            "statistic": ["Sum"],
        },
    ).json()
    assert status["datapoints"][0]["Sum"] == 1.0
    # a dimension that is not Name:Value is named in a 422 (the explorer reads it alike)
    bad = r.get("/metrics/query", params={"namespace": "vigil/Executions", "name": "x",
                                          "dimension": ["Endpoint"]})  # fmt: skip
    assert bad.status_code == 422 and "dimension 'Endpoint': expected Name:Value" in bad.text


def test_ground_truth_ingestion(srv: LiveServer):
    w = srv.client("writer")
    r = w.post(
        "/ground-truth",
        json={"records": [{"event_id": "a", "label": 1}, {"event_id": "b", "label": "0"}]},
    )
    assert r.json() == {"stored": 2, "files": 1}
    files = list((srv.settings.data_dir / "ground-truth").rglob("*.jsonl"))
    lines = files[0].read_text().splitlines()
    assert '"eventId":"a"' in lines[0] and '"data":"1"' in lines[0]


def test_stopping_an_execution(srv: LiveServer):
    from vigil.store.executions import claim_execution

    w = srv.client("writer")
    claimed = claim_execution(srv.db, "s", "e", HOUR, HOUR, HOUR + timedelta(hours=1), "x", 60)
    stopped = w.post(f"/executions/{claimed.id}/stop").json()
    assert stopped["status"] == "Stopped" and "writer" in stopped["failure_reason"]
    again = w.post(f"/executions/{claimed.id}/stop")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert srv.client("reader").post(f"/executions/{claimed.id}/stop").status_code == 403


def test_topics_subscriptions_alarms_over_the_api(srv: LiveServer):
    w, r = srv.client("writer"), srv.client("reader")
    assert w.post("/topics", json={"name": "team"}).status_code == 201
    sub = w.post(
        "/topics/team/subscriptions",
        json={"protocol": "webhook", "config": {"url": "http://127.0.0.1:9/x", "secret": "hush"}},
    )
    assert sub.status_code == 201 and sub.json()["config"]["secret"] == "***"
    listed = r.get("/topics/team/subscriptions").json()["subscriptions"]
    assert listed[0]["config"] == {"url": "http://127.0.0.1:9/x", "secret": "***"}
    assert "hush" not in r.get("/topics/team/subscriptions").text  # secrets never echoed
    missing = w.post("/topics/nope/subscriptions", json={"protocol": "webhook", "config": {}})
    assert missing.status_code == 404
    bad = w.post("/topics/team/subscriptions", json={"protocol": "pigeon", "config": {}})
    assert bad.status_code == 400 and "protocol" in bad.json()["error"]["message"]
    alarm = w.post(
        "/alarms",
        json={
            "name": "lat",
            "namespace": "app",
            "metric_name": "latency",
            "statistic": "p99",
            "period": 60,
            "evaluation_periods": 3,
            "threshold": 1.0,
            "comparison_operator": "GreaterThanThreshold",
            "alarm_actions": ["team"],
        },
    )
    assert alarm.status_code == 201 and alarm.json()["state"] == "INSUFFICIENT_DATA"
    bad_alarm = w.post(
        "/alarms",
        json={
            "name": "x",
            "namespace": "a",
            "metric_name": "m",
            "statistic": "Average",
            "period": 45,
            "evaluation_periods": 1,
            "threshold": 1,
            "comparison_operator": "GreaterThanThreshold",
        },
    )
    assert bad_alarm.status_code == 422 and "period" in bad_alarm.json()["error"]["message"]
    assert r.get("/alarms").json()["alarms"][0]["name"] == "lat"
    assert r.get("/alarms/lat/history").json() == {"history": []}
    assert r.get("/dead-letters").json() == {"dead_letters": []}


def test_rules_and_workflows_over_the_api(srv: LiveServer):
    w, r = srv.client("writer"), srv.client("reader")
    missing = w.post(
        "/rules",
        json={
            "name": "r",
            "pattern": {"kind": ["alarm_state_change"]},
            "targets": [{"workflow": "retrain"}],
        },
    )
    assert missing.status_code == 422 and "retrain" in missing.json()["error"]["message"]
    wf = w.post(
        "/workflows",
        json={"name": "retrain", "steps": [{"name": "train", "target": {"url": TRAIN_URL}}]},
    )
    assert wf.status_code == 201, wf.text
    ok = w.post(
        "/rules",
        json={
            "name": "r",
            "pattern": {"kind": ["alarm_state_change"]},
            "targets": [{"workflow": "retrain"}],
        },
    )
    assert ok.status_code == 201, ok.text
    listed = r.get("/rules").json()
    assert [x["name"] for x in listed["rules"]] == ["r"]
    assert [x["name"] for x in listed["workflows"]] == ["retrain"]
    flows = r.get("/workflows").json()["workflows"]
    assert flows[0]["steps"][0]["target"]["url"] == TRAIN_URL  # commands need admin: test_scopes
    assert r.post("/workflows", json={"name": "x", "steps": []}).status_code == 403
    bad = w.post(
        "/workflows",
        json={
            "name": "x",
            "steps": [{"name": "a", "target": {"url": TRAIN_URL}, "next": "nowhere"}],
        },
    )
    assert bad.status_code == 422
    assert r.get("/actions/runs").json() == {"runs": []}


def test_every_api_route_needs_a_token_and_reads_cannot_write(srv: LiveServer):
    import re

    anon, reader = srv.client(None), srv.client("reader")
    paths = srv.server.config.app.openapi()["paths"]
    routes = [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, ops in paths.items()
        if path.startswith("/api/v1/")
        for method in ops
    ]
    assert len(routes) > 40, routes
    for method, path in routes:
        path = path.removeprefix("/api/v1")
        assert anon.request(method, path).status_code == 401, (method, path)
        if method != "GET":
            assert reader.request(method, path, json={}).status_code == 403, (method, path)


def test_the_server_runs_on_uvicorns_c_parser_and_event_loop() -> None:
    """`vigil server` leaves uvicorn's choice on auto, which takes httptools and uvloop when
    installed: they are dependencies, so it does (1.4x the requests/s of h11 and asyncio)."""
    import inspect

    import uvicorn.config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    import vigil.cli.server as cli_server

    config = uvicorn.config.Config(lambda scope, receive, send: None)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    factory = config.get_loop_factory()
    assert factory is not None and factory.__module__.startswith("uvloop"), factory
    source = inspect.getsource(cli_server)
    assert "http=" not in source and "loop=" not in source  # auto, as checked above
