"""A whole bias analysis (both stages, as asked) as an :class:`AnalysisDocument`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from vigil.checks.bias.data import to_bias_data
from vigil.checks.bias.errors import BiasReportError
from vigil.checks.bias.report import BiasData, bias_report
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig

PREDICTED_FROM_SCORE = "predicted_label"


def with_predictions(data: BiasData, config: AnalysisConfig) -> tuple[BiasData, AnalysisConfig]:
    """When ``predicted_label`` is not given but ``predictor.probability`` names a column of
    the data, the predicted label is ``score > probability_threshold`` (1, else 0); the score
    column is then left out of the data (of FT's features), as an endpoint's score is."""
    if config.predicted_label is not None or config.probability is None:
        return data, config
    name, score = data.column(config.probability, "predictor.probability")
    if score.dtype.kind not in "biuf":
        raise BiasReportError(
            f"predictor.probability {name!r}: expected a numeric score column, got {score.dtype}"
        )
    columns = {k: v for k, v in data.columns.items() if k != name}
    target = PREDICTED_FROM_SCORE
    while target in columns:
        target = "_" + target
    columns[target] = (score > config.probability_threshold).astype(np.int64)
    return BiasData(columns, data.categorical), replace(config, predicted_label=target)


def stages_of(config: AnalysisConfig, has_predictions: bool) -> list[str]:
    """The stages to compute: those ``methods`` asks for, else pre-training and, when there
    are predicted labels, post-training."""
    if config.pre_training is None and config.post_training is None:
        return ["pre_training", *(["post_training"] if has_predictions else [])]
    out = []
    if config.pre_training is not None:
        out.append("pre_training")
    if config.post_training is not None:
        if not has_predictions:
            raise BiasReportError(
                "methods.post_training_bias: needs predicted labels: set predicted_label, or "
                "predictor.probability to a score column of the data"
            )
        out.append("post_training")
    return out


def compute_analysis(
    data: Any,
    config: AnalysisConfig,
    *,
    stages: list[str] | None = None,
    strict_thresholds: bool = True,
    flip_jobs: int | None = -1,
    require_positive_prediction: bool = True,
) -> AnalysisDocument:
    """Clarify's bias sections of ``analysis.json`` for a table (pyarrow, pandas, Polars) or
    :class:`BiasData`, following ``config`` (see :func:`~vigil.checks.bias.bias_report`)."""
    bias_data, cfg = with_predictions(to_bias_data(data), config)
    if len(bias_data) == 0:
        raise BiasReportError("the data has no rows")
    todo = stages if stages is not None else stages_of(cfg, cfg.predicted_label is not None)
    doc = AnalysisDocument()
    for stage in todo:
        methods = cfg.pre_training if stage == "pre_training" else cfg.post_training
        report = bias_report(
            bias_data,
            cfg,
            stage,
            methods=methods or "all",
            strict_thresholds=strict_thresholds,
            flip_jobs=flip_jobs,
            require_positive_prediction=require_positive_prediction,
        )
        if stage == "pre_training":
            doc.pre_training = report.to_dict()
        else:
            doc.post_training = report.to_dict()
    return doc
