"""Training jobs over HTTP on a live server: the real ``mlflow`` client, Keras-shaped posts
(``requests`` as ``RemoteMonitor`` sends them), the SDK and ``vigil run`` against a server,
and the jobs API's reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import vigil
from live_server import LiveServer
from vigil.store.settings import Settings

mlflow = pytest.importorskip("mlflow")
requests = pytest.importorskip("requests")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("training") / "data"
    srv = LiveServer(Settings(data_dir=data), {"trainer": "read,ingest", "reader": "read"})
    yield srv
    srv.stop()


def test_the_real_mlflow_client_tracks_a_run(live: LiveServer, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", live.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", live.tokens["trainer"])
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="churn-mlflow") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 6})
        for step in range(3):
            mlflow.log_metric("val_loss", 1.0 / (step + 1), step=step)
        mlflow.set_tag("team", "ml")
        now = int(time.time() * 1000)
        MlflowClient().log_batch(
            run.info.run_id,
            metrics=[Metric("acc", 0.9, now, 2)],
            params=[Param("opt", "adam")],
            tags=[RunTag("t", "u")],
        )
    with pytest.raises(ZeroDivisionError), mlflow.start_run(run_name="churn-broken"):
        1 / 0  # noqa: B018
    client = MlflowClient()
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.1", "depth": "6", "opt": "adam"}
    assert got.data.tags["team"] == "ml" and got.data.metrics["acc"] == 0.9
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    statuses = {r.info.run_name: r.info.status for r in mlflow.search_runs(
        experiment_names=["churn"], output_format="list")}  # fmt: skip
    assert statuses == {"churn-mlflow": "FINISHED", "churn-broken": "FAILED"}
    # the same run in Vigil's own API, figures in the metric store
    api = live.client("reader")
    job = api.get(f"/jobs/{run.info.run_id}").json()
    assert job["status"] == "Completed" and job["name"] == "churn-mlflow"
    assert api.get("/jobs/churn-broken").json()["status"] == "Failed"
    q = api.get("/metrics/query", params={"namespace": "/aws/sagemaker/TrainingJobs",
                "name": "val_loss", "dimension": "TrainingJobName:churn-mlflow",
                "statistic": ["SampleCount", "Minimum"], "period": 86400}).json()  # fmt: skip
    assert q["datapoints"][0]["SampleCount"] == 3 and q["datapoints"][0]["Minimum"] == 1 / 3


def test_mlflow_errors_have_mlflow_shape_and_scopes(live: LiveServer) -> None:
    base = live.url + "/api/2.0/mlflow"
    reader = {"Authorization": f"Bearer {live.tokens['reader']}"}
    missing = httpx.get(base + "/experiments/get-by-name", params={"experiment_name": "nope"},
                        headers=reader)  # fmt: skip
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    refused = httpx.post(base + "/experiments/create", json={"name": "x"}, headers=reader)
    assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    assert httpx.get(base + "/runs/get", params={"run_id": "x"}).status_code == 401


def test_keras_remote_monitor_posts_as_form_and_as_json(live: LiveServer) -> None:
    root = f"{live.url}/api/v1/jobs/keras-train"
    headers = {"Authorization": f"Bearer {live.tokens['trainer']}"}
    for epoch in range(3):  # exactly what RemoteMonitor.on_epoch_end sends
        send = {"epoch": epoch, "loss": 1.0 / (epoch + 1), "val_loss": 2.0 / (epoch + 1)}
        if epoch < 2:  # send_as_json=False (the default): form field "data"
            r = requests.post(root + "/publish/epoch/end/", {"data": json.dumps(send)},
                              headers=headers)  # fmt: skip
        else:
            r = requests.post(root + "/publish/epoch/end/", json=send, headers=headers)
        assert r.status_code == 200, r.text
    api = live.client("reader")
    curve = api.get("/jobs/keras-train/metrics/val_loss").json()["points"]
    assert [(p["step"], p["value"]) for p in curve] == [(0, 2.0), (1, 1.0), (2, 2 / 3)]
    bad = requests.post(root + "/publish/epoch/end/", {"data": "{not json"}, headers=headers)
    assert bad.status_code == 400


def test_sdk_and_vigil_run_report_to_a_server(live: LiveServer, tmp_path: Path) -> None:
    with vigil.training_job("remote-sdk", server=live.url, token=live.tokens["trainer"],
                            hyperparameters={"lr": 0.01}, flush_every=2) as job:  # fmt: skip
        for step in range(5):
            job.log_metric("train:loss", 0.1 * step, step=step)
    api = live.client("reader")
    doc = api.get("/jobs/remote-sdk").json()
    assert doc["status"] == "Completed" and doc["hyperparameters"] == {"lr": "0.01"}
    assert {m["MetricName"]: m["Value"] for m in doc["final_metrics"]} == {"train:loss": 0.4}
    script = tmp_path / "t.py"
    script.write_text(
        "import sys\nprint('loss=0.25')\nprint('oops', file=sys.stderr)\nsys.exit(4)\n"
    )
    env = {**os.environ, "VIGIL_SERVER": live.url, "VIGIL_TOKEN": live.tokens["trainer"]}
    cmd = [sys.executable, "-m", "vigil.cli", "run", "--job", "remote-run",
           "--metric-definition", "loss=loss=(\\S+)", "--", sys.executable, str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 4 and done.stdout == "loss=0.25\n"
    doc = api.get("/jobs/remote-run").json()
    assert doc["status"] == "Failed" and doc["failure_reason"] == "exit status 4: oops"
    log = api.get("/jobs/remote-run/log", params={"search": "loss"}).json()
    assert log["lines"] == ["loss=0.25"]
    listed = api.get("/jobs", params={"status": "Failed", "prefix": "remote"}).json()
    assert [j["name"] for j in listed["jobs"]] == ["remote-run"]
    assert api.get("/jobs/nope").status_code == 404
    assert live.client("reader").post("/jobs", json={"name": "x"}).status_code == 403
