"""``vigil export grafana``: Grafana dashboards over what ``GET /metrics`` exposes.

Every file the real command writes is validated against Grafana's own dashboard schemas
(tests/data/grafana: the Grafana Foundation SDK's JSON schemas, generated from Grafana's CUE
kinds; panel options, Prometheus targets and unit ids included). The data source is the
input ``DS_PROMETHEUS`` as Grafana's export-for-sharing writes it. Every metric a panel or a
variable reads, and every label it matches on, is in the exposition of a real server holding
data (a monitoring execution over captured records, serving and host figures, a failed
pipeline's events...); ``promtool`` parses every expression, and a real Prometheus scraping
that server answers every panel's query with data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from conftest import sagemaker_columns
from live_server import LiveServer, free_port
from vigil.actions.records import create_run
from vigil.alerts.platform import EndpointAlarmDefaults, HostAlarmDefaults
from vigil.app import grafana, training
from vigil.app.bootstrap import open_database, open_runtime
from vigil.app.catalog import apply_config
from vigil.app.config import load_config
from vigil.app.prom_platform import PlatformExporter
from vigil.checks.suggest import ConstraintOptions
from vigil.metrics import contract as mc
from vigil.metrics import serving as sv
from vigil.metrics.datum import MetricDatum
from vigil.metrics.exposition_parse import parse_exposition
from vigil.monitor.runner import run_scheduled
from vigil.resources.gpu import GpuReading, gpu_datums
from vigil.resources.host import HostReading, ProcessReading, host_datums, process_datums
from vigil.store.executions import claim_execution
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
SCHEMAS = Path(__file__).parent / "data" / "grafana"
FILES = ("vigil-models.json", "vigil-serving.json", "vigil-platform.json")
ENDPOINT, SCHEDULE, HOST = "gf-churn", "gf-hourly", "gf-host"
SHARED = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def _vigil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI run in ``cwd``, importing this checkout's vigil (PYTHONPATH made absolute)."""
    paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
             if p]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run([*VIGIL, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=env)  # fmt: skip


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.jsonschema.json").read_text())  # type: ignore[no-any-return]


def _validator(name: str, definition: str | None = None) -> Any:
    schema = _schema(name)
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    return jsonschema_rs.validator_for(schema)


def _errors(validator: Any, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in validator.iter_errors(document)]  # fmt: skip


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What ``vigil export grafana --output DIR`` writes, by file name."""
    tmp = tmp_path_factory.mktemp("grafana")
    done = _vigil("export", "grafana", "--output", "out", cwd=tmp)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp / "out").iterdir()) == sorted(FILES)
    for name in FILES:
        assert f"wrote out/{name}" in done.stdout
    return {name: json.loads((tmp / "out" / name).read_text()) for name in FILES}


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def _targets(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for p in _panels(board) for t in p["targets"]]


# -- the schema ---------------------------------------------------------------------------


def test_every_dashboard_is_valid_by_grafanas_own_schemas(exported: dict[str, dict[str, Any]]):
    dashboard = _validator("dashboard")
    options = {"timeseries": _validator("timeseries", "Options"),
               "stat": _validator("stat", "Options")}  # fmt: skip
    custom = _validator("timeseries", "FieldConfig")
    target = _validator("prometheus")
    units = {d["const"] for d in _schema("units")["definitions"].values() if "const" in d}
    latest = _schema("dashboard")["definitions"]["Dashboard"]["properties"]["schemaVersion"]
    for name, board in exported.items():
        # the sharing wrapper is Grafana's import's, not the dashboard's (checked below)
        core = {k: v for k, v in board.items() if not k.startswith("__")}
        assert _errors(dashboard, core) == [], name
        assert board["schemaVersion"] == latest["default"] == 42
        assert board["panels"][0]["type"] == "row"
        for panel in _panels(board):
            where = f"{name}: {panel['title']}"
            assert panel["type"] in options, where
            assert _errors(options[panel["type"]], panel["options"]) == [], where
            if panel["type"] == "timeseries":
                assert _errors(custom, panel["fieldConfig"]["defaults"]["custom"]) == [], where
            assert panel["fieldConfig"]["defaults"]["unit"] in units, where
            for t in panel["targets"]:
                assert _errors(target, t) == [], where
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        assert len({b["uid"] for b in exported.values()}) == len(exported)


def test_the_schema_refuses_what_grafana_would(exported: dict[str, dict[str, Any]]):
    """The vendored schema is strict: a panel off the grid, an unknown field or a missing
    legend are errors (so the test above would see them)."""
    board = {k: v for k, v in exported[FILES[1]].items() if not k.startswith("__")}
    wide = json.loads(json.dumps(board))
    wide["panels"][1]["gridPos"]["w"] = 25
    assert _errors(_validator("dashboard"), wide)
    extra = json.loads(json.dumps(board))
    extra["panels"][1]["colour"] = "red"
    assert _errors(_validator("dashboard"), extra)
    no_legend = dict(_panels(board)[0]["options"])
    del no_legend["legend"]
    assert _errors(_validator("timeseries", "Options"), no_legend)


def test_the_data_source_is_an_input_as_grafanas_export_for_sharing_writes_it(
    exported: dict[str, dict[str, Any]],
):
    for name, board in exported.items():
        assert board["__inputs"] == [{
            "name": "DS_PROMETHEUS", "label": "Prometheus",
            "description": "The Prometheus that scrapes Vigil's GET /metrics",
            "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus",
        }], name  # fmt: skip
        assert board["__elements"] == {}
        required = {(r["type"], r["id"]) for r in board["__requires"]}
        kinds = {("panel", p["type"]) for p in _panels(board)}
        assert required == {("grafana", "grafana"), ("datasource", "prometheus"), *kinds}
        assert [r["id"] for r in board["__requires"]] == sorted(r["id"] for r in
                                                                 board["__requires"])
        assert board["id"] is None
        for panel in _panels(board):
            assert panel["datasource"] == SHARED, panel["title"]
            assert all(t["datasource"] == SHARED for t in panel["targets"]), panel["title"]
        variables = board["templating"]["list"]
        assert variables and all(v["datasource"] == SHARED for v in variables)


def test_a_datasource_uid_replaces_the_input(tmp_path: Path):
    done = _vigil("export", "grafana", "--output", "json", "--datasource-uid", "P1809F7CD0C75",
                  cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    boards = json.loads(done.stdout)
    assert [b["uid"] for b in boards] == ["vigil-models", "vigil-serving", "vigil-platform"]
    for board in boards:
        assert not {k for k in board if k.startswith("__")}
        assert "DS_PROMETHEUS" not in json.dumps(board)
        refs = [p["datasource"] for p in _panels(board)] + [
            t["datasource"] for t in _targets(board)
        ] + [v["datasource"] for v in board["templating"]["list"]]
        assert refs and all(r == {"type": "prometheus", "uid": "P1809F7CD0C75"} for r in refs)
        assert _errors(_validator("dashboard"), board) == []
    bad = _vigil("export", "grafana", "--datasource-uid", "${DS}", cwd=tmp_path)
    assert bad.returncode == 2 and "--datasource-uid" in bad.stderr and bad.stdout == ""
    assert not (tmp_path / "grafana-dashboards").exists()


def test_output_json_prints_one_dashboard_or_the_list(
    tmp_path: Path, exported: dict[str, dict[str, Any]]
):
    one = _vigil("export", "grafana", "--output", "json", "--dashboard", "serving", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == exported["vigil-serving.json"]
    bad = _vigil("export", "grafana", "--dashboard", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_vigil_export_alone_still_writes_the_catalog(tmp_path: Path):
    made = _vigil("db", "upgrade", "--data-dir", "d", cwd=tmp_path)  # an installation
    assert made.returncode == 0, made.stderr
    done = _vigil("export", "--data-dir", "d", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "version: 1" in done.stdout


def _panel(board: dict[str, Any], title: str) -> dict[str, Any]:
    [panel] = [p for p in _panels(board) if p["title"] == title]
    return panel


def _threshold_values(panel: dict[str, Any]) -> list[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[0]["value"] is None  # Grafana's base step
    return [s["value"] for s in steps[1:]]


def test_units_thresholds_and_variables(exported: dict[str, dict[str, Any]]):
    models, serving, platform = (exported[f] for f in FILES)
    # the default alarms' thresholds, on the panels' own units
    endpoint, host = EndpointAlarmDefaults(), HostAlarmDefaults()
    ratio = _panel(serving, "5xx error ratio")
    assert ratio["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert _threshold_values(ratio) == [endpoint.error_rate]
    latency = _panel(serving, "Model latency")
    assert latency["fieldConfig"]["defaults"]["unit"] == "s"
    assert _threshold_values(latency) == [endpoint.p99_latency_ms / 1000]
    assert _threshold_values(_panel(platform, "Memory")) == [host.memory_percent / 100]
    assert _threshold_values(_panel(platform, "Disk")) == [host.disk_percent / 100]
    drift = _panel(models, "Drift per feature")
    assert _threshold_values(drift) == [ConstraintOptions().comparison_threshold]
    for board in exported.values():
        for panel in _panels(board):
            defaults = panel["fieldConfig"]["defaults"]
            if panel["type"] == "timeseries":
                drawn = defaults["custom"]["thresholdsStyle"]["mode"]
                assert (drawn != "off") == bool(_threshold_values(panel)), panel["title"]
                assert defaults["custom"]["axisLabel"], panel["title"]
    units = {p["fieldConfig"]["defaults"]["unit"] for b in exported.values() for p in _panels(b)}
    assert {"s", "bytes", "percentunit", "reqps", "celsius", "watt", "Bps"} <= units
    names = {b["uid"]: [v["name"] for v in b["templating"]["list"]] for b in exported.values()}
    assert names == {"vigil-models": ["instance", "endpoint", "schedule"],
                     "vigil-serving": ["instance", "endpoint", "variant"],
                     "vigil-platform": ["instance", "host", "training_job"]}  # fmt: skip
    for board in exported.values():
        for v in board["templating"]["list"]:
            assert v["type"] == "query" and v["query"].startswith("label_values(")
            assert v["query"] == v["definition"]
        assert board["links"][0]["tags"] == board["tags"] == ["vigil"]


# -- PromQL: names, labels, parsing ------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_WORD = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
             "or", "unless", "offset", "le"}  # fmt: skip


def selectors(expr: str) -> list[tuple[str | None, dict[str, tuple[str, str]]]]:
    """The series selectors of a PromQL expression: (metric name or None, {label: (op,
    value)}); bare metric names too."""
    out: list[tuple[str | None, dict[str, tuple[str, str]]]] = []
    for m in _SELECTOR.finditer(expr):
        matchers = {k: (op, v) for k, op, v in _MATCHER.findall(m.group(2))}
        out.append((m.group(1), matchers))
    rest = _SELECTOR.sub(" ", expr)
    rest = re.sub(r"\b(by|without)\s*\([^)]*\)", " ", rest)
    rest = re.sub(r"\[[^\]]*\]", " ", _STRING.sub(" ", rest))
    for m in _WORD.finditer(rest):
        after = rest[m.end():].lstrip()
        if m.group() not in _KEYWORDS and not after.startswith("("):
            out.append((m.group(), {}))
    return out


def queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard: its targets' and its variables' selectors."""
    out = [t["expr"] for t in _targets(board)]
    for v in board["templating"]["list"]:
        inner = re.fullmatch(r"label_values\((.*),\s*([a-zA-Z_]+)\)", v["query"])
        assert inner, v["query"]
        out.append(inner.group(1))
    return out


def test_the_selector_reader_reads_promql():
    expr = ('sum by (le, endpoint) (rate(a_bucket{instance="$instance", x=~"y"}[$__rate_interval]))'
            ' / b + label_replace({__name__=~"c_.+"}, "f", "$1", "__name__", "c_(.+)")')
    assert selectors(expr) == [("a_bucket", {"instance": ("=", "$instance"), "x": ("=~", "y")}),
                               (None, {"__name__": ("=~", "c_.+")}), ("b", {})]  # fmt: skip


def concrete(expr: str, instance: str = "127.0.0.1:9") -> str:
    """An expression with Grafana's variables as a Prometheus query would get them."""
    expr = expr.replace("$__rate_interval", "1m").replace('"$instance"', f'"{instance}"')
    return re.sub(r"\$[a-z_]+", ".+", expr)


def test_promtool_parses_every_expression(exported: dict[str, dict[str, Any]], tmp_path: Path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("Debian's promtool is not installed (make system-deps)")
    rules = [{"record": f"vigil:panel_{i}", "expr": concrete(e)}
             for i, e in enumerate(e for b in exported.values() for e in queries(b))]  # fmt: skip
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "vigil", "rules": rules}]}))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text(json.dumps({"groups": [{"name": "x", "rules": [
        {"record": "x", "expr": "sum by (a (rate(b[1m]))"}]}]}))  # fmt: skip
    assert subprocess.run([promtool, "check", "rules", str(broken)],
                          capture_output=True, timeout=60).returncode != 0  # fmt: skip


