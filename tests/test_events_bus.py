"""The event bus over real HTTP: PutEvents per-entry errors, dedup, every receiver with
real-shaped payloads (tests/data/events/README.md says where each came from), signature
rejection, the day archive, filters, vigil/Platform run figures checked against counting the
fixtures independently, the default failure notification at a loopback webhook, and the
rules written for Vigil's events before the envelope."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_server import Hook, LiveServer
from vigil.actions.dispatch import dispatch, event_to_dict
from vigil.actions.spec import PythonTarget, Rule
from vigil.alerts.notify.platform import PlatformSpec, put_platform_spec
from vigil.alerts.notify.topics import make_outbox, put_topic, subscribe
from vigil.store.event_archive import archive_path
from vigil.store.models import Event
from vigil.store.settings import Settings

DATA = Path(__file__).parent / "data" / "events"
GITHUB_SECRET, GITLAB_TOKEN, API_KEY = "gh-s3cret", "gl-t0ken", "eb-k3y"
AWS_FILES = [
    "sagemaker_training_inprogress.json",
    "sagemaker_training_inprogress_training.json",
    "sagemaker_training_failed.json",
    "sagemaker_training_failed_dup.json",
    "sagemaker_training_completed.json",
    "sagemaker_training_stopped_timeout.json",
    "sagemaker_pipeline_failed.json",
    "sagemaker_endpoint_failed.json",
    "codepipeline_action_failed.json",
    "codepipeline_pipeline_failed.json",
    "codebuild_failed.json",
    "states_timed_out.json",
]


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "data",
        github_webhook_secret=GITHUB_SECRET,
        gitlab_webhook_token=GITLAB_TOKEN,
        eventbridge_api_key=API_KEY,
    )
    srv = LiveServer(settings, {"ingest": "ingest", "reader": "read"})
    yield srv
    srv.stop()


def _eventbridge(live: LiveServer, name: str) -> httpx.Response:
    anon = live.client(None)
    return anon.post("/events/eventbridge", json=load(name), headers={"x-api-key": API_KEY})


def _github(live: LiveServer, name: str, event: str, delivery: str, secret: str = GITHUB_SECRET):
    body = (DATA / name).read_bytes()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return live.client(None).post(
        "/events/github",
        content=body,
        headers={"X-Hub-Signature-256": sig, "X-GitHub-Event": event,
                 "X-GitHub-Delivery": delivery, "Content-Type": "application/json"},
    )


def _gitlab(live: LiveServer, name: str, hook_name: str, token: str = GITLAB_TOKEN):
    return live.client(None).post(
        "/events/gitlab", content=(DATA / name).read_bytes(),
        headers={"X-Gitlab-Token": token, "X-Gitlab-Event": hook_name},
    )


def test_put_events_fails_bad_entries_alone_and_refuses_aws_sources(live: LiveServer) -> None:
    c = live.client("ingest")
    good = {"Source": "com.acme.ml", "DetailType": "Model Promoted",
            "Detail": json.dumps({"model": "churn", "version": 7}),
            "Resources": ["arn:acme:model/churn"], "Time": "2024-05-01T12:00:00Z"}
    entries = [
        good,
        {**good, "Detail": "{not json"},
        {**good, "Source": "aws.sagemaker"},
        {**good, "Time": "yesterday"},
        {k: v for k, v in good.items() if k != "DetailType"},
        {**good, "Detail": json.dumps({"model": "fraud"})},
    ]
    r = c.post("/events", json={"Entries": entries})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["FailedEntryCount"] == 4
    ok = [e for e in out["Entries"] if "EventId" in e]
    assert [i for i, e in enumerate(out["Entries"]) if "EventId" in e] == [0, 5]
    reasons = [e["ErrorMessage"] for e in out["Entries"] if "ErrorCode" in e]
    assert reasons[0].startswith("Detail: not valid JSON")
    assert "reserved for AWS services" in reasons[1]
    assert reasons[2].startswith("Time: 'yesterday' is not a time")
    assert reasons[3] == "DetailType: required, a non-empty string"
    stored = live.client("reader").get(f"/events/{ok[0]['EventId']}").json()
    assert stored["detail"] == {"model": "churn", "version": 7}
    assert stored["source"] == "com.acme.ml" and stored["time"] == "2024-05-01T12:00:00Z"
    assert c.post("/events", json={"Entries": []}).status_code == 422
    assert live.client("reader").post("/events", json={"Entries": [good]}).status_code == 403


def test_receivers_dedup_and_reject_bad_signatures(live: LiveServer) -> None:
    anon = live.client(None)
    answers = {name: _eventbridge(live, name) for name in AWS_FILES}
    assert all(r.status_code == 200 for r in answers.values()), answers
    # SageMaker's second event for the same state change (a distinct id) is a duplicate
    dup = answers["sagemaker_training_failed_dup.json"].json()
    assert dup["duplicate"] is True
    assert dup["id"] == load("sagemaker_training_failed.json")["id"]
    # a redelivery with the same id is one too
    again = _eventbridge(live, "codebuild_failed.json").json()
    assert again == {"id": load("codebuild_failed.json")["id"], "duplicate": True,
                     "stored": False}
    # bad or missing credentials: 401
    assert anon.post("/events/eventbridge", json=load("codebuild_failed.json"),
                     headers={"x-api-key": "wrong"}).status_code == 401
    assert _github(live, "github_workflow_run_completed_failure.json", "workflow_run",
                   "72d3162e-cc78-11e3-81ab-4c9367dc0958", secret="wrong").status_code == 401
    assert _gitlab(live, "gitlab_pipeline_failed.json", "Pipeline Hook",
                   token="wrong").status_code == 401
    # good ones
    gh = _github(live, "github_workflow_run_completed_failure.json", "workflow_run",
                 "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert gh.status_code == 200 and gh.json()["duplicate"] is False
    assert _github(live, "github_workflow_run_requested.json", "workflow_run",
                   "72d3162e-cc78-11e3-81ab-4c9367dc0957").status_code == 200
    assert _github(live, "github_workflow_job_failed.json", "workflow_job",
                   "72d3162e-cc78-11e3-81ab-4c9367dc0956").status_code == 200
    redelivered = _github(live, "github_workflow_run_completed_failure.json", "workflow_run",
                          "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert redelivered.json()["duplicate"] is True
    assert _gitlab(live, "gitlab_pipeline_failed.json", "Pipeline Hook").status_code == 200
    assert _gitlab(live, "gitlab_job_failed.json", "Job Hook").status_code == 200
    # a bearer token with ingest passes a receiver too; a read token does not
    body = {**load("states_timed_out.json"), "id": "5a0b8a3e-4a4b-4c4d-8e8f-9a9b9c9d9e9f"}
    body["detail"] = {**body["detail"], "redriveCount": 1}
    assert live.client("ingest").post("/events/eventbridge", json=body).status_code == 200
    assert live.client("reader").post("/events/eventbridge", json=body).status_code == 403
    assert anon.post("/events/eventbridge", content=b"{oops",
                     headers={"x-api-key": API_KEY}).status_code == 400

    r = live.client("reader")
    page = r.get("/events", params={"limit": 1000}).json()
    expected_ids = {load(n)["id"] for n in AWS_FILES} - {dup["id"] and
                                                          load(AWS_FILES[3])["id"]}
    ids = {e["id"] for e in page["events"]}
    assert expected_ids | {"72d3162e-cc78-11e3-81ab-4c9367dc0958", body["id"]} <= ids
    assert load("sagemaker_training_failed_dup.json")["id"] not in ids
    assert len(page["events"]) == len(AWS_FILES) - 1 + 3 + 2 + 1

    # filters
    def only(**params: Any) -> list[dict[str, Any]]:
        return r.get("/events", params={"limit": 1000, **params}).json()["events"]

    assert {e["source"] for e in only(source="aws.codepipeline")} == {"aws.codepipeline"}
    assert len(only(source="aws.codepipeline")) == 2
    assert [e["detail-type"] for e in only(**{"detail-type": "GitLab Job Hook"})] == [
        "GitLab Job Hook"
    ]
    failed = only(status="failed")
    assert {e["detail"].get("TrainingJobName") for e in failed if e["source"] == "aws.sagemaker"
            and "TrainingJobName" in e["detail"]} == {"churn-xgb-2020-03-10"}
    assert [e["id"] for e in only(kind="state_machine", name="etl-features")] == [
        body["id"], load("states_timed_out.json")["id"]]
    arn = load("sagemaker_endpoint_failed.json")["resources"][0]
    assert [e["id"] for e in only(resource=arn)] == [load("sagemaker_endpoint_failed.json")["id"]]
    pattern = {"source": ["aws.sagemaker"], "detail": {"TrainingJobStatus": ["Stopped"]}}
    assert [e["detail"]["SecondaryStatus"] for e in only(pattern=json.dumps(pattern))] == [
        "MaxRuntimeExceeded"]
    window = only(since="2020-03-10T00:00:00Z", until="2020-03-11T00:00:00Z")
    assert {e["time"][:10] for e in window} == {"2020-03-10"}
    assert r.get("/events", params={"pattern": '{"a": [{"prefx": 1}]}'}).status_code == 422
    # pages: two at a time, newest first, same events as one page
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        got = r.get("/events", params=params).json()
        seen.extend(e["id"] for e in got["events"])
        cursor = got["next"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in page["events"]]
    assert r.get("/events/nope").status_code == 404

    # the day archive: one line per stored event, each the envelope
    today = datetime.now(timezone.utc)
    lines = []
    for day in (today - timedelta(days=1), today):
        path = archive_path(live.settings.data_dir, day)
        if path.is_file():
            lines.extend(json.loads(x) for x in path.read_text().splitlines())
    assert sorted(e["id"] for e in lines) == sorted(ids)
    archived = {e["id"]: e for e in lines}[load("codebuild_failed.json")["id"]]
    original = load("codebuild_failed.json")
    assert {k: archived[k] for k in original} == original


def _count_fixture_runs(names: list[str]) -> Counter[tuple[str, str, str]]:
    """(metric, kind, name) counted straight from the fixture files, by hand-written rules
    that do not use vigil.events.runs: one per distinct (run, status)."""
    seen: set[tuple[str, str, str]] = set()
    counts: Counter[tuple[str, str, str]] = Counter()
    for n in names:
        e = load(n)
        d = e["detail"]
        if e["detail-type"] == "SageMaker Training Job State Change":
            kind, name, run, raw = "training_job", d["TrainingJobName"], d["TrainingJobArn"], \
                d["TrainingJobStatus"]
            status = {"InProgress": "started", "Completed": "succeeded", "Failed": "failed",
                      "Stopped": "stopped"}[raw]
        elif e["detail-type"].startswith("SageMaker Model Building Pipeline Execution Status"):
            kind, name, run = "pipeline", "churn-pipeline", d["pipelineExecutionArn"]
            status = d["currentPipelineExecutionStatus"].lower()
        elif e["detail-type"] == "SageMaker Endpoint State Change":
            kind, name, run, status = "endpoint", d["EndpointName"], d["EndpointArn"], "failed"
        elif e["detail-type"] == "CodePipeline Pipeline Execution State Change":
            kind, name, run, status = "pipeline", d["pipeline"], d["execution-id"], "failed"
        elif e["detail-type"] == "CodePipeline Action Execution State Change":
            kind, name = "action", f"{d['pipeline']}/{d['stage']}/{d['action']}"
            run, status = d["action-execution-id"], "failed"
        elif e["detail-type"] == "CodeBuild Build State Change":
            kind, name, run, status = "build", d["project-name"], d["build-id"], "failed"
        else:
            kind, name, run, status = "state_machine", "etl-features", d["executionArn"], "stopped"
        if (kind, run, status) in seen:
            continue
        seen.add((kind, run, status))
        metric = {"started": "RunsStarted", "succeeded": "RunsSucceeded", "failed": "RunsFailed",
                  "stopped": "RunsStopped"}[status]
        counts[(metric, kind, name)] += 1
        if status == "stopped":  # a stop or a timeout counts as a failure by default
            counts[("RunsFailed", kind, name)] += 1
    return counts


def test_run_figures_are_counted_once_per_run_and_status(live: LiveServer) -> None:
    names = [*AWS_FILES, "sagemaker_training_failed.json", "codebuild_failed.json"]
    for n in names:
        assert _eventbridge(live, n).status_code == 200
    expected = _count_fixture_runs(names)
    got: Counter[tuple[str, str, str]] = Counter()
    start, end = datetime(2015, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1,
                                                                     tzinfo=timezone.utc)
    for ns, metric, dims in live.app.state.vigil.metrics.list_metrics(namespace="vigil/Platform"):
        dims = dict(dims)
        if metric == "RunDuration":
            continue
        rows = live.app.state.vigil.metrics.query(ns, metric, dims, start, end, 86400 * 3650,
                                                  ["Sum"])
        got[(metric, dims["Kind"], dims["Name"])] += int(sum(r["Sum"] for r in rows))
    assert got == expected
    # durations: the training job's own start and end times (epoch ms strings), by hand
    d = load("sagemaker_training_failed.json")["detail"]
    want = (int(d["TrainingEndTime"]) - int(d["TrainingStartTime"])) / 1000
    rows = live.app.state.vigil.metrics.query(
        "vigil/Platform", "RunDuration", {"Kind": "training_job", "Name": d["TrainingJobName"]},
        start, end, 86400 * 3650, ["Maximum", "SampleCount"],
    )
    assert [(r["Maximum"], r["SampleCount"]) for r in rows] == [(want, 1.0)]
    s = load("states_timed_out.json")["detail"]
    rows = live.app.state.vigil.metrics.query(
        "vigil/Platform", "RunDuration", {"Kind": "state_machine", "Name": "etl-features"},
        start, end, 86400 * 3650, ["Maximum"],
    )
    assert [r["Maximum"] for r in rows] == [(s["stopDate"] - s["startDate"]) / 1000]


def test_failed_runs_notify_the_platform_topics_with_the_cause(
    live: LiveServer, hook: str
) -> None:
    db = live.db
    put_topic(db, "oncall")
    subscribe(db, "oncall", "webhook", {"url": hook}, id="oncall-hook")
    put_platform_spec(db, PlatformSpec(failure_topics=["oncall"]))
    for n in ["codepipeline_action_failed.json", "codepipeline_pipeline_failed.json",
              "sagemaker_training_completed.json", "sagemaker_training_failed.json",
              "sagemaker_training_failed_dup.json", "sagemaker_training_stopped_timeout.json"]:
        assert _eventbridge(live, n).status_code == 200
    assert _gitlab(live, "gitlab_pipeline_failed.json", "Pipeline Hook").status_code == 200
    counts = make_outbox(db).deliver_due()
    assert counts.delivered == 4, counts
    bodies = [b for _, b in Hook.received]
    subjects = sorted(b["subject"] for b in bodies)
    assert subjects == [
        "[HIGH] FAILED: GitLab pipeline acme/churn",
        "[HIGH] FAILED: pipeline model-deploy",
        "[HIGH] FAILED: training job churn-xgb-2020-03-10",
        "[HIGH] STOPPED: training job churn-xgb-2020-03-12",
    ]
    # the severity (the platform block's, high by default) routes them as it does alarms
    assert {b["attributes"]["severity"] for b in bodies} == {"high"}
    by = {b["subject"]: b["message"] for b in bodies}
    pipeline = by["[HIGH] FAILED: pipeline model-deploy"]
    assert "stage Test / action IntegrationTests: JobFailed: Build terminated with state: " \
           "FAILED" in pipeline
    assert "AlgorithmError: ExecuteUserScriptError" in by[
        "[HIGH] FAILED: training job churn-xgb-2020-03-10"]
    assert "MaxRuntimeExceeded" in by["[HIGH] STOPPED: training job churn-xgb-2020-03-12"]
    assert "job 'train-model' (stage train) failed: script_failure" in by[
        "[HIGH] FAILED: GitLab pipeline acme/churn"]
    # turned off: nothing more
    put_platform_spec(db, PlatformSpec(failure_topics=["oncall"], enabled=False))
    assert _eventbridge(live, "states_timed_out.json").status_code == 200
    assert make_outbox(db).deliver_due().delivered == 0


def test_old_rules_still_match_vigil_events_and_new_rules_match_the_envelope(
    live: LiveServer,
) -> None:
    db = live.db
    t = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    with db.session() as s:
        s.add(Event(id="a1", kind="alarm_state_change", time=t,
                    detail={"alarm": "hourly-drift", "state": "ALARM"}))
        s.add(Event(id="c1", kind="concept_drift", endpoint_name="churn", time=t,
                    detail={"detector": "ADWIN", "index": 412}))
    with db.session() as s:
        alarm, drift = s.get(Event, "a1"), s.get(Event, "c1")
        a, c = event_to_dict(alarm), event_to_dict(drift)
    # the demo's rule and test_actions' rules, written before the envelope
    old = [
        Rule(name="demo", pattern={"kind": ["alarm_state_change"], "detail": {
            "state": ["ALARM"], "alarm": ["hourly-drift"]}},
             targets=[PythonTarget(entry_point="json:dumps")]),
        Rule(name="drift", pattern={"kind": ["concept_drift"], "detail": {"index": [
            {"numeric": [">", 100]}]}}, targets=[PythonTarget(entry_point="json:dumps")]),
    ]  # fmt: skip
    assert [r.rule for r in dispatch(db, a, old)] == ["demo"]
    assert [r.rule for r in dispatch(db, c, old)] == ["drift"]
    new = Rule(name="envelope", pattern={"source": ["vigil"],
                                         "detail-type": ["Vigil Alarm State Change"]},
               targets=[PythonTarget(entry_point="json:dumps")])
    assert [r.rule for r in dispatch(db, a, [new])] == ["envelope"]
    assert {k: a[k] for k in ("kind", "endpoint_name", "schedule_name")} == {
        "kind": "alarm_state_change", "endpoint_name": None, "schedule_name": None}
    # Vigil's own events are listed in the same envelope
    listed = live.client("reader").get("/events", params={"source": "vigil"}).json()["events"]
    # ... with the ends of the three action runs above, events now too
    assert Counter(e["detail-type"] for e in listed) == {
        "Vigil Alarm State Change": 1, "Vigil Concept Drift": 1,
        "Vigil Action Run State Change": 3}
    ended = [e for e in listed if e["kind"] == "action_run_state_change"]
    assert {(e["detail"]["rule"], e["detail"]["status"]) for e in ended} == {
        ("demo", "Succeeded"), ("drift", "Succeeded"), ("envelope", "Succeeded")}
