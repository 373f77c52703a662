"""The bias-drift job (``monitor_type: ModelBias``): a window's captures joined with their
ground truth, Clarify's bias metrics computed and compared with the baseline's.

The baseline is a Clarify ``analysis.json`` (Clarify's own, or one written by ``vigil bias``):
each metric value in it is its own threshold. The analysis config (label values, facets, group
variable, ``headers``) is the schedule's ``config.analysis_config`` (the monitor subset of
``analysis_config.json``), else the ``analysis_config.json`` kept beside the baseline.

One execution:

1. read the window (inputs and outputs) and join the ground truth, as model quality does;
2. name the columns as the analysis config does: the captured features take the names of
   ``headers`` (when the CSV gave ``_c0``...), the ground truth becomes the config's ``label``,
   the model's prediction (``inference_attribute``) the predicted label, or its score
   (``probability_attribute``, a bare CSV output) the predicted label by
   ``probability_threshold`` (default 0.5, exclusive as Clarify);
3. compute the analysis (post-training metrics, as Clarify's model bias monitor does, unless
   the config's ``methods`` asks for pre-training ones too) and decide drift
   (:func:`vigil.checks.bias.bias_drift_check`; with ``config.bootstrap`` only metrics whose
   bootstrap interval lies outside the allowed range count);
4. write ``analysis.json``, ``constraint_violations.json`` and ``report.html``, and the
   figures as Clarify publishes them (:mod:`vigil.monitor.emission_clarify`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vigil.capture.ground_truth import LABEL_COLUMN
from vigil.checks.bias import Bootstrap, bias_drift_check
from vigil.errors import ConfigError
from vigil.formats._base import write_atomic
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig
from vigil.locations import as_location
from vigil.monitor.emission_clarify import bias_data
from vigil.monitor.lifecycle import FAILED, fail_empty, figure_time, finish, outcome
from vigil.monitor.model_quality import join_labels, no_labels_reason, output_columns
from vigil.monitor.report_context import report_context
from vigil.monitor.runtime import Runtime
from vigil.monitor.windows import named_features, read_execution_window
from vigil.report.clarify import render_bias_report
from vigil.store.artifacts import output_dir
from vigil.store.models import Endpoint, Execution, Schedule

__all__ = ["bias_config", "bias_table", "execute_model_bias", "load_analysis_baseline"]

CONFIG_FILE = "analysis_config.json"
_PREDICTED = "predicted_label"


def load_analysis_baseline(uri: str) -> AnalysisDocument:
    """The baseline ``analysis.json`` at ``uri`` (the file, or the folder holding it)."""
    return AnalysisDocument.load(uri)


def bias_config(config: Mapping[str, Any], baseline_uri: str) -> AnalysisConfig:
    """The schedule's analysis config: ``config.analysis_config`` (an object), else the
    ``analysis_config.json`` beside the baseline; ConfigError when there is neither."""
    inline = config.get("analysis_config")
    if inline is not None:
        if not isinstance(inline, dict):
            raise ConfigError("config.analysis_config: expected an object (analysis_config.json)")
        return AnalysisConfig.from_dict(inline, source="config.analysis_config")
    base = as_location(baseline_uri)
    beside = (base if base.is_dir() else base.parent) / CONFIG_FILE
    if beside.is_file():
        return AnalysisConfig.load(beside)
    raise ConfigError(
        "a ModelBias schedule needs config.analysis_config (label_values_or_threshold, facet, "
        f"...) or an {CONFIG_FILE} beside its baseline {baseline_uri}"
    )


def _bootstrap(config: Mapping[str, Any]) -> Bootstrap | None:
    value = config.get("bootstrap")
    if value is None or value is False:
        return None
    if value is True:
        return Bootstrap()
    if not isinstance(value, dict):
        raise ConfigError(
            "config.bootstrap: expected true or an object {n_resamples, confidence, seed}"
        )
    unknown = set(value) - {"n_resamples", "confidence", "seed"}
    if unknown:
        raise ConfigError(
            f"config.bootstrap: unknown key(s) {', '.join(sorted(unknown))}; expected "
            "n_resamples, confidence, seed"
        )
    try:
        return Bootstrap(**value)
    except TypeError as exc:
        raise ConfigError(f"config.bootstrap: {exc}") from None


def _is_interval(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("(")


def categorical_columns(baseline: AnalysisDocument) -> tuple[set[str], bool]:
    """The facets the baseline treated as categorical (their values are not intervals), and
    whether its label was (a small window must not flip them to continuous: Clarify infers the
    type from the data, and an int column of 40 rows or fewer is continuous)."""
    facets: set[str] = set()
    label = True
    for section in (baseline.pre_training, baseline.post_training):
        if not section:
            continue
        label = label and not _is_interval(section.get("label_value_or_threshold"))
        for facet, entries in (section.get("facets") or {}).items():
            if entries and not any(_is_interval(e.get("value_or_threshold")) for e in entries):
                facets.add(str(facet))
    return facets, label


def _categorical(table: pa.Table, name: str) -> pa.Table:
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        return table
    return table.set_column(
        table.column_names.index(name), name, column.combine_chunks().dictionary_encode()
    )


def bias_table(
    merged: pa.Table,
    analysis: AnalysisConfig,
    config: Mapping[str, Any],
    baseline: AnalysisDocument | None = None,
) -> tuple[pa.Table, AnalysisConfig]:
    """The joined window as the analysis config names its columns, and the config pointing
    at the label and predicted-label columns (see the module's docstring). With the
    ``baseline``, facets and labels it treated as categorical stay categorical."""
    table = merged.drop_columns([c for c in merged.column_names if c.startswith("__")])
    outputs = output_columns(table.column_names, "BinaryClassification", config)
    names = list(table.column_names)
    label = analysis.label if isinstance(analysis.label, str) else LABEL_COLUMN
    if label != LABEL_COLUMN and label in names:
        raise ConfigError(
            f"label {label!r}: the window already has a column of that name; the ground "
            "truth cannot take it"
        )
    names = [label if c == LABEL_COLUMN else c for c in names]
    renamed = dict(zip(table.column_names, names))
    table = table.rename_columns(names)
    threshold = float(config.get("probability_threshold", analysis.probability_threshold))
    cfg = replace(analysis, label=label, probability_threshold=threshold)
    if outputs.prediction is not None:
        pred = renamed[outputs.prediction]
        if pred != _PREDICTED and _PREDICTED not in table.column_names:
            table = table.rename_columns(
                [_PREDICTED if c == pred else c for c in table.column_names]
            )
            pred = _PREDICTED
        cfg = replace(cfg, predicted_label=pred)
    elif outputs.probability is not None:  # Clarify's rule: score > threshold is 1
        score = renamed[outputs.probability]
        table = _as_float(table, score)
        predicted = pc.cast(pc.greater(table.column(score), threshold), pa.int64())
        pred = _PREDICTED
        while pred in table.column_names:
            pred = "_" + pred
        table = table.drop_columns([score]).append_column(pred, predicted)
        cfg = replace(cfg, predicted_label=pred)
    if baseline is not None:
        facets, label_categorical = categorical_columns(baseline)
        for facet in cfg.facets:
            name = facet.name_or_index
            if isinstance(name, str) and name in facets and name in table.column_names:
                table = _categorical(table, name)
        if label_categorical:
            for column in (cfg.label, cfg.predicted_label):
                if isinstance(column, str) and column in table.column_names:
                    table = _categorical(table, column)
    return table, cfg


def _as_float(table: pa.Table, name: str) -> pa.Table:
    """``table`` with the score column ``name`` as float64 (captured CSV outputs are text)."""
    column = table.column(name)
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return table
    try:
        cast = pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise ConfigError(
            f"the model's output {name!r} is not a number in every record (a score is "
            "expected; set config.inference_attribute when the output is a label)"
        ) from None
    return table.set_column(table.column_names.index(name), name, cast)


def execute_model_bias(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, baseline_uri: str
) -> Execution:
    """Run the bias-drift execution ``ex`` against the baseline ``analysis.json`` at
    ``baseline_uri`` and finish it."""
    cfg = dict(schedule.config or {})
    baseline = load_analysis_baseline(baseline_uri)
    analysis_config = bias_config(cfg, baseline_uri)
    bootstrap = _bootstrap(cfg)
    window = read_execution_window(
        rt, schedule, ex, endpoint, content="both",
        **named_features(cfg, analysis_config.headers, analysis_config.label,
                         analysis_config.predicted_label, analysis_config.probability),
    )
    if window.table.num_rows == 0:
        return fail_empty(rt, ex, window)
    labels = join_labels(rt, ex, window)
    if labels.joined.matched == 0:
        return finish(
            rt,
            ex,
            FAILED,
            no_labels_reason(ex, window, labels),
            records_read=window.table.num_rows,
            records_skipped=window.bad.count,
        )
    table, analysis_config = bias_table(labels.joined.table, analysis_config, cfg, baseline)
    asked = analysis_config.pre_training is not None or analysis_config.post_training is not None
    stages = None if asked else ["post_training"]  # a model monitor: the model's bias
    drift = bias_drift_check(table, analysis_config, baseline, bootstrap=bootstrap, stages=stages)
    doc = drift.analysis.to_dict()
    out = output_dir(rt.settings, schedule, ex.scheduled_time)
    out.mkdir(parents=True, exist_ok=True)
    drift.analysis.save(out / "analysis.json")
    write_atomic(
        out / "constraint_violations.json",
        json.dumps(drift.violations_document(), indent=4) + "\n",
    )
    write_atomic(
        out / "report.html",
        render_bias_report(doc, baseline.to_dict(), drift.violations, records=table.num_rows,
                           context=report_context(schedule, ex)),
    )
    t = figure_time(schedule, ex)
    rt.metrics.put(bias_data(doc, len(drift.violations), schedule.endpoint_name, schedule.name, t))
    return finish(
        rt,
        ex,
        outcome(len(drift.violations)),
        None,
        records_read=labels.joined.matched,
        records_skipped=window.bad.count,
        violation_count=len(drift.violations),
        output_uri=str(out),
    )
