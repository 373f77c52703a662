"""The feature-attribution-drift job (``monitor_type: ModelExplainability``): the window's
captured inputs explained with SHAP as Clarify does, the global values compared with the
baseline's by NDCG.

The baseline is an ``analysis.json`` with an ``explanations`` section (Clarify's, or one
written by ``vigil explain``). The schedule's ``config``:

- ``model`` (required): the serving endpoint's ``http(s)://`` URL (called under the outbound
  policy), or a model file / ``module:callable`` allowed by the operator's code policy
  (``VIGIL_CODE_DIR``, ``VIGIL_ALLOW_PYTHON``);
- ``analysis_config``: the monitor subset of ``analysis_config.json`` (``methods.shap``,
  ``predictor``, ``headers``), else the ``analysis_config.json`` beside the baseline;
- ``ndcg_threshold`` (0.9, Clarify's), ``time_budget`` (seconds, 3600), ``algorithm``
  (``auto``, ``kernel``, ``exact``).

Outputs: ``analysis.json``, ``constraint_violations.json`` (``feature_attribution_drift_check``),
``report.html``; with ``save_local_shap_values``, Clarify's ``explanations_shap/out.csv`` and
Vigil's ``explanations_shap/records.jsonl`` (one record per line with its inference and event
ids, read by ``GET /endpoints/{name}/explanations/{id}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from vigil.analysis.explain import Explanation, explain_matrix, read_features, save_explanation
from vigil.capture.window import Window
from vigil.checks.attribution import attribution_drift
from vigil.errors import ConfigError
from vigil.formats._base import write_atomic
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_explain import ExplainConfig, parse_explain_config, read_explanations
from vigil.locations import as_location, write_bytes_atomic
from vigil.metrics import contract as mc
from vigil.monitor.emission_clarify import explainability_data
from vigil.monitor.lifecycle import fail_empty, figure_time, finish, outcome
from vigil.monitor.report_context import report_context
from vigil.monitor.runtime import Runtime
from vigil.monitor.windows import named_features, read_execution_window
from vigil.net.predictors import load_model
from vigil.report.clarify import render_explainability_report
from vigil.store.artifacts import output_dir
from vigil.store.code_policy import CodePolicy
from vigil.store.models import Endpoint, Execution, Schedule

__all__ = ["RECORDS_FILE", "execute_model_explainability", "explain_config"]

CONFIG_FILE = "analysis_config.json"
#: Vigil's per-record explanations of an execution, beside Clarify's out.csv
RECORDS_FILE = Path("explanations_shap") / "records.jsonl"
DEFAULT_NDCG_THRESHOLD = 0.9
DEFAULT_TIME_BUDGET = 3600.0
#: a label's expected value in records.jsonl: the same word as Clarify's metric name
_EXPECTED_KEY = mc.EXPECTED_VALUE


def explain_config(config: Mapping[str, Any], baseline_uri: str) -> ExplainConfig:
    """The schedule's analysis config: ``config.analysis_config``, else the
    ``analysis_config.json`` beside the baseline, else Clarify's defaults."""
    inline = config.get("analysis_config")
    if inline is not None:
        if not isinstance(inline, dict):
            raise ConfigError("config.analysis_config: expected an object (analysis_config.json)")
        try:
            return parse_explain_config(inline)
        except ConfigError as exc:
            raise ConfigError(f"config.analysis_config: {exc.message}") from None
    base = as_location(baseline_uri)
    beside = (base if base.is_dir() else base.parent) / CONFIG_FILE
    if beside.is_file():
        try:
            return parse_explain_config(orjson.loads(beside.read_bytes()))
        except (ConfigError, orjson.JSONDecodeError) as exc:
            raise ConfigError(f"{beside}: {getattr(exc, 'message', exc)}") from None
    return parse_explain_config({})


def _number(config: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = config.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"config.{key} {value!r}: expected a number >= 0")
    return float(value)


