"""``vigil demo``: the whole platform on its embedded defaults, in about a minute.

1. Starts ``vigil server`` in process (SQLite and a local directory under the output
   directory, the in-process scheduler on) and creates an admin token.
2. Trains a scikit-learn logistic regression on the bundled breast-cancer data (569 real
   cases), baselines its training features and applies a ``vigil.yaml`` (endpoint, baseline,
   hourly schedule).
3. Serves the model behind the ASGI capture middleware on a second port and sends it real
   HTTP traffic for seven simulated hours (the capture clock is set to each hour in turn, which
   fits hours into seconds): three hours like the training data, three hours whose
   ``mean radius`` and ``mean texture`` drift, then a calm hour again.
4. Backfills the seven hourly windows through the schedule (as ``vigil monitor backfill``
   does), and lists the executions through the REST API: ``Completed`` then
   ``CompletedWithViolations``.
5. Evaluates the schedule's default alarms (as ``vigil alarm evaluate --at`` does): the drift
   and violations alarms go to ALARM and their notifications reach a signed webhook and a
   real SMTP server on loopback through the durable outbox; the drift alarm's rule runs a
   ``retrain`` workflow; the calm seventh hour returns the alarms to OK and the resolved
   notifications arrive. Prints the URLs, the token and where the reports are.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from sklearn.datasets import load_breast_cancer

from vigil.actions import list_runs
from vigil.actions.definitions import dispatch_pending
from vigil.alerts.notify import make_outbox, topic_publisher
from vigil.app.bootstrap import open_runtime
from vigil.app.catalog import apply_config
from vigil.app.config import load_config
from vigil.app.scheduler import alarms_and_notifications
from vigil.capture import ServingTelemetry, store_sink
from vigil.capture.middleware import CaptureMiddleware
from vigil.capture.writer import CaptureWriter
from vigil.demo import platform, quality
from vigil.errors import VigilError
from vigil.monitor.runner import run_scheduled
from vigil.net import ENV_ALLOW
from vigil.server.app import create_app
from vigil.server.auth import create_token
from vigil.store.artifacts import schedule_reports_dir
from vigil.store.code_policy import CodePolicy
from vigil.store.settings import Settings, storage_roots_from_env

FEATURES = ["mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness"]
SHIFT = {"mean radius": 1.3, "mean texture": 1.4}  # multiplicative drift of the later hours
HOURS, PER_HOUR = 7, 60
DRIFT_HOURS = range(3, 6)  # hours 4 to 6 drift; hour 7 is calm again
#: hour -> {request index: status}: a malformed request (400) or a row the model fails (500)
BAD_REQUESTS = {1: {10: 400}, 4: {20: 500, 40: 500}, 5: {5: 400}}


class DemoError(VigilError, RuntimeError):
    """The demo could not set up its servers (no free port, a server that did not start)."""

    code = "demo_error"


def _free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise DemoError("no free port on 127.0.0.1")


def _serve(app: Any, port: int) -> Any:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise DemoError(f"server on port {port} did not start")
        time.sleep(0.02)
    return server


def _hook_app(received: list[dict[str, Any]]) -> Any:
    """A loopback receiver standing in for the team's webhook."""
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        received.append(await request.json())
        return {"ok": True}

    return app


