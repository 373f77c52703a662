"""The demo's platform half: a training job with its loss curve, the endpoint's serving
figures from the demo traffic, a deployment before the drift, a failing pipeline that
notifies, and the host's resources.

Each part goes through what a user would run: the ``vigil.training_job`` SDK against the
server, the capture middleware's telemetry, a CI job's PutEvents (``POST /api/v1/events``),
an EventBridge API destination posting CodePipeline's events to
``/api/v1/events/eventbridge``, and ``vigil agent --once``'s collector and pusher.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import numpy as np

import vigil
from vigil.agent import Collector, Pusher, encode

EPOCHS = 12
PIPELINE = "cancer-model-deploy"
DEPLOY_SOURCE, DEPLOY_TYPE = "ci.deploy", "Deployment"


class ScaledModel:
    """A standardising step and a linear classifier: what the demo serves."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, classifier: Any) -> None:
        self.mean, self.scale, self.classifier = mean, scale, classifier

    def predict_proba(self, rows: Any) -> Any:
        return self.classifier.predict_proba((np.asarray(rows, float) - self.mean) / self.scale)


def train_with_job(
    api: httpx.Client, server: str, token: str, x: np.ndarray, y: np.ndarray
) -> ScaledModel:
    """Train a logistic regression by stochastic gradient descent, epoch by epoch, as the
    training job ``cancer-train`` (its train and validation log loss per epoch are the job's
    curves), and print the curve read back through the jobs API."""
    # lazy: scikit-learn is the demo's, not the core's
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    cut = int(len(x) * 0.8)
    fit, val = order[:cut], order[cut:]
    mean, scale = x[fit].mean(axis=0), x[fit].std(axis=0)
    xs = (x - mean) / scale
    params = {"loss": "log_loss", "alpha": 1e-3, "learning_rate": "constant", "eta0": 0.01}
    classifier = SGDClassifier(**params, random_state=0)
    with vigil.training_job(
        "cancer-train", hyperparameters={**params, "epochs": EPOCHS}, server=server, token=token
    ) as job:
        for epoch in range(1, EPOCHS + 1):
            classifier.partial_fit(xs[fit], y[fit], classes=[0, 1])
            job.log_metric("train:loss", log_loss(y[fit], classifier.predict_proba(xs[fit])),
                           step=epoch)
            job.log_metric("validation:loss",
                           log_loss(y[val], classifier.predict_proba(xs[val])), step=epoch)
    doc = api.get("/jobs/cancer-train").json()
    curve = api.get("/jobs/cancer-train/metrics/validation:loss").json()
    values = [p["value"] for p in curve["points"]]
    print(f"training job cancer-train (vigil.training_job): {doc['status']} in "
          f"{doc['duration_seconds']:.2f} s, validation:loss by epoch "
          + " ".join(f"{v:.3f}" for v in values))
    return ScaledModel(mean, scale, classifier)


def print_serving(api: httpx.Client, first_hour: datetime, hours: int) -> dict[str, float]:
    """The endpoint's serving figures per hour, as ``GET /api/v1/metrics/query`` gives them;
    returns the totals."""
    dims = ["EndpointName:cancer-model", "VariantName:AllTraffic"]
    span = {"start": first_hour.isoformat(),
            "end": (first_hour + timedelta(hours=hours)).isoformat(), "period": 3600}

    def query(name: str, stats: list[str]) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"namespace": "AWS/SageMaker", "name": name, **span,
                                  "statistic": stats, "dimension": dims}
        rows: list[dict[str, Any]] = api.get("/metrics/query", params=params).json()[
            "datapoints"]
        return rows

    calls = query("Invocations", ["Sum"])
    e4, e5 = query("Invocation4XXErrors", ["Sum"]), query("Invocation5XXErrors", ["Sum"])
    latency = query("ModelLatency", ["p50", "p99"])
    print("endpoint cancer-model serving figures (AWS/SageMaker, per hour):")
    totals = {"invocations": 0.0, "4xx": 0.0, "5xx": 0.0}
    for c, a, b, lat in zip(calls, e4, e5, latency):
        totals["invocations"] += c["Sum"]
        totals["4xx"] += a["Sum"]
        totals["5xx"] += b["Sum"]
        print(f"  {c['Timestamp'][:16]}  {c['Sum']:.0f} invocations, 4XX {a['Sum']:.0f}, "
              f"5XX {b['Sum']:.0f} ({b['Sum'] / c['Sum']:.1%}), ModelLatency p50 "
              f"{lat['p50']:.0f} us, p99 {lat['p99']:.0f} us")
    return totals


