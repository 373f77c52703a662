"""The public Python API: names, Baseline, Analysis, the report and bad records."""

from __future__ import annotations

import json
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import vigil
from vigil.io.readers import BadRecords, iter_tables

EXPECTED = {
    "Analysis", "Baseline", "BaselineMismatchError", "CaptureRecord", "ConfigError",
    "ConstraintViolations", "Constraints", "DatasetProfile", "DriftResult", "EmptyInputError",
    "FormatError", "GroundTruthRecord", "InputError", "KLLSketch", "Statistics", "VigilError",
    "Violation", "__version__", "analyze", "suggest_baseline",
    # runtime names, loaded on first use
    "CaptureWriter", "CaptureMiddleware", "WSGICaptureMiddleware", "read_window", "Database",
    "MetricDatum", "MetricStore", "Settings", "create_app", "write_ground_truth",
    "suggest_model_quality_baseline", "analyze_model_quality", "bias", "explain",
    "ServingTelemetry", "TelemetryMiddleware", "WSGITelemetryMiddleware",  # serving telemetry
    "training_job",  # issue 11: training jobs
}


def test_public_names_are_exactly_the_intended_ones():
    assert set(vigil.__all__) == EXPECTED
    for name in vigil.__all__:
        assert hasattr(vigil, name)


def test_errors_subclass_builtins_and_carry_codes():
    assert issubclass(vigil.InputError, ValueError) and issubclass(
        vigil.InputError, vigil.VigilError
    )
    err = vigil.EmptyInputError("nothing here")
    assert str(err) == "[empty_input] nothing here" and err.code == "empty_input"


def _frames():
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 2000), "c": rng.choice(list("abc"), 2000)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, 1500), "c": rng.choice(list("abd"), 1500)})
    return ref, cur


def test_baseline_save_load_and_analysis_outputs(tmp_path: Path):
    ref, cur = _frames()
    base = vigil.suggest_baseline(ref)
    base.save(tmp_path / "b")
    loaded = vigil.Baseline.load(tmp_path / "b")
    assert loaded.statistics == base.statistics and loaded.constraints == base.constraints
    analysis = vigil.analyze(cur, tmp_path / "b")
    assert analysis.has_violations and analysis.item_count == 1500
    d = analysis.drift["x"]
    assert (d.method, d.threshold, d.drifted) == ("Robust", 0.1, True)
    assert analysis.drift["c"].method == "LInfinity"
    kinds = {(v.feature_name, v.constraint_check_type) for v in analysis.violations}
    assert ("c", "categorical_values_check") in kinds and ("x", "baseline_drift_check") in kinds
    analysis.save(tmp_path / "a")
    files = {p.name for p in (tmp_path / "a").iterdir()}
    assert {
        "statistics.json",
        "constraint_violations.json",
        "report.html",
        "constraints.json",
        "analysis.json",
    } <= files
    on_disk = json.loads((tmp_path / "a" / "constraint_violations.json").read_text())
    assert len(on_disk["violations"]) == len(analysis.violations)


def test_report_is_self_contained_with_a_chart_per_feature():
    ref, cur = _frames()
    analysis = vigil.analyze(cur, vigil.suggest_baseline(ref))
    html = analysis.to_html()
    assert analysis._repr_html_() == html
    assert html.count("<svg") >= 4  # two distribution charts and two drift gauges
    assert 'id="feature-x"' in html and 'id="feature-c"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must work offline"
    for v in analysis.violations:
        assert html_escape(v.description) in html


def test_missing_baseline_directory_is_a_clear_error(tmp_path: Path):
    with pytest.raises(vigil.FormatError, match="baseline directory not found"):
        vigil.Baseline.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(vigil.FormatError, match=r"needs statistics\.json"):
        vigil.Baseline.load(tmp_path / "empty")


def test_jsonl_and_capture_bad_records_are_skipped_and_located(tmp_path: Path, sagemaker_dir: Path):
    jl = tmp_path / "rows.jsonl"
    jl.write_text('{"a": 1}\n{"a": 2\n[1, 2]\n\n{"a": 3}\n')
    bad = BadRecords()
    tables = list(iter_tables(str(jl), bad=bad))
    assert sum(t.num_rows for t in tables) == 2
    assert bad.count == 2
    assert [(e.line, e.reason.split(" (")[0]) for e in bad.examples] == [
        (2, "not valid JSON"),
        (3, "expected a JSON object"),
    ]
    good = (sagemaker_dir / "data_capture_csv_encoding_from_notebook_output.jsonl").read_text()
    lines = good.splitlines()
    broken = lines[0].replace('"encoding":"CSV"', '"encoding":"BASE64"', 1)
    cap = tmp_path / "capture.jsonl"
    cap.write_text("\n".join([lines[0], "{truncated", broken, lines[1]]) + "\n")
    bad = BadRecords()
    rows = sum(t.num_rows for t in iter_tables(str(cap), bad=bad))
    assert rows == 2 and bad.count == 2
    assert [e.line for e in bad.examples] == [2, 3]
    assert "not tabular" in bad.examples[1].reason


def test_polars_and_arrow_inputs():
    import polars as pl

    table = pa.table({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "a"]})
    a = vigil.suggest_baseline(table).statistics
    b = vigil.suggest_baseline(pl.from_arrow(table)).statistics
    assert a == b
