"""The metric contract: every figure the jobs write is named by it, every default alarm reads
a figure the jobs write, and the jobs and alarms spell no name of their own."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import vigil.metrics.contract as mc
from conftest import sagemaker_columns
from test_model_quality_monitor import scenario  # noqa: F401 - the model-quality fixture
from test_runtime import T0, _runtime, write_captures
from vigil.alerts.defaults import default_alarms
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.capture import CaptureWriter
from vigil.capture.ground_truth import GroundTruthJoin
from vigil.checks.cbpe import METRICS as CBPE_METRICS
from vigil.checks.model_quality import BINARY_METRICS, MULTICLASS_METRICS, REGRESSION_METRICS
from vigil.monitor.runner import run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.monitor.windows import WINDOW_OPTIONS
from vigil.store.models import Schedule

HOURLY = ScheduleSpec(name="hourly", endpoint="churn", baseline="base", expression="rate(1 hour)")
#: the model-quality schedule of test_model_quality_monitor's scenario
QUALITY = ScheduleSpec(
    name="quality",
    endpoint="cancer",
    baseline="mq",
    expression="rate(1 hour)",
    window_start_offset="-P1DT1H",
    window_end_offset="-P1D",
    monitor_type="ModelQuality",
    config={"problem_type": "BinaryClassification", "positive_label": 1},
)
SRC = Path(__file__).resolve().parent.parent / "src" / "vigil"
_STRUCTURED = {"confusion_matrix", "receiver_operating_characteristic_curve",
               "precision_recall_curve"}


@pytest.fixture
def data_quality(tmp_path: Path, sagemaker_baseline: Path, sagemaker_dir: Path) -> Runtime:
    """A data-quality schedule over SageMaker's baseline, run on three hours of captures."""
    rt = _runtime(tmp_path / "data")
    upsert_endpoint(rt.db, EndpointSpec(name="churn"))
    spec = BaselineSpec(name="base", endpoint="churn", path=str(sagemaker_baseline))
    register_baseline(rt.settings, rt.db, spec)
    upsert_schedule(rt.db, HOURLY)
    write_captures(Path(rt.settings.capture_root), "churn", sagemaker_columns(sagemaker_dir),
                   T0, 3)
    for h in range(1, 4):
        done = run_scheduled(rt, "hourly", T0 + timedelta(hours=h))
        assert done is not None and done.status == "Completed", done and done.failure_reason
    return rt


def _written(rt: Runtime) -> list[tuple[str, str, dict[str, str]]]:
    return rt.metrics.list_metrics()


def _alarms_read_written(rt: Runtime, spec: ScheduleSpec) -> None:
    """The default alarms of ``spec`` (as the catalog makes them) read written figures."""
    alarms = default_alarms(spec)
    assert len(alarms) == 3
    written = _written(rt)
    for alarm in alarms:
        read = (alarm.namespace, alarm.metric_name, dict(alarm.dimensions))
        assert read in written, f"{alarm.name} reads {read}, which no execution wrote"


def test_every_data_quality_figure_is_named_by_the_contract(data_quality: Runtime):
    written = _written(data_quality)
    entries = {mc.entry(ns, name) for ns, name, _ in written}
    assert None not in entries, [m for m in written if mc.entry(m[0], m[1]) is None]
    assert entries == {
        "feature_baseline_drift", "feature_non_null", "feature_data", "DRIFTED_FEATURES",
        "execution_status",
    }
    for ns, name, dims in written:
        assert ns in mc.NAMESPACES
        assert tuple(sorted(dims)) == tuple(sorted(mc.SCHEDULE_DIMENSIONS)), (ns, name, dims)
        assert dims == mc.schedule_dimensions("churn", "hourly")
    names = {name for _, name, _ in written}
    assert mc.feature_baseline_drift("_c0") in names and mc.DRIFTED_FEATURES in names
    assert {mc.execution_status(s) for s in mc.EXECUTION_OUTCOMES} <= names


def test_every_data_quality_default_alarm_reads_a_written_figure(data_quality: Runtime):
    _alarms_read_written(data_quality, HOURLY)


