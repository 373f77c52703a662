"""The model-quality side of ``vigil baseline`` and ``vigil analyze`` (``--problem-type``): a
module of its own, imported only when that option is given."""

from __future__ import annotations

from typing import Any

from vigil.analysis.estimation import fit_cbpe, save_cbpe
from vigil.analysis.model_quality import analyze_model_quality, suggest_model_quality_baseline
from vigil.cli.common import fail, line, table, violation_status
from vigil.errors import VigilError
from vigil.locations import join_location


def write_baseline(
    inputs: list[str],
    output: str,
    problem_type: str,
    inference_attribute: str | None,
    ground_truth_attribute: str,
    probability_attribute: str | None,
    probability_threshold: float,
    positive_label: str | None,
    tolerance: float,
    engine: str = "local",
    spark_master: str | None = None,
    **reader_options: Any,
) -> None:
    """Suggest and write the model-quality baseline (and, for a binary classifier with
    probabilities, the CBPE calibration); print one line saying where."""
    try:
        mq = suggest_model_quality_baseline(
            inputs,
            problem_type,
            inference_attribute,
            ground_truth_attribute,
            probability_attribute,
            probability_threshold,
            positive_label,
            tolerance,
            engine=engine,
            spark_master=spark_master,
            **reader_options,
        )
        mq.save(output)
        if probability_attribute and mq.statistics.problem_type == "BinaryClassification":
            save_cbpe(
                output,
                fit_cbpe(
                    inputs,
                    ground_truth_attribute,
                    probability_attribute,
                    positive_label,
                    probability_threshold,
                    **reader_options,
                ),
            )
    except (VigilError, LookupError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    line(
        f"model-quality baseline ({mq.statistics.problem_type}, "
        f"{mq.statistics.dataset.item_count:,} rows) written to "
        f"{join_location(output, 'statistics.json')} and "
        f"{join_location(output, 'constraints.json')}"
    )


def write_analysis(
    inputs: list[str],
    baseline_dir: str,
    output: str,
    problem_type: str,
    inference_attribute: str | None,
    ground_truth_attribute: str,
    probability_attribute: str | None,
    probability_threshold: float,
    positive_label: str | None,
    engine: str = "local",
    spark_master: str | None = None,
    **reader_options: Any,
) -> int:
    """Check the data against a model-quality baseline, write the outputs, print the metrics
    and violations; the exit status (1 with violations, else 0)."""
    try:
        mq = analyze_model_quality(
            inputs,
            baseline_dir,
            problem_type,
            inference_attribute,
            ground_truth_attribute,
            probability_attribute,
            probability_threshold,
            positive_label,
            engine=engine,
            spark_master=spark_master,
            **reader_options,
        )
        mq.save(output)
    except (VigilError, LookupError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    table(
        f"{mq.statistics.dataset.item_count:,} rows",
        ("metric", "value"),
        [(key, f"{value:.6g}") for key, value in mq.metrics.items()],
    )
    for v in mq.violations:
        line((str(v.metric_name), "red"), f": {v.description}")
    line(violation_status(len(mq.violations)), f"; outputs in {output}")
    return 1 if mq.violations else 0
