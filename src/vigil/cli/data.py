"""``vigil baseline`` and ``vigil analyze``: the data commands, which need no server, database
or HTTP client (a test checks they import none). With ``--problem-type`` they hand over to
:mod:`vigil.cli.model_quality`."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from vigil.analysis.baseline import Baseline, suggest_baseline
from vigil.analysis.data_quality import Analysis
from vigil.analysis.data_quality import analyze as run_analysis
from vigil.checks.anomaly.options import DEFAULT_TOP, METHODS, AnomalyOptions
from vigil.checks.drift import CORRECTIONS, method_names
from vigil.cli.common import Part, err, fail, line, table, violation_status
from vigil.errors import ConfigError, VigilError
from vigil.io.readers import BadRecords, resolve_inputs
from vigil.locations import join_location

app = typer.Typer()

PROGRESS_MIN_BYTES = 8 << 20
# the choices of the drift options, as the registry of drift methods lists them
SAGEMAKER_NUMERIC = "|".join(method_names("numerical", origin="sagemaker"))
SAGEMAKER_CATEGORICAL = "|".join(method_names("categorical", origin="sagemaker"))
PER_FEATURE = "|".join(method_names(origin="evidently"))

InputsArg = Annotated[list[str], typer.Argument(help="Files, directories or globs.")]
OutputDirOpt = Annotated[
    str, typer.Option("--output", "-o", help="Directory (or s3:// prefix) to write to.")
]
FormatOpt = Annotated[str, typer.Option("--format", help="auto|csv|parquet|jsonl|capture")]
HeaderOpt = Annotated[
    bool, typer.Option("--header/--no-header", help="CSV has a header row (else _c0, _c1, ...).")
]
CaptureOpt = Annotated[
    str, typer.Option("--capture-content", help="capture files: input|output|both columns")
]
ProblemOpt = Annotated[
    str | None,
    typer.Option(
        "--problem-type",
        help="Model quality: BinaryClassification|MulticlassClassification|Regression",
    ),
]
InferenceOpt = Annotated[
    str | None, typer.Option("--inference-attribute", help="Model quality: the prediction column.")
]
ProbabilityOpt = Annotated[
    str | None,
    typer.Option(
        "--probability-attribute", help="Model quality: the positive-class probability column."
    ),
]
GroundTruthOpt = Annotated[
    str | None, typer.Option("--ground-truth-attribute", help="Model quality: the label column.")
]
ThresholdOpt = Annotated[
    float, typer.Option("--probability-threshold", help="Model quality: binary cut-off.")
]
PositiveOpt = Annotated[
    str | None, typer.Option("--positive-label", help="Model quality: the positive class.")
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="CSV field separator: one character, or tab|space|semicolon|comma|pipe "
        "(default ',', tab for .tsv).",
    ),
]
EncodingOpt = Annotated[
    str, typer.Option("--encoding", help="Text encoding of the inputs, such as latin-1.")
]
EngineOpt = Annotated[
    str, typer.Option("--engine", help="Where to profile: local|spark.")
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark master URL with --engine spark, or sc://HOST:PORT for Spark Connect "
        "(default $VIGIL_SPARK_MASTER, else local[*]).",
    ),
]
ProgressOpt = Annotated[
    bool | None, typer.Option("--progress/--no-progress", help="Force the progress bar on or off.")
]


def _write_error(output: str, exc: OSError) -> typer.Exit:
    """An output directory that cannot be written: one line, exit 2."""
    where = exc.filename or output
    return fail(f"--output {output}: cannot write {where}: {exc.strerror or exc}")


def _input_rows(inputs: list[str]) -> tuple[int | None, int]:
    """Total rows when known (Parquet metadata) and total bytes of the inputs."""
    files = resolve_inputs(inputs)
    size = sum(p.stat().st_size for p in files)
    rows = 0
    for p in files:
        if p.suffix.lower() not in (".parquet", ".pq"):
            return None, size
        rows += pq.ParquetFile(p).metadata.num_rows
    return rows, size


@contextlib.contextmanager
def _progress(inputs: list[str], force: bool | None) -> Iterator[Callable[[int], None] | None]:
    total, size = _input_rows(inputs)
    show = force if force is not None else (err.is_terminal and size >= PROGRESS_MIN_BYTES)
    if not show:
        yield None
        return
    columns = [
        TextColumn("[bold]profiling"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
    ]
    console = Console(stderr=True) if force is None else Console(stderr=True, force_terminal=True)
    with Progress(*columns, console=console, transient=force is None) as bar:
        task = bar.add_task("rows", total=total)
        yield lambda n: bar.advance(task, n)


def _print_bad(bad: BadRecords) -> None:
    if not bad.count:
        return
    line((f"skipped {bad.count} bad record(s)", "yellow"), "; first:", stderr=True)
    for example in bad.examples[:5]:
        line(f"  {example}", stderr=True)


def _options(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _feature_drift(specs: list[str]) -> dict[str, str | tuple[str, float]]:
    result: dict[str, str | tuple[str, float]] = {}
    for spec in specs:
        name, _, rest = spec.partition("=")
        method, _, threshold = rest.partition(":")
        number = _number(threshold) if threshold else None
        if not name or not method or (threshold and number is None) or rest.endswith(":"):
            raise ConfigError(f"--feature-drift {spec!r}: expected FEATURE=METHOD[:THRESHOLD]")
        if number is not None and (not math.isfinite(number) or number < 0):
            raise ConfigError(
                f"--feature-drift {spec!r}: the threshold must be a finite number >= 0"
            )
        result[name] = (method, number) if number is not None else method
    return result


@app.command()
def baseline(
    inputs: InputsArg,
    output: OutputDirOpt,
    format: FormatOpt = "auto",
    header: HeaderOpt = True,
    comparison_threshold: Annotated[
        float | None, typer.Option(help="Numeric drift threshold.")
    ] = None,
    comparison_method: Annotated[str | None, typer.Option(help=SAGEMAKER_NUMERIC)] = None,
    categorical_comparison_threshold: Annotated[float | None, typer.Option()] = None,
    categorical_drift_method: Annotated[
        str | None, typer.Option(help=SAGEMAKER_CATEGORICAL)
    ] = None,
    drift_method: Annotated[
        str | None,
        typer.Option(help=f"{PER_FEATURE} for every feature"),
    ] = None,
    drift_threshold: Annotated[
        float | None, typer.Option(help="Threshold of --drift-method.")
    ] = None,
    feature_drift: Annotated[
        list[str] | None, typer.Option(help="FEATURE=METHOD[:THRESHOLD], repeatable")
    ] = None,
    multiple_testing_correction: Annotated[
        str | None, typer.Option(help="|".join(CORRECTIONS))
    ] = None,
    datatype_check_threshold: Annotated[float | None, typer.Option()] = None,
    domain_content_threshold: Annotated[float | None, typer.Option()] = None,
    capture_content: CaptureOpt = "input",
    delimiter: DelimiterOpt = None,
    encoding: EncodingOpt = "utf-8",
    progress: ProgressOpt = None,
    problem_type: ProblemOpt = None,
    inference_attribute: InferenceOpt = None,
    probability_attribute: ProbabilityOpt = None,
    ground_truth_attribute: GroundTruthOpt = None,
    probability_threshold: ThresholdOpt = 0.5,
    positive_label: PositiveOpt = None,
    tolerance: Annotated[
        float, typer.Option(help="Model quality: relative margin of the suggested thresholds.")
    ] = 0.05,
    anomaly_detection: Annotated[
        bool, typer.Option(help="Also fit an outlier model (anomaly_model.json).")
    ] = False,
    anomaly_method: Annotated[str, typer.Option(help="|".join(METHODS))] = METHODS[0],
    anomaly_contamination: Annotated[
        float | None,
        typer.Option(help="Share of training records above the threshold (default 0.01)."),
    ] = None,
    anomaly_quantile: Annotated[
        float | None, typer.Option(help="Instead: the training score quantile of the threshold.")
    ] = None,
    anomaly_max_share: Annotated[
        float | None,
        typer.Option(help="Tolerated share of anomalous records (default 2 x contamination)."),
    ] = None,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Profile training data; write statistics.json and constraints.json (data quality, or
    model quality with --problem-type)."""
    if problem_type is not None:
        # lazy: the model-quality modules (about 20, ~12 ms) load only with --problem-type,
        # not on every data-quality run
        from vigil.cli import model_quality

        model_quality.write_baseline(
            inputs,
            output,
            problem_type,
            inference_attribute,
            ground_truth_attribute or "label",
            probability_attribute,
            probability_threshold,
            positive_label,
            tolerance,
            format=format,
            header=header,
            delimiter=delimiter,
            encoding=encoding,
            engine=engine,
            spark_master=spark_master,
        )
        return
    try:
        opts = _options(
            comparison_threshold=comparison_threshold,
            comparison_method=comparison_method,
            categorical_comparison_threshold=categorical_comparison_threshold,
            categorical_drift_method=categorical_drift_method,
            drift_method=drift_method,
            drift_threshold=drift_threshold,
            multiple_testing_correction=multiple_testing_correction,
            datatype_check_threshold=datatype_check_threshold,
            domain_content_threshold=domain_content_threshold,
        )
        if feature_drift:
            opts["feature_drift"] = _feature_drift(feature_drift)
        anomaly: bool | AnomalyOptions = False
        if anomaly_detection:
            anomaly = AnomalyOptions(
                method=anomaly_method,
                contamination=anomaly_contamination,
                quantile=anomaly_quantile,
                max_share=anomaly_max_share,
            )
        elif {anomaly_contamination, anomaly_quantile, anomaly_max_share} != {None} or (
            anomaly_method != METHODS[0]
        ):
            raise ConfigError("the --anomaly-* options need --anomaly-detection")
        with _progress(inputs, progress) as tick:
            result = suggest_baseline(
                inputs,
                format=format,
                header=header,
                capture_content=capture_content,
                progress=tick,
                delimiter=delimiter,
                encoding=encoding,
                anomaly=anomaly,
                engine=engine,
                spark_master=spark_master,
                **opts,
            )
        result.save(output)
    except VigilError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise _write_error(output, exc) from None
    _print_bad(result.bad_records)
    stats = result.statistics
    line(
        f"baseline of {stats.dataset.item_count:,} rows, {len(stats.features)} features "
        f"written to {join_location(output, 'statistics.json')} and "
        f"{join_location(output, 'constraints.json')}"
    )
    model = result.anomaly_model
    if model is not None:
        line(
            f"anomaly model ({model.method}, {len(model.columns)} columns, threshold "
            f"{model.threshold:.6g}, contamination {model.contamination:g}) written to "
            f"{join_location(output, 'anomaly_model.json')}"
        )