# -- a real server with data --------------------------------------------------------------


def _captures(root: Path, cols: dict[str, list[float]], times: list[datetime]) -> None:
    """SageMaker capture records at ``times`` (rows from the baseline, the first two
    features x3 so that they drift), each in its hour's folder."""
    names = list(cols)
    by_hour: dict[Path, list[str]] = {}
    for i, t in enumerate(times):
        values = [cols[c][(7 * i) % 100] * (3.0 if k < 2 else 1.0) for k, c in enumerate(names)]
        row = ",".join(repr(v) for v in values)
        folder = root / ENDPOINT / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
        by_hour.setdefault(folder, []).append(
            '{"captureData":{"endpointInput":{"observedContentType":"text/csv",'
            f'"mode":"INPUT","data":"{row}","encoding":"CSV"}}}},"eventMetadata":'
            f'{{"eventId":"gf-{i}","inferenceTime":"{t:%Y-%m-%dT%H:%M:%SZ}"}},'
            '"eventVersion":"0"}'
        )
    for folder, lines in by_hour.items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "00-00-000-gf.jsonl").write_text("\n".join(lines) + "\n")


def _figures(now: datetime) -> list[MetricDatum]:
    """Serving, capture, host, GPU, process and training figures, as their writers store
    them (the agent's mapping functions for the host)."""
    dims = {"EndpointName": ENDPOINT, "VariantName": "AllTraffic"}
    out = []
    for minute in range(3):
        t = now - timedelta(minutes=3 - minute)
        out += [
            MetricDatum(sv.NAMESPACE, sv.INVOCATIONS, dims, t, sample_count=20, sum=20,
                        minimum=1, maximum=1),
            MetricDatum(sv.NAMESPACE, sv.ERRORS_4XX, dims, t, sample_count=20, sum=1,
                        minimum=0, maximum=1),
            MetricDatum(sv.NAMESPACE, sv.ERRORS_5XX, dims, t, sample_count=20, sum=minute,
                        minimum=0, maximum=1),
        ]  # fmt: skip
        for name in (sv.MODEL_LATENCY, sv.OVERHEAD_LATENCY):
            out.append(MetricDatum(sv.NAMESPACE, name, dims, t, sample_count=20, sum=20 * 30000,
                                   minimum=30000, maximum=30000, unit=sv.MICROSECONDS))
    capture = mc.capture_dimensions(ENDPOINT, "AllTraffic")
    for key, value in (("captured", 60.0), ("written", 58.0), ("dropped", 2.0)):
        out.append(MetricDatum(mc.CAPTURE_NAMESPACE, mc.CAPTURE_COUNTERS[key], capture, now,
                               value))  # fmt: skip
    reading = HostReading(memory_used=3 << 30, memory_limit=8 << 30, cpu_utilization=130.0,
                          disks={"/": 41.5}, network_received=2048, network_transmitted=512)
    out += host_datums(reading, HOST, now)
    out += process_datums([ProcessReading("gf-proc", 1, 50.0, 64 << 20)], HOST, now)
    out += gpu_datums([GpuReading(0, "GPU-gf", utilization=60.0, memory_used=2 << 30,
                                  memory_total=16 << 30, temperature=61.0,
                                  power_mw=120_000)], HOST, now)  # fmt: skip
    out.append(MetricDatum(training.NAMESPACE, "validation:loss",
                           {"TrainingJobName": "gf-train"}, now, 0.25))  # fmt: skip
    return out