def test_every_model_quality_figure_is_named_by_the_contract(scenario: dict):  # noqa: F811
    written = _written(scenario["rt"])
    unnamed = [m for m in written if mc.entry(m[0], m[1]) is None]
    assert unnamed == []
    entries = {mc.entry(ns, name) for ns, name, _ in written}
    assert entries == {
        "model_quality_metric", "estimated", "ground_truth", "CONSTRAINT_VIOLATIONS",
        "execution_status", "CONCEPT_DRIFT_DETECTED", "CONDITIONAL_ENTROPY_METRICS",
        "prediction",
    }
    for ns, name, dims in written:
        wanted = (
            mc.DETECTOR_DIMENSIONS if ns == mc.CONCEPT_DRIFT_NAMESPACE else mc.SCHEDULE_DIMENSIONS
        )
        assert sorted(dims) == sorted(wanted), (ns, name, dims)
        assert {k: dims[k] for k in mc.SCHEDULE_DIMENSIONS} == mc.schedule_dimensions(
            "cancer", "quality"
        )
    names = {name for _, name, _ in written}
    assert {mc.estimated(k) for k in mc.ESTIMATED_METRICS} <= names
    assert {mc.ground_truth(k) for k in mc.GROUND_TRUTH_COUNTS} <= names
    assert {mc.prediction(k) for k in mc.PREDICTION_STATISTICS} <= names
    assert mc.model_quality_metric("auc") in names
    assert set(mc.CONDITIONAL_ENTROPY_METRICS) <= names


def test_every_model_quality_default_alarm_reads_a_written_figure(scenario: dict):  # noqa: F811
    with scenario["rt"].db.session() as s:
        row = s.get(Schedule, "quality")
        assert row is not None and (row.monitor_type, row.expression) == ("ModelQuality",
                                                                          QUALITY.expression)
    _alarms_read_written(scenario["rt"], QUALITY)


def test_the_contract_lists_the_figures_of_each_producer(tmp_path: Path):
    scalars = {
        k for k in (*REGRESSION_METRICS, *BINARY_METRICS, *MULTICLASS_METRICS)
        if k not in _STRUCTURED
    }
    assert scalars == mc.MODEL_QUALITY_METRICS
    assert mc.REGRESSION_METRICS == REGRESSION_METRICS
    binary = tuple(k for k in BINARY_METRICS if k not in _STRUCTURED)
    multiclass = tuple(k for k in MULTICLASS_METRICS if k not in _STRUCTURED)
    assert binary == mc.BINARY_CLASSIFICATION_METRICS
    assert multiclass == mc.MULTICLASS_CLASSIFICATION_METRICS
    assert mc.ESTIMATED_METRICS == CBPE_METRICS
    counts = GroundTruthJoin(pa.table({}), matched=1, unmatched_captures=0, unmatched_labels=0)
    assert tuple(counts.summary()) == mc.GROUND_TRUTH_COUNTS
    with CaptureWriter("churn", destination=tmp_path) as writer:
        data = writer.metric_data()
    assert [d.name for d in data] == list(mc.CAPTURE_METRICS)
    assert {d.namespace for d in data} == {mc.CAPTURE_NAMESPACE}
    assert all(dict(d.dimensions) == mc.capture_dimensions("churn", "AllTraffic") for d in data)


def _strings(path: Path) -> set[str]:
    """The string constants of a module's code (docstrings and ``__all__`` left out)."""
    tree = ast.parse(path.read_text())
    exported = {
        id(element)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        and isinstance(node.value, (ast.List, ast.Tuple))
        for element in node.value.elts
    }
    docstrings = exported | {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    }


@pytest.mark.parametrize(
    "path",
    [*sorted((SRC / "monitor").glob("*.py")), SRC / "alerts" / "defaults.py"],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_jobs_and_alarms_spell_no_metric_name_or_namespace(path: Path):
    """Names, namespaces and dimensions come from the contract, not from string literals."""
    spelled = {
        s for s in _strings(path)
        if s not in WINDOW_OPTIONS  # config keys; Clarify's feature_{f} would match them
        and (s in mc.NAMESPACES
        or any(mc.entry(ns, s) is not None for ns in mc.NAMESPACES)
        or s in (mc.ENDPOINT, mc.MONITORING_SCHEDULE, mc.DETECTOR, mc.STREAM, mc.VARIANT)
        or s.startswith(("feature_baseline_drift", "feature_non_null", "feature_data",
                         "execution_status", "estimated_", "ground_truth_")))
    }
    assert spelled == set()
