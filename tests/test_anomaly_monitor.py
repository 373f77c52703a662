"""Anomalies end to end: the CLI (baseline, analyze, bad input) and a scheduled data-quality
execution (anomalies.json with event ids, the anomaly_share metric, a corrupt model)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

import vigil.metrics.contract as mc
from conftest import sagemaker_columns
from test_runtime import T0, _runtime, write_captures
from vigil.analysis.baseline import Baseline, suggest_baseline
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.monitor.runner import run_scheduled

SRC = str(Path(__file__).resolve().parent.parent / "src")


def _vigil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args], capture_output=True, text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


def test_cli_baseline_and_analyze_write_anomalies(tmp_path: Path):
    rng = np.random.default_rng(0)
    n = 2000
    pacsv.write_csv(pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n),
                              "cat": rng.choice(["x", "y"], n)}), tmp_path / "train.csv")
    w = rng.normal(size=(400, 2))
    w[:40, 1] += 15.0  # 10% extreme in b
    pacsv.write_csv(pa.table({"a": w[:, 0], "b": w[:, 1], "cat": rng.choice(["x", "y"], 400)}),
                    tmp_path / "window.csv")
    base, out = tmp_path / "base", tmp_path / "out"
    done = _vigil("baseline", str(tmp_path / "train.csv"), "-o", str(base), "--anomaly-detection",
                  "--anomaly-method", "robust_zscore", "--anomaly-contamination", "0.02")
    assert done.returncode == 0, done.stderr
    assert "anomaly_model.json" in done.stdout and (base / "anomaly_model.json").is_file()
    done = _vigil("analyze", str(tmp_path / "window.csv"), "-b", str(base), "-o", str(out),
                  "--anomaly-top", "5")
    assert done.returncode == 1, done.stderr
    report = json.loads((out / "anomalies.json").read_text())
    assert report["method"] == "robust_zscore" and report["record_count"] == 400
    assert report["anomaly_share"] >= 0.1 and report["max_share"] == 0.04
    top = report["top_records"]
    assert len(top) == 5 and all(r["row"] < 40 for r in top)
    assert all(r["features"][0]["name"] == "b" for r in top)
    assert isinstance(top[0]["features"][0]["value"], float)
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    check = [v for v in violations if v["constraint_check_type"] == "anomaly_check"]
    assert len(check) == 1 and check[0]["feature_name"] == "b"
    assert "0.04" in check[0]["description"]
    assert "<h2>Anomalies</h2>" in (out / "report.html").read_text()
    assert json.loads((out / "analysis.json").read_text())["anomalies"]["exceeded"] is True
    # bad input: a corrupt model names the file; an --anomaly-* option alone is refused
    (base / "anomaly_model.json").write_text('{"format": "vigil-anomaly-model"}')
    done = _vigil("analyze", str(tmp_path / "window.csv"), "-b", str(base), "-o", str(out))
    assert done.returncode == 2 and "anomaly_model.json" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = _vigil("baseline", str(tmp_path / "train.csv"), "-o", str(base),
                  "--anomaly-contamination", "0.1")
    assert done.returncode == 2 and "--anomaly-detection" in done.stderr


def test_scheduled_execution_scores_the_window(tmp_path: Path, sagemaker_baseline: Path,
                                               sagemaker_dir: Path):
    cols = sagemaker_columns(sagemaker_dir)
    names = [f"_c{i}" for i in range(len(cols))]
    train = pa.table({n: cols[c] for n, c in zip(names, cols)})
    fitted = suggest_baseline(train, anomaly={"method": "mahalanobis"})
    source = tmp_path / "source"
    shutil.copytree(sagemaker_baseline, source)
    assert fitted.anomaly_model is not None
    fitted.anomaly_model.save(source / "anomaly_model.json")
    rt = _runtime(tmp_path / "data")
    upsert_endpoint(rt.db, EndpointSpec(name="churn"))
    record = register_baseline(rt.settings, rt.db,
                               BaselineSpec(name="base", endpoint="churn", path=str(source)))
    assert Baseline.load(record.uri).anomaly_model is not None
    upsert_schedule(rt.db, ScheduleSpec(name="hourly", endpoint="churn", baseline="base",
                                        expression="rate(1 hour)"))
    write_captures(Path(rt.settings.capture_root), "churn", cols, T0, 2)
    done = run_scheduled(rt, "hourly", T0 + timedelta(hours=1))
    assert done is not None and done.status in ("Completed", "CompletedWithViolations")
    report = json.loads((Path(done.output_uri) / "anomalies.json").read_text())
    assert report["record_count"] == 40
    assert all(r["event_id"].startswith("0-") for r in report["top_records"])
    written = {name for _, name, _ in rt.metrics.list_metrics()}
    assert mc.ANOMALY_SHARE in written
    assert mc.entry(mc.DATA_QUALITY_NAMESPACE, mc.ANOMALY_SHARE) == "ANOMALY_SHARE"
    (Path(record.uri) / "anomaly_model.json").write_text("[]")
    failed = run_scheduled(rt, "hourly", T0 + timedelta(hours=2))
    assert failed is not None and failed.status == "Failed"
    assert "anomaly_model.json" in (failed.failure_reason or "")