def _install(tmp: Path, sagemaker_dir: Path) -> tuple[Settings, dict[str, Any]]:
    """An installation with a finished and a running execution, default alarms and figures
    stored in the last minutes (the exposition's gauges show the last 10 minutes)."""
    data = tmp / "data"
    base = tmp / "baseline"
    base.mkdir()
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", base / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", base / "constraints.json")
    config = tmp / "vigil.yaml"
    config.write_text(f"""version: 1
endpoints: [{{name: {ENDPOINT}}}]
baselines: [{{name: gf-base, endpoint: {ENDPOINT}, path: baseline}}]
schedules:
  - {{name: {SCHEDULE}, endpoint: {ENDPOINT}, baseline: gf-base, expression: rate(1 hour)}}
""")
    rt = open_runtime(data)
    apply_config(rt.settings, rt.db, load_config(config).resolve_paths(tmp))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = now - timedelta(minutes=3)
    times = [start + timedelta(seconds=5 * i) for i in range(1, 30)]
    _captures(rt.settings.data_dir / "capture", sagemaker_columns(sagemaker_dir), times)
    done = run_scheduled(rt, SCHEDULE, now, window=(start, now))
    assert done is not None and done.status in ("Completed", "CompletedWithViolations")
    old = now - timedelta(days=2)  # a window still running (a live worker's claim)
    assert claim_execution(rt.db, SCHEDULE, ENDPOINT, old, old, old + timedelta(hours=1),
                           "gf-worker", 3600) is not None  # fmt: skip
    rt.metrics.put(_figures(now))
    create_run(rt.db, target_type="workflow", input={}, definition={}, first_step="gf",
               owner="gf-worker", now=now, workflow="gf-workflow")  # fmt: skip
    rt.db.dispose()
    stats = json.loads((sagemaker_dir / "data_quality_statistics.json").read_text())
    return rt.settings, {"features": [f["name"] for f in stats["features"]], "now": now}