def _records(window: Window, x: np.ndarray, explanation: Explanation) -> bytes:
    """One JSON line per explained record, with the feature values the model was given (see
    :mod:`vigil.app.explanations`)."""
    ids = window.inference_ids.to_pylist()
    events = window.event_ids.to_pylist()
    times = window.inference_times.to_pylist()
    names = explanation.feature_names
    lines = []
    for i, values in enumerate(np.asarray(x, dtype=float).tolist()):
        doc = {
            "row": i,
            "inference_id": ids[i],
            "event_id": events[i],
            "inference_time": None if times[i] is None else times[i].isoformat(),
            "features": dict(zip(names, values)),
            "explanations": {
                lab.label: {
                    _EXPECTED_KEY: lab.expected_value,
                    "shap_values": dict(
                        zip(explanation.feature_names, map(float, np.asarray(lab.local[i])))
                    ),
                }
                for lab in explanation.labels
            },
        }
        lines.append(orjson.dumps(doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY))
    return b"\n".join(lines) + b"\n"


def execute_model_explainability(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, baseline_uri: str
) -> Execution:
    """Run the attribution-drift execution ``ex`` against the baseline at ``baseline_uri``."""
    cfg = dict(schedule.config or {})
    spec = cfg.get("model")
    if not isinstance(spec, str) or not spec:
        raise ConfigError(
            f"schedule {schedule.name!r}: a ModelExplainability schedule needs config.model "
            "(the serving endpoint's URL, or a model file / module:callable the operator allows)"
        )
    threshold = _number(cfg, "ndcg_threshold", DEFAULT_NDCG_THRESHOLD)
    budget = _number(cfg, "time_budget", DEFAULT_TIME_BUDGET)
    algorithm = cfg.get("algorithm", "auto")
    if algorithm not in ("auto", "kernel", "exact"):
        raise ConfigError(f"config.algorithm {algorithm!r}: expected auto, kernel or exact")
    baseline = read_explanations(
        AnalysisDocument.load(baseline_uri).to_dict(), source=str(baseline_uri)
    )
    config = explain_config(cfg, baseline_uri)
    policy = CodePolicy.from_settings(rt.settings)
    resolved = policy.model_reference(spec, field="config.model")  # a file: its real path
    window = read_execution_window(
        rt, schedule, ex, endpoint, content="input",
        **named_features(cfg, config.headers, config.label),
    )
    if window.table.num_rows == 0:
        return fail_empty(rt, ex, window)
    table = window.features()
    loaded = load_model(resolved, config.predictor, policy=policy)
    x, names = read_features(table, config)
    explanation = explain_matrix(
        x, names, loaded.model, config.shap, loaded.predictor,
        algorithm=algorithm, time_budget=budget,
    )
    doc = explanation.to_analysis()
    window_values = {lab.label: lab.global_shap_values for lab in explanation.labels}
    base_values = {label: a.global_shap_values for label, a in baseline.items()}
    drifts = attribution_drift(base_values, window_values, threshold=threshold or 0.0)
    violations = [d.violation().to_dict() for d in drifts if d.drifted]
    ndcg = {d.label: d.ndcg for d in drifts}
    out = output_dir(rt.settings, schedule, ex.scheduled_time)
    out.mkdir(parents=True, exist_ok=True)
    local = bool(config.shap.save_local_shap_values)
    save_explanation(explanation, out, local=local)
    if local:
        # a reader sees the old file or the whole new one (rename, or one PUT for a URL)
        write_bytes_atomic(out / RECORDS_FILE, _records(window, x, explanation))
    write_atomic(
        out / "constraint_violations.json",
        json.dumps({"version": "1.0", "violations": violations}, indent=4) + "\n",
    )
    base_doc = {"explanations": {"kernel_shap": {
        label: {"global_shap_values": a.global_shap_values, _EXPECTED_KEY: a.expected_value}
        for label, a in baseline.items()}}}
    write_atomic(
        out / "report.html",
        render_explainability_report(
            doc, base_doc, ndcg, violations, records=table.num_rows,
            threshold=threshold if threshold is not None else DEFAULT_NDCG_THRESHOLD,
            context=report_context(schedule, ex),
        ),
    )
    t = figure_time(schedule, ex)
    rt.metrics.put(
        explainability_data(doc, ndcg, len(violations), schedule.endpoint_name, schedule.name, t)
    )
    return finish(
        rt,
        ex,
        outcome(len(violations)),
        None,
        records_read=table.num_rows,
        records_skipped=window.bad.count,
        violation_count=len(violations),
        output_uri=str(out),
    )

