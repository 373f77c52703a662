"""What the execution page reads (vigil.app.executions) of a real scheduled run: the bad
records it skipped with their examples, each feature beside the baseline with its drift, the
outputs served by name only; and the report's header names the run."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import sagemaker_columns
from test_runtime import T0, _runtime, write_captures
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.executions import OutputNotFoundError, execution_detail, output_path
from vigil.monitor.runner import run_scheduled
from vigil.server.ui.pages_execution import bad_record_table
from vigil.store.errors import ExecutionNotFoundError


@pytest.fixture
def run(tmp_path: Path, sagemaker_baseline: Path, sagemaker_dir: Path):
    rt = _runtime(tmp_path / "data")
    upsert_endpoint(rt.db, EndpointSpec(name="churn"))
    register_baseline(rt.settings, rt.db,
                      BaselineSpec(name="base", endpoint="churn", path=str(sagemaker_baseline)))
    upsert_schedule(rt.db, ScheduleSpec(name="hourly", endpoint="churn", baseline="base",
                                        expression="rate(1 hour)"))
    root = Path(rt.settings.capture_root)
    write_captures(root, "churn", sagemaker_columns(sagemaker_dir), T0, 1)
    hour = root / "churn" / "AllTraffic" / f"{T0:%Y/%m/%d/%H}" / "00-00-000-x.jsonl"
    with hour.open("a") as f:  # two records no reader can decode
        f.write("{not json\n")
        f.write('{"captureData": 7}\n')
    done = run_scheduled(rt, "hourly", T0 + timedelta(hours=1))
    assert done is not None and done.status != "Failed", done
    return rt, done


def test_bad_records_come_with_their_examples(run) -> None:
    rt, done = run
    detail = execution_detail(rt.db, done.id)
    assert done.records_skipped == 2
    bad = detail.bad_records
    assert bad["count"] == 2 and len(bad["examples"]) == 2
    assert [x["line"] for x in bad["examples"]] == [41, 42]
    assert bad["examples"][0]["text"] == "{not json"
    assert all(x["file"].endswith("00-00-000-x.jsonl") and x["reason"] for x in bad["examples"])
    # the page's table of them: file, line, reason, text
    rows = bad_record_table(detail).rows
    assert [r[1] for r in rows] == [41, 42] and rows[0][0].endswith("00-00-000-x.jsonl")
    assert rows[0][3] == "{not json" and rows[0][2] == bad["examples"][0]["reason"]


def test_features_stand_beside_the_baseline(run, sagemaker_baseline: Path) -> None:
    rt, done = run
    detail = execution_detail(rt.db, done.id)
    window = json.loads((Path(done.output_uri) / "statistics.json").read_text())
    base = json.loads((sagemaker_baseline / "statistics.json").read_text())
    summary = json.loads((Path(done.output_uri) / "analysis.json").read_text())
    assert [r.name for r in detail.features] == [f["name"] for f in window["features"]]
    by_name = {f["name"]: f for f in base["features"]}
    for row, wf in zip(detail.features, window["features"]):
        bf = by_name[row.name]
        if "numerical_statistics" in wf:
            assert row.window_mean == pytest.approx(wf["numerical_statistics"]["mean"])
            assert row.baseline_mean == pytest.approx(bf["numerical_statistics"]["mean"])
        drift = summary["features"].get(row.name)
        if drift is not None:
            assert row.drifted == drift["drifted"] and row.drift_threshold == drift["threshold"]
    assert detail.monitor_type == "DataQuality" and detail.baseline_name == "base"
    assert len(detail.violations) == done.violation_count


def test_outputs_are_served_by_name_only(run) -> None:
    rt, done = run
    detail = execution_detail(rt.db, done.id)
    assert "report.html" in detail.outputs and "statistics.json" in detail.outputs
    for name in detail.outputs:
        assert output_path(rt.db, done.id, name) == Path(done.output_uri) / name
    for name in ("../../vigil.db", "vigil.db", "report.html/..", "", "REPORT.HTML"):
        with pytest.raises(OutputNotFoundError):
            output_path(rt.db, done.id, name)
    with pytest.raises(OutputNotFoundError):  # a known name the run did not write
        output_path(rt.db, done.id, "anomalies.json")
    with pytest.raises(ExecutionNotFoundError):
        output_path(rt.db, "no-such-execution", "report.html")
    report = (Path(done.output_uri) / "report.html").read_text()
    assert f'data-field="execution">{done.id}</dd>' in report
    assert 'data-field="schedule">hourly (DataQuality)</dd>' in report
