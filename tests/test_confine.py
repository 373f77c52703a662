"""Paths and URLs that arrive over the API stay inside the data directory and the operator's
allowed roots; ``file://`` means one thing for writers and readers (issue 9, item 5).

A real ``vigil`` server on 127.0.0.1 (uvicorn in a thread, SQLite), real HTTP.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from live_server import LiveServer
from vigil.capture.location import local_path
from vigil.capture.window import read_window
from vigil.capture.writer import CaptureWriter
from vigil.store.locations import LocationNotAllowedError, confine_location
from vigil.store.settings import Settings

HOUR = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "elsewhere"
    d.mkdir()
    return d


@pytest.fixture
def srv(tmp_path: Path, outside: Path) -> Iterator[LiveServer]:
    settings = Settings(data_dir=tmp_path / "data",
                        allowed_roots=(str(tmp_path / "shared"), "s3://models/capture"))
    running = LiveServer(settings, {"writer": "write", "reader": "read"})
    yield running
    running.stop()


def _baseline(folder: Path, sagemaker_dir: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", folder / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", folder / "constraints.json")
    return folder


def _refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith(f"{field} "), error["message"]
    return str(error["message"])


# -- baselines ---------------------------------------------------------------------------


def test_a_baseline_path_outside_the_roots_is_refused_naming_the_roots(srv: LiveServer):
    with srv.client("writer") as w:
        message = _refused(w.post("/baselines", json={"name": "b", "path": "/proc/self/environ"}),
                           "path")
        assert str(srv.settings.data_dir) in message and "s3://models/capture" in message
        assert "upload" in message
        with srv.client("reader") as r:
            assert r.get("/baselines/b").status_code == 404


def test_the_servers_own_database_and_data_dir_are_refused(srv: LiveServer):
    data = srv.settings.data_dir
    with srv.client("writer") as w:
        for path in (data / "vigil.db", data / "vigil.db-wal", data, data / "baselines" / ".."):
            message = _refused(w.post("/baselines", json={"name": "b", "path": str(path)}),
                               "path")
            assert "server's own state" in message or "no such file" in message
        # and the database still takes acknowledged writes
        assert w.post("/endpoints", json={"name": "churn"}).status_code == 201
        assert w.get("/endpoints/churn").status_code == 200


def test_symlinks_and_dot_dots_out_of_the_data_dir_are_refused(
    srv: LiveServer, outside: Path, sagemaker_dir: Path
):
    data = srv.settings.data_dir
    secret = outside / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    (data / "incoming").mkdir()
    (data / "incoming" / "link.csv").symlink_to(secret)
    inner = _baseline(data / "incoming" / "sneaky", sagemaker_dir)
    (inner / "statistics.json").unlink()
    (inner / "statistics.json").symlink_to(outside / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", outside / "statistics.json")
    with srv.client("writer") as w:
        for path in (str(data / "incoming" / "link.csv"),
                     f"{data}/incoming/../../elsewhere/secret.csv",
                     str(inner), f"file://{secret}"):
            _refused(w.post("/baselines", json={"name": "b", "path": path}), "path")


def test_baselines_inside_the_data_dir_or_an_allowed_root_are_registered(
    srv: LiveServer, tmp_path: Path, sagemaker_dir: Path
):
    inside = _baseline(srv.settings.data_dir / "incoming" / "sm", sagemaker_dir)
    shared = _baseline(tmp_path / "shared" / "sm", sagemaker_dir)
    with srv.client("writer") as w:
        for name, path in (("a", str(inside)), ("b", f"file://{shared}"), ("c", "incoming/sm")):
            response = w.post("/baselines", json={"name": name, "path": path})
            assert response.status_code == 201, response.text


# -- capture locations -------------------------------------------------------------------


def test_a_capture_uri_outside_the_roots_is_refused(srv: LiveServer, outside: Path):
    with srv.client("writer") as w:
        for uri in (str(outside), f"file://{outside}", "file://otherhost/x",
                    "s3://models/other", "s3://models/capture/../other", "memory://x",
                    str(srv.settings.data_dir)):
            _refused(w.post("/endpoints", json={"name": "e", "capture_uri": uri}), "capture_uri")
        ok = w.post("/endpoints", json={"name": "e", "capture_uri": "s3://models/capture/e"})
        assert ok.status_code == 201, ok.text


def test_a_record_sent_to_a_file_uri_capture_is_read_by_the_next_window(srv: LiveServer):
    folder = srv.settings.data_dir / "team-captures"
    lines = "\n".join(
        f'{{"captureData": {{"endpointInput": {{"observedContentType": "text/csv", '
        f'"mode": "INPUT", "data": "{i},{i * 2}", "encoding": "CSV"}}}}, '
        f'"eventMetadata": {{"eventId": "e-{i}", "inferenceTime": '
        f'"{(HOUR + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}"}}, '
        f'"eventVersion": "0"}}'
        for i in range(3)
    )
    with srv.client("writer") as w:
        created = w.post("/endpoints", json={"name": "churn", "capture_uri": f"file://{folder}"})
        assert created.status_code == 201, created.text
        stored = created.json()["capture_uri"]
        sent = w.post("/endpoints/churn/captures", content=lines,
                      headers={"content-type": "application/x-ndjson"})
        assert sent.status_code in (200, 201), sent.text
    assert not (Path.cwd() / "file:").exists()
    window = read_window(stored, "churn", HOUR, HOUR + timedelta(hours=1))
    assert window.num_rows == 3
    also = read_window(f"file://{folder}", "churn", HOUR, HOUR + timedelta(hours=1))
    assert also.num_rows == 3


def test_the_capture_writer_and_reader_agree_on_file_uris(tmp_path: Path):
    uri = f"file://{tmp_path / 'cap'}"
    t = HOUR.timestamp() + 60
    with CaptureWriter("churn", destination=uri, clock=lambda: t) as writer:
        writer.capture(b"1,2", b"0.5", content_type="text/csv")
    assert read_window(uri, "churn", HOUR, HOUR + timedelta(hours=1)).num_rows == 1
    assert local_path("file://localhost/srv/x") == Path("/srv/x")


# -- the resolver, for other fields (preprocessors) ---------------------------------------


def test_the_resolver_reads_the_operators_roots_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("VIGIL_ALLOWED_ROOTS", f"{tmp_path / 'srv'}, s3://bucket/prefix")
    settings = Settings.from_env(tmp_path / "data")
    assert settings.allowed_roots == (str(tmp_path / "srv"), "s3://bucket/prefix")
    assert confine_location(settings, "s3://bucket/prefix/a/b", "x") == "s3://bucket/prefix/a/b"
    assert confine_location(settings, str(tmp_path / "srv" / "p.py"), "preprocessor") == str(
        (tmp_path / "srv" / "p.py").resolve())
    for value in ("s3://bucket/prefixed", "s3://other/prefix", "/etc/passwd"):
        with pytest.raises(LocationNotAllowedError, match="preprocessor"):
            confine_location(settings, value, "preprocessor")


# -- outgoing destinations, at definition time (the connect-time policy: test_outbound.py) --


def test_literal_refused_addresses_are_refused_when_defined_over_the_api(
    srv: LiveServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "")
    with srv.client("writer") as w:
        assert w.post("/topics", json={"name": "ops"}).status_code == 201
        for config in ({"url": "http://169.254.169.254/latest/meta-data/"},
                       {"url": "http://10.0.0.7:8080/hook"}):
            r = w.post("/topics/ops/subscriptions", json={"protocol": "webhook", "config": config})
            assert r.status_code == 422 and "config.url" in r.json()["error"]["message"], r.text
        r = w.post("/topics/ops/subscriptions", json={
            "protocol": "email", "config": {"host": "127.0.0.1", "to": "a@x.org"}})
        assert r.status_code == 422 and "config.host" in r.json()["error"]["message"], r.text
        ok = w.post("/topics/ops/subscriptions", json={
            "protocol": "webhook", "config": {"url": "https://hooks.example.com/x"}})
        assert ok.status_code == 201, ok.text
        rule = {"name": "r", "pattern": {"kind": ["alarm_state_change"]},
                "targets": [{"url": "http://[::ffff:127.0.0.1]:9/x"}]}
        r = w.post("/rules", json=rule)
        assert r.status_code == 422 and "targets.0.url" in r.json()["error"]["message"], r.text
        workflow = {"name": "w", "steps": [{"name": "s", "target": {"url": "http://10.1.1.1/"}}]}
        r = w.post("/workflows", json=workflow)
        assert r.status_code == 422 and "steps.0.target.url" in r.json()["error"]["message"]