def _mail_server(subjects: list[str]) -> Any:
    """A real SMTP server (aiosmtpd) on loopback standing in for the team's mail server."""
    # lazy: aiosmtpd comes with the demo (and dev) extra, not with the core install
    from aiosmtpd.controller import Controller

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            subjects.append(str(message_from_bytes(envelope.content)["Subject"]))
            return "250 OK"

    controller = Controller(Mailbox(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    return controller


def _model_app(model: Any, writer: Any, telemetry: Any) -> Any:
    app = FastAPI()

    @app.post("/invocations")
    async def invocations(request: Request) -> PlainTextResponse:
        try:
            row = [float(v) for v in (await request.body()).decode().split(",")]
        except ValueError:
            return PlainTextResponse("expected comma-separated numbers", status_code=400)
        try:
            score = model.predict_proba([row])[0][1]
        except ValueError as exc:  # a row of the wrong width: the model fails
            return PlainTextResponse(f"model error: {exc}", status_code=500)
        return PlainTextResponse(f"{score:.6f}", media_type="text/csv")

    return CaptureMiddleware(app, writer, routes=("/invocations",), telemetry=telemetry)


def _captured(writer: Any, count: int, timeout: float = 5.0) -> None:
    """Wait until the middleware has handed ``count`` records to the writer.

    The middleware captures after the response is sent, so the client may see the reply
    before the record takes its time from the simulated clock; moving the clock on only
    after that keeps each request in the hour it was sent in."""
    deadline = time.monotonic() + timeout
    while writer.stats.captured < count and time.monotonic() < deadline:
        time.sleep(0.0005)


def run(output: Path, port: int = 8080, keep_running: bool = True) -> int:
    """Run the demo; returns 0 when the executions turned out as expected."""
    started = time.monotonic()
    data_dir = output / "data"
    if data_dir.exists():
        # the demo's own state from an earlier run (whose server kept running and went on
        # scheduling real hours) would show up among this run's executions: start afresh
        shutil.rmtree(data_dir)
        print(f"removed the previous demo's data in {data_dir}")
    # the retrain workflow's one command: the only code this installation may run; the demo
    # evaluates its alarms itself at simulated times (the server's loop, evaluating at the real
    # time, would race it)
    # VIGIL_CAPTURE_URI, VIGIL_REPORTS_URI, ... move captures, reports, ground truth and the
    # event archive (to a bucket too), as they do for `vigil server`
    demo_settings = storage_roots_from_env(Settings(
        data_dir=data_dir,
        scheduler_interval=2.0,
        allow_commands=(sys.executable,),
        alarm_interval=86_400.0,
        alarms_on_execution=False,
    ))
    rt = open_runtime(settings=demo_settings)
    settings, db = rt.settings, rt.db
    token = create_token(db, f"demo-{int(time.time())}", "admin")
    api_port = _free_port(port)
    api = _serve(create_app(settings, db, start_scheduler=True), api_port)
    api_url = f"http://127.0.0.1:{api_port}"
    settings.public_url = api_url  # the notifications link to the dashboard here
    client = httpx.Client(
        base_url=api_url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    print(f"vigil server: {api_url} (OpenAPI {api_url}/docs), data in {data_dir}")
    hook_port = _free_port()
    received: list[dict[str, Any]] = []
    hook_server = _serve(_hook_app(received), hook_port)
    mails: list[str] = []
    smtp = _mail_server(mails)
    # the outbound policy refuses loopback: allow exactly the demo's own two receivers
    previous_allow = os.environ.get(ENV_ALLOW)
    os.environ[ENV_ALLOW] = f"127.0.0.1:{hook_port},127.0.0.1:{smtp.port}"

    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame[FEATURES]
    train = frame.sample(frac=0.6, random_state=0)
    serve = frame.drop(train.index)
    (output / "train").mkdir(parents=True, exist_ok=True)
    train.to_csv(output / "train" / "train.csv", index=False, header=False)

    (output / "vigil.yaml").write_text(
        f"""version: 1
endpoints:
  - name: cancer-model
baselines:
  - name: cancer-train
    endpoint: cancer-model
    path: train/train.csv
    options:
      header: false
schedules:
  - name: hourly
    endpoint: cancer-model
    baseline: cancer-train
    expression: cron(0 * ? * * *)
    config:
      default_alarm_actions: [oncall]
topics:
  - name: oncall
    subscriptions:
      - id: oncall-webhook
        protocol: webhook
        config: {{url: "http://127.0.0.1:{hook_port}/hook", secret: "demo-secret"}}
      - id: oncall-email
        protocol: email
        config: {{host: 127.0.0.1, port: {smtp.port}, from: vigil@demo, to: [ml-oncall@demo]}}
        filter_policy: {{alarm: [hourly-drift]}}
platform:
  failure_topics: [oncall]
workflows:
  - name: retrain
    steps:
      - name: train
        target: {{command: ["{sys.executable}", "-c", "print('{{\\"model\\": \\"v2\\"}}')"]}}
rules:
  - name: retrain-on-drift
    pattern: {{kind: [alarm_state_change], detail: {{state: [ALARM], alarm: [hourly-drift]}}}}
    targets: [{{workflow: retrain}}]
"""
    )
    # relative paths start at the file's directory, as `vigil apply -f` reads them
    desired = load_config(output / "vigil.yaml").resolve_paths(output.resolve())
    plan = apply_config(settings, db, desired)
    print(f"vigil apply -f {output / 'vigil.yaml'}: {plan.summary()}")

    model = platform.train_with_job(
        client, api_url, token, train.to_numpy(), cancer.target.loc[train.index].to_numpy()
    )
    accuracy = (
        (model.predict_proba(serve.to_numpy())[:, 1] > 0.5) == cancer.target.loc[serve.index]
    ).mean()
    print(f"trained a logistic regression on {len(train)} real cases "
          f"(accuracy on the rest {accuracy:.3f})")

    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    first_hour = now - timedelta(hours=HOURS)
    sim = {"t": first_hour.timestamp()}
    writer = CaptureWriter(
        "cancer-model", destination=settings.capture_root, clock=lambda: sim["t"]
    )
    # the endpoint's serving figures, per simulated minute, into the server's metric store
    telemetry = ServingTelemetry("cancer-model", sink=store_sink(rt.metrics),
                                 clock=lambda: sim["t"])
    model_port = _free_port()
    model_server = _serve(_model_app(model, writer, telemetry), model_port)
    print(f"model behind the capture middleware: http://127.0.0.1:{model_port}/invocations")
    sample = serve.sample(n=HOURS * PER_HOUR, replace=True, random_state=1)
    rows = sample.to_numpy()
    with httpx.Client(base_url=f"http://127.0.0.1:{model_port}", timeout=30) as http:
        for h in range(HOURS):
            drift = h in DRIFT_HOURS
            for i in range(PER_HOUR):
                sim["t"] = (first_hour + timedelta(hours=h, seconds=50 * i)).timestamp()
                row = rows[h * PER_HOUR + i].copy()
                if drift:
                    for name, factor in SHIFT.items():
                        row[FEATURES.index(name)] *= factor
                http.post(
                    "/invocations",
                    content=",".join(f"{v:.4f}" for v in row),
                    headers={"content-type": "text/csv"},
                ).raise_for_status()
                _captured(writer, h * PER_HOUR + i + 1)
                if i in BAD_REQUESTS.get(h, ()):  # a client's mistake, or a row the model fails
                    bad = "n/a" if BAD_REQUESTS[h][i] == 400 else "1.0,2.0"
                    answer = http.post("/invocations", content=bad,
                                       headers={"content-type": "text/csv"})
                    assert answer.status_code == BAD_REQUESTS[h][i], answer.text
            print(
                f"  hour {h + 1}: sent {PER_HOUR} requests"
                + (" (mean radius x1.3, mean texture x1.4)" if drift else "")
            )
    writer.close()
    telemetry.close()
    model_server.should_exit = True
    platform.print_serving(client, first_hour, HOURS)

    print(
        f"vigil monitor backfill hourly --start {first_hour:%Y-%m-%dT%H:%M:%SZ} "
        f"--end {now:%Y-%m-%dT%H:%M:%SZ}"
    )
    for h in range(1, HOURS + 1):
        run_scheduled(rt, "hourly", first_hour + timedelta(hours=h))
    executions = client.get("/executions", params={"schedule": "hourly"}).json()["executions"]
    executions.sort(key=lambda e: e["window_start"])
    for e in executions:
        print(
            f"  {e['window_start'][:16]}..{e['window_end'][11:16]}  {e['status']:<24}"
            f" {e['records_read']} records, {e['violation_count']} violations"
        )
    statuses = [e["status"] for e in executions]
    expected = ["CompletedWithViolations" if h in DRIFT_HOURS else "Completed"
                for h in range(HOURS)]
    # model quality: the served predictions' labels, a ModelQuality schedule, its backfill
    quality_ok = quality.run(
        rt, output, model, (train.to_numpy(), cancer.target.loc[train.index].to_numpy()),
        first_hour, HOURS, PER_HOUR, 50, cancer.target.loc[sample.index].to_numpy(),
    )

    platform.post_deployment(client, first_hour + timedelta(hours=DRIFT_HOURS.start, minutes=-20))
    platform.fail_pipeline(client)
    platform.print_host(api_url, token, str(data_dir.resolve()))

    outbox = make_outbox(db)
    for h in (3, 6, 7):  # evaluate after the calm hours, the drifting ones, the calm one again
        # the hours before h are complete; never in the future (the last calm hour ends at
        # the current hour, and a run in its first minutes must not stamp transitions later)
        at = min(first_hour + timedelta(hours=h, minutes=5), datetime.now(timezone.utc))
        for t in alarms_and_notifications(rt, outbox, at):
            print(f"  alarm {t.alarm}: {t.old_state} -> {t.new_state}")
        outbox.deliver_due(datetime.now(timezone.utc))
        dispatch_pending(db, "demo", code_policy=CodePolicy.from_settings(settings),
                         publish=topic_publisher(db, outbox))
    for run in list_runs(db, workflow="retrain"):
        print(f"  workflow {run.workflow} run {run.id[:8]} (rule {run.rule}): {run.status}, "
              f"output {run.output}")
    deadline = time.monotonic() + 10  # the server's own loop may be delivering some
    while time.monotonic() < deadline and (
        sum("ALARM" in n["subject"] for n in received) < 2
        or not any("FAILED" in n["subject"] for n in received)
    ):
        outbox.deliver_due(datetime.now(timezone.utc))
        time.sleep(0.1)
    while time.monotonic() < deadline and len(mails) < 3:
        outbox.deliver_due(datetime.now(timezone.utc))
        time.sleep(0.1)
    for note in received:
        print(f"  webhook received: {note['subject']} (signed, id {note['id'][:8]})")
    platform.print_notification(received)
    for subject in mails:
        print(f"  email received by the SMTP server: {subject}")
    last = executions[-1]
    print(
        f"\nreport of the last hour: {api_url}/api/v1/executions/{last['id']}/outputs/report.html"
    )
    reports = schedule_reports_dir(settings.reports_root, "cancer-model", "hourly")
    print(f"reports {'on disk' if isinstance(reports, Path) else 'in the bucket'}: {reports}/")
    print(f"API token (admin): {token}")
    print(f"try: curl -H 'Authorization: Bearer {token}' {api_url}/api/v1/executions")
    print(f"demo took {time.monotonic() - started:.1f} s")
    print(f"\ndashboard: {api_url}/  sign in with this link (the token stays in the browser):")
    print(f"  {api_url}/signin#token={token}")
    ok = statuses == expected and quality_ok
    if not ok:
        print(f"unexpected statuses: {statuses}" + ("" if quality_ok else "; model quality failed"))
    if keep_running:
        print("\nthe server keeps running with its scheduler; Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    hook_server.should_exit = True  # the receivers stay up while the server may notify them
    smtp.stop()
    api.should_exit = True
    time.sleep(0.5)
    if previous_allow is None:
        os.environ.pop(ENV_ALLOW, None)
    else:
        os.environ[ENV_ALLOW] = previous_allow
    return 0 if ok else 1
