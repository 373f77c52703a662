"""The pure parts of the overview and endpoint pages (the drift heatmap, chart periods) and
the application queries they read through, over a real SQLite database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vigil.app.endpoint_queries import (
    DriftLimit,
    alarms_in_alarm,
    completeness_limits,
    datapoint_count,
    drift_limits,
    endpoint_series,
    get_endpoint,
    pick_period,
    status_counts,
)
from vigil.errors import NotFoundError
from vigil.metrics import contract as mc
from vigil.metrics.datum import MetricDatum
from vigil.server.ui.heatmap import BLUES, NO_DATA, build_heatmap, severity
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import AlarmRecord, Endpoint, Execution

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def _db() -> Database:
    db = Database("sqlite://")
    db.create_all()
    return db


def test_pick_period_keeps_charts_under_the_point_budget() -> None:
    for span in (3600, 86400, 7 * 86400, 30 * 86400, 90 * 86400):
        for minimum in (60, 300, 3600, 420):
            period = pick_period(span, minimum=minimum, max_points=1500)
            assert period >= minimum and period % minimum == 0
            assert span / period <= 1500
    assert pick_period(86400, minimum=3600, max_points=200) == 3600


def test_heatmap_rows_columns_and_flags() -> None:
    columns = [T0.timestamp() + 3600 * h for h in range(4)]
    values = {
        "b": {columns[0]: 0.01, columns[2]: 0.5},
        "a": {c: 0.02 for c in columns},
        "p": {columns[1]: 0.001, columns[3]: 0.9},
    }
    limits = {"a": DriftLimit(0.1), "b": DriftLimit(0.1), "p": DriftLimit(0.05, "p_value")}
    hm = build_heatmap(list(reversed(columns)), values, limits)
    assert hm.columns == columns  # sorted
    assert [r.feature for r in hm.rows] == ["a", "b", "p"]
    assert all(len(r.cells) == 4 for r in hm.rows)
    assert hm.drifted_columns() == {columns[2]: ["b"], columns[1]: ["p"]}
    b = hm.rows[1].cells
    assert b[1].value is None and b[1].background == NO_DATA and not b[1].drifted
    assert b[2].background == BLUES[-1] and b[2].text == "#ffffff"  # far past: darkest
    assert "0.5 > threshold 0.1: drifted" in b[2].title
    assert "0.9 >= threshold 0.05: within" in hm.rows[2].cells[3].title
    # darker with the value, whatever the threshold's kind
    assert severity(0.02, limits["a"]) < severity(0.09, limits["a"]) < severity(0.2, limits["a"])
    assert severity(0.5, limits["p"]) < severity(0.06, limits["p"]) < severity(0.01, limits["p"])


def test_a_feature_without_a_known_threshold_is_never_flagged() -> None:
    hm = build_heatmap([0.0], {"x": {0.0: 0.9}}, {})
    (cell,) = hm.rows[0].cells
    assert not cell.drifted and "no threshold known" in cell.title


def test_status_counts_and_endpoint_lookup() -> None:
    db = _db()
    with db.session() as s:
        s.add(Endpoint(name="e1"))
        for h, status in enumerate(["Completed", "CompletedWithViolations", "Completed",
                                    "Failed"]):  # fmt: skip
            at = T0 + timedelta(hours=h + 1)
            s.add(Execution(schedule_name="s", endpoint_name="e1", scheduled_time=at,
                            window_start=at - timedelta(hours=1), window_end=at, status=status))
    assert get_endpoint(db, "e1").name == "e1"
    try:
        get_endpoint(db, "nope")
    except NotFoundError as exc:
        assert exc.code == "endpoint_not_found"
    else:
        raise AssertionError("no error for an unknown endpoint")
    everything = status_counts(db, "e1", T0, T0 + timedelta(days=1))
    assert everything == {"Completed": 2, "CompletedWithViolations": 1, "Failed": 1}
    # since inclusive, until exclusive, as the executions API
    assert status_counts(db, "e1", T0 + timedelta(hours=2), T0 + timedelta(hours=4)) == {
        "CompletedWithViolations": 1, "Completed": 1}  # fmt: skip
    assert status_counts(db, "other", T0, T0 + timedelta(days=1)) == {}


def test_alarms_in_alarm_by_the_endpoint_their_dimensions_name() -> None:
    db = _db()
    with db.session() as s:
        for name, state, dims in [
            ("dq", "ALARM", {"Endpoint": "e1", "MonitoringSchedule": "s"}),
            ("lat", "ALARM", {"EndpointName": "e1", "VariantName": "AllTraffic"}),
            ("calm", "OK", {"Endpoint": "e1"}),
            ("else", "ALARM", {"Endpoint": "e2"}),
        ]:
            s.add(AlarmRecord(name=name, kind="metric", state=state, spec={"dimensions": dims}))
    assert [a.name for a in alarms_in_alarm(db, "e1")] == ["dq", "lat"]
    assert [a.name for a in alarms_in_alarm(db)] == ["dq", "else", "lat"]


def test_endpoint_series_and_datapoint_count() -> None:
    db = _db()
    store = MetricStore(db)
    dims = mc.schedule_dimensions("e1", "s")
    serving = {"EndpointName": "e1", "VariantName": "AllTraffic"}
    store.put([
        MetricDatum(mc.DATA_QUALITY_NAMESPACE, "feature_baseline_drift_x", dims, T0, 0.1),
        MetricDatum(mc.DATA_QUALITY_NAMESPACE, "feature_baseline_drift_x",
                    mc.schedule_dimensions("e2", "s"), T0, 0.1),
        *(MetricDatum("AWS/SageMaker", "ModelLatency", serving, T0 + timedelta(minutes=m),
                      sample_count=1, sum=v, minimum=v, maximum=v, unit="Microseconds")
          for m in range(10) for v in (100.0, 200.0)),
    ])  # fmt: skip
    found = {(s.namespace, s.name) for s in endpoint_series(store, "e1")}
    assert found == {(mc.DATA_QUALITY_NAMESPACE, "feature_baseline_drift_x"),
                     ("AWS/SageMaker", "ModelLatency")}  # fmt: skip
    count = datapoint_count(store, "AWS/SageMaker", "ModelLatency", serving, T0,
                            T0 + timedelta(minutes=5))  # fmt: skip
    assert count == 10


def test_thresholds_come_from_the_newest_analysis(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for d, threshold in ((old, 0.3), (new, 0.1)):
        d.mkdir()
        (d / "analysis.json").write_text(json.dumps({"features": {
            "x": {"method": "JensenShannon", "value": 0.2, "threshold": threshold,
                  "drifted": threshold < 0.2, "kind": "distance"},
            "y": {"method": "KS", "value": 0.01, "threshold": 0.05, "drifted": True,
                  "kind": "p_value"}}}))  # fmt: skip
        (d / "constraints.json").write_text(json.dumps(
            {"features": [{"name": "x", "completeness": 0.9}, {"name": "y"}]}))
    failed = Execution(status="Failed", output_uri=None)
    runs = [failed, Execution(output_uri=str(new)), Execution(output_uri=str(old))]
    limits = drift_limits(runs)
    assert limits["x"] == DriftLimit(0.1, "distance", "JensenShannon")
    assert limits["y"].kind == "p_value" and limits["y"].drifted(0.01)
    assert completeness_limits(runs) == {"x": 0.9}
    assert drift_limits([failed]) == {}