def _pipeline_event(run: str, state: str, at: datetime, started: datetime) -> dict[str, Any]:
    """A CodePipeline "Pipeline Execution State Change" event, as EventBridge delivers it."""
    return {
        "version": "0", "id": str(uuid.uuid4()),
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "source": "aws.codepipeline", "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "eu-west-1",
        "resources": ["arn:aws:codepipeline:eu-west-1:123456789012:gf-deploy"],
        "detail": {"pipeline": "gf-deploy", "execution-id": run, "state": state, "version": 1.0,
                   "start-time": started.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
    }  # fmt: skip


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sagemaker_dir: Path
) -> Iterator[dict[str, Any]]:
    """A live server over that installation, after a pipeline's STARTED and FAILED events came
    in as EventBridge posts them; its ``GET /metrics`` text."""
    settings, facts = _install(tmp_path_factory.mktemp("grafana-live"), sagemaker_dir)
    with LiveServer(settings, {"admin": "admin", "reader": "read"}) as live:
        run, now = str(uuid.uuid4()), datetime.now(timezone.utc)
        start = now - timedelta(seconds=90)
        with live.client("admin") as api:
            for state, at in (("STARTED", start), ("FAILED", now)):
                event = _pipeline_event(run, state, at, start)
                api.post("/events/eventbridge", json=event).raise_for_status()
        r = httpx.get(live.url + "/metrics", timeout=30,
                      headers={"Authorization": f"Bearer {live.tokens['reader']}"})
        assert r.status_code == 200, r.text
        yield {"live": live, "text": r.text, **facts}