def _codepipeline(kind: str, detail: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": kind,
        "source": "aws.codepipeline", "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "eu-west-1",
        "resources": [f"arn:aws:codepipeline:eu-west-1:123456789012:{PIPELINE}"],
        "detail": {"pipeline": PIPELINE, "execution-id": detail.pop("execution-id"),
                   "state": "FAILED", "version": 3.0, "pipeline-execution-attempt": 1.0,
                   **detail},
    }  # fmt: skip


def fail_pipeline(api: httpx.Client) -> None:
    """CodePipeline's action and pipeline FAILED events, as an EventBridge API destination
    posts them (one event per request)."""
    now = datetime.now(timezone.utc)
    execution = str(uuid.uuid4())
    action = _codepipeline("CodePipeline Action Execution State Change", {
        "execution-id": execution, "stage": "Validate", "action": "ModelQualityGate",
        "type": {"owner": "AWS", "provider": "CodeBuild", "category": "Test", "version": "1"},
        "execution-result": {"external-execution-summary": "accuracy 0.91 < 0.94",
                             "error-code": "JobFailed"},
    }, now - timedelta(seconds=30))  # fmt: skip
    pipeline = _codepipeline("CodePipeline Pipeline Execution State Change",
                             {"execution-id": execution}, now)
    for event in (action, pipeline):
        api.post("/events/eventbridge", json=event).raise_for_status()
    print(f"pipeline {PIPELINE}: FAILED (CodePipeline events posted to "
          "/api/v1/events/eventbridge)")


def post_deployment(api: httpx.Client, at: datetime, version: str = "2") -> str:
    """A CI job's deployment of the model at ``at``, as PutEvents (``POST /events``): what
    the drift alarm's notification lists under what changed. Returns the event's id."""
    entry = {
        "Source": DEPLOY_SOURCE, "DetailType": DEPLOY_TYPE,
        "Time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Resources": ["vigil:endpoint/cancer-model"],
        "Detail": json.dumps({"model": "cancer-model", "version": version,
                              "environment": "prod", "commit": "4f2a9c1"}),
    }
    answer = api.post("/events", json={"Entries": [entry]})
    answer.raise_for_status()
    event_id = str(answer.json()["Entries"][0].get("EventId"))
    print(f"deployment of cancer-model version {version} at {at:%H:%M} UTC "
          f"(PutEvents {DEPLOY_SOURCE} {DEPLOY_TYPE}, event {event_id[:8]})")
    return event_id


def print_notification(received: Sequence[dict[str, Any]], alarm: str = "hourly-drift") -> None:
    """The first notification that explains itself (``alarm``'s first, where it sent one):
    its summary, links and what changed."""
    # the drift and violations alarms fire together: their notifications arrive in any order
    for note in sorted(received, key=lambda n: f'"{alarm}"' not in str(n.get("subject"))):
        payload = note.get("payload") or {}
        if payload.get("summary") or payload.get("links"):
            print(f"  first notification, {note['subject']}:")
            print(f"    summary: {payload.get('summary') or '-'}")
            for name, url in (payload.get("links") or {}).items():
                print(f"    {name}: {url}")
            for change in payload.get("changes") or []:
                print(f"    changed before it: {change['time'][:16]} {change['source']}: "
                      f"{change['summary']}")
            return
    print("  no notification carried a summary or links")


def print_host(server: str, token: str, data_dir: str) -> None:
    """Collect this host's figures once and push them, as ``vigil agent --once`` does."""
    collector = Collector(mounts=(data_dir,), gpu=False)
    try:
        data = collector.collect()
    finally:
        collector.close()
    pusher = Pusher(server, token)
    for body in encode(data):
        pusher.send(body)
    figures = {(d.name, dict(d.dimensions).get("Mount")): d.value for d in data}
    host = dict(data[0].dimensions)["Host"] if data else "?"
    cpu, memory = figures.get(("CPUUtilization", None)), figures.get(("MemoryUtilization", None))
    disk = figures.get(("DiskUtilization", data_dir))
    print(f"host {host} (vigil agent --once): CPUUtilization {cpu or 0:.1f} %, "
          f"MemoryUtilization {memory or 0:.1f} %, DiskUtilization of the data directory "
          f"{disk or 0:.1f} %")