@app.command()
def analyze(
    inputs: InputsArg,
    baseline_dir: Annotated[
        str,
        typer.Option(
            "--baseline",
            "-b",
            help="Directory (or s3:// prefix) with statistics.json and constraints.json.",
        ),
    ],
    output: OutputDirOpt,
    format: FormatOpt = "auto",
    header: HeaderOpt = True,
    capture_content: CaptureOpt = "input",
    delimiter: DelimiterOpt = None,
    encoding: EncodingOpt = "utf-8",
    progress: ProgressOpt = None,
    problem_type: ProblemOpt = None,
    inference_attribute: InferenceOpt = None,
    probability_attribute: ProbabilityOpt = None,
    ground_truth_attribute: GroundTruthOpt = None,
    probability_threshold: ThresholdOpt = 0.5,
    positive_label: PositiveOpt = None,
    anomaly_top: Annotated[
        int, typer.Option(min=0, help="Top records by anomaly score in anomalies.json.")
    ] = DEFAULT_TOP,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Check data against a baseline; write statistics, violations and report.html (data
    quality), or the model-quality statistics and violations with --problem-type."""
    if problem_type is not None:
        from vigil.cli import model_quality  # lazy: only with --problem-type, as in baseline

        raise typer.Exit(
            model_quality.write_analysis(
                inputs,
                baseline_dir,
                output,
                problem_type,
                inference_attribute,
                ground_truth_attribute or "label",
                probability_attribute,
                probability_threshold,
                positive_label,
                format=format,
                header=header,
                delimiter=delimiter,
                encoding=encoding,
                engine=engine,
                spark_master=spark_master,
            )
        )
    try:
        base = Baseline.load(baseline_dir)
        with _progress(inputs, progress) as tick:
            result = run_analysis(
                inputs,
                base,
                format=format,
                header=header,
                capture_content=capture_content,
                progress=tick,
                delimiter=delimiter,
                encoding=encoding,
                anomaly_top=anomaly_top,
                engine=engine,
                spark_master=spark_master,
            )
        result.save(output)
    except VigilError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise _write_error(output, exc) from None
    _print_summary(result, output)
    raise typer.Exit(1 if result.has_violations else 0)


def _print_summary(result: Analysis, output: str) -> None:
    by_feature: dict[str, list[str]] = {}
    for v in result.violations:
        by_feature.setdefault(v.feature_name or "", []).append(v.constraint_check_type)
    rows: list[tuple[Part, ...]] = []
    for f in result.statistics.features:
        r = result.drift.get(f.name)
        rows.append(
            (
                f.name,
                f.inferred_type,
                r.method if r else "-",
                f"{r.value:.4g}" if r else "-",
                f"{r.threshold:g}" if r else "-",
                (("yes", "red") if r.drifted else "no") if r else "-",
                ", ".join(by_feature.get(f.name, [])) or "-",
            )
        )
    for name, checks in by_feature.items():
        if result.statistics.feature(name) is None:
            rows.append((name, "-", "-", "-", "-", "-", ", ".join(checks)))
    table(
        f"{result.item_count:,} rows analysed",
        ("feature", "type", "drift method", "value", "threshold", "drift", "violations"),
        rows,
    )
    _print_bad(result.bad_records)
    a = result.anomalies
    if a is not None:
        line(
            (f"anomaly share {a.share:.2%}", "red" if a.exceeded else "green"),
            f" ({a.anomalous_count:,} of {a.record_count:,} records; tolerated "
            f"{a.max_share:.2%}): {join_location(output, 'anomalies.json')}",
        )
    line(
        violation_status(len(result.violations)),
        f"; dataset drift share {result.drift_share:.0%}; report: "
        f"{join_location(output, 'report.html')}",
    )