def _exposed(text: str) -> dict[str, set[str]]:
    """Sample name -> the label names its samples carry."""
    out: dict[str, set[str]] = {}
    for fam in parse_exposition(text):
        for s in fam.samples:
            out.setdefault(s.name, set()).update(s.labels)
    return out


def test_every_metric_and_label_the_panels_read_is_exposed(
    exported: dict[str, dict[str, Any]], server: dict[str, Any]
):
    exposed = _exposed(server["text"])
    seen: set[str] = set()
    for board in exported.values():
        for expr in queries(board):
            for name, matchers in selectors(expr):
                if name:
                    names = [name]
                else:  # a family selected by name: at least one series of it
                    op, pattern = matchers.pop("__name__")
                    assert op == "=~", expr
                    names = [n for n in exposed if re.fullmatch(pattern, n)]
                assert names and all(n in exposed for n in names), (board["uid"], expr)
                for n in names:
                    # Prometheus adds ``instance`` (and ``job``) to every scraped series
                    missing = set(matchers) - {"instance"} - exposed[n]
                    assert not missing, (board["uid"], n, missing)
                seen.update(names)
    assert len(seen) >= 35  # most of the exposition's families are on a dashboard
    drift = [n for n in seen if "feature_baseline_drift_" in n]
    assert len(drift) == len(server["features"])  # one series per feature of the baseline


def test_monitoring_figures_stay_exposed_until_the_next_run(tmp_path: Path):
    """An hourly schedule's figures are stamped at the start of the hour it closes: the
    exposition keeps a monitoring figure's last value for two days (other gauges: 10
    minutes), so the drift panels have data between runs."""
    db = open_database(Settings(data_dir=tmp_path))
    try:
        now = datetime.now(timezone.utc)
        dims = mc.schedule_dimensions("e", "s")
        MetricStore(db).put([
            MetricDatum(mc.DATA_QUALITY_NAMESPACE, mc.feature_baseline_drift("a"), dims,
                        now - timedelta(hours=1), 0.3),
            MetricDatum(mc.DATA_QUALITY_NAMESPACE, mc.feature_baseline_drift("b"), dims,
                        now - timedelta(days=3), 0.4),
            MetricDatum("my/App", "QueueDepth", {}, now - timedelta(hours=1), 5.0),
            MetricDatum("my/App", "Inflight", {}, now - timedelta(minutes=1), 2.0),
        ])  # fmt: skip
        names = {s.name for f in PlatformExporter(db).families() for s in f.samples}
    finally:
        db.dispose()
    assert {"vigil_my_app_inflight", grafana.DRIFT_PREFIX + "a"} <= names
    assert not {"vigil_my_app_queue_depth", grafana.DRIFT_PREFIX + "b"} & names


# -- a real Prometheus answers the panels ------------------------------------------------


@pytest.fixture(scope="module")
def prometheus(server: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("prometheus") is None:
        pytest.skip("Debian's prometheus is not installed (make system-deps)")
    tmp = tmp_path_factory.mktemp("prometheus")
    live = server["live"]
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: vigil\n"
        f"    authorization: {{credentials: {live.tokens['reader']}}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{live.port}']}}]\n"
    )
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


def _query(prom: str, expr: str) -> list[dict[str, Any]] | None:
    try:
        r = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10)
    except httpx.HTTPError:
        return None
    assert r.status_code in (200, 503), r.text  # 503 while it starts
    if r.status_code != 200:
        return None
    assert r.json()["status"] == "success", (expr, r.text)
    return r.json()["data"]["result"]  # type: ignore[no-any-return]


def _answer(prom: str, expr: str, seconds: float = 30) -> list[dict[str, Any]]:
    """The first non-empty answer to ``expr`` (a rate needs two scrapes), or the last one."""
    deadline, found = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        found = _query(prom, expr)
        if found:
            return found
        time.sleep(0.5)
    return found or []


def test_a_real_prometheus_answers_every_panel_with_data(
    exported: dict[str, dict[str, Any]], server: dict[str, Any], prometheus: str
):
    [info] = _answer(prometheus, "vigil_build_info")
    instance = info["metric"]["instance"]
    assert instance == f"127.0.0.1:{server['live'].port}"
    empty = []
    for board in exported.values():
        for v in board["templating"]["list"]:
            assert v["query"].startswith("label_values(")
        for panel in _panels(board):
            for t in panel["targets"]:
                if not _answer(prometheus, concrete(t["expr"], instance), seconds=10):
                    empty.append((board["uid"], panel["title"], t["expr"]))
    assert empty == []
    # the drift panel's ``feature`` labels are the exposed per-feature series, one per
    # feature of the baseline
    models = exported["vigil-models.json"]
    [target] = _panel(models, "Drift per feature")["targets"]
    answer = _answer(prometheus, concrete(target["expr"], instance))
    prefix = re.search(r'__name__=~"([^"]+)\.\+"', target["expr"]).group(1)  # type: ignore[union-attr]
    exposed = {n[len(prefix):] for n in _exposed(server["text"]) if n.startswith(prefix)}
    assert {r["metric"]["feature"] for r in answer} == exposed
    assert len(exposed) == len(server["features"])
    # the 5xx ratio panel: the errors over the requests the store holds (3 minutes of 20)
    [ratio] = _panel(exported["vigil-serving.json"], "5xx error ratio")["targets"]
    [row] = _answer(prometheus, concrete(ratio["expr"], instance))
    assert row["metric"] == {"endpoint": ENDPOINT}
