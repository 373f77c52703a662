"""The ``vigil`` command line.

Exit status: 0 when an analysis finds no violation, 1 when it finds violations, 2 for bad
usage or unreadable input (one line on stderr saying what was expected).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.errors import VigilError
from vigil.io.readers import BadRecords

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Vigil: self-hosted model monitoring (SageMaker Model Monitor compatible).",
    pretty_exceptions_enable=False,
)
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

PROGRESS_MIN_BYTES = 8 << 20

InputsArg = Annotated[list[str], typer.Argument(help="Files, directories or globs.")]
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
ProgressOpt = Annotated[
    bool | None, typer.Option("--progress/--no-progress", help="Force the progress bar on or off.")
]


def _fail(message: str) -> typer.Exit:
    err.print(f"vigil: error: {message}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(2)


def _input_rows(inputs: list[str]) -> tuple[int | None, int]:
    """Total rows when known (Parquet metadata) and total bytes of the inputs."""
    import pyarrow.parquet as pq

    from vigil.io.readers import resolve_inputs

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
    console = err if force is None else Console(stderr=True, force_terminal=True)
    with Progress(*columns, console=console, transient=force is None) as bar:
        task = bar.add_task("rows", total=total)
        yield lambda n: bar.advance(task, n)


def _print_bad(bad: BadRecords) -> None:
    if not bad.count:
        return
    err.print(f"[yellow]skipped {bad.count} bad record(s)[/yellow]; first:", highlight=False)
    for example in bad.examples[:5]:
        err.print(f"  {example}", highlight=False, markup=False)


def _options(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _feature_drift(specs: list[str]) -> dict[str, str | tuple[str, float]]:
    result: dict[str, str | tuple[str, float]] = {}
    for spec in specs:
        name, _, rest = spec.partition("=")
        if not name or not rest:
            raise VigilError(f"--feature-drift {spec!r}: expected FEATURE=METHOD[:THRESHOLD]")
        method, _, threshold = rest.partition(":")
        result[name] = (method, float(threshold)) if threshold else method
    return result


@app.command()
def baseline(
    inputs: InputsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write to.")],
    format: FormatOpt = "auto",
    header: HeaderOpt = True,
    comparison_threshold: Annotated[
        float | None, typer.Option(help="Numeric drift threshold.")
    ] = None,
    comparison_method: Annotated[str | None, typer.Option(help="Robust|Simple")] = None,
    categorical_comparison_threshold: Annotated[float | None, typer.Option()] = None,
    categorical_drift_method: Annotated[
        str | None, typer.Option(help="LInfinity|ChiSquared")
    ] = None,
    drift_method: Annotated[
        str | None,
        typer.Option(
            help="ks|psi|jensen_shannon|wasserstein|hellinger|chi_squared|auto for every feature"
        ),
    ] = None,
    drift_threshold: Annotated[
        float | None, typer.Option(help="Threshold of --drift-method.")
    ] = None,
    feature_drift: Annotated[
        list[str] | None, typer.Option(help="FEATURE=METHOD[:THRESHOLD], repeatable")
    ] = None,
    multiple_testing_correction: Annotated[
        str | None, typer.Option(help="none|bonferroni|fdr")
    ] = None,
    datatype_check_threshold: Annotated[float | None, typer.Option()] = None,
    domain_content_threshold: Annotated[float | None, typer.Option()] = None,
    capture_content: CaptureOpt = "input",
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
) -> None:
    """Profile training data; write statistics.json and constraints.json (data quality, or
    model quality with --problem-type)."""
    from vigil.analysis.baseline import suggest_baseline

    if problem_type is not None:
        from vigil.analysis.model_quality import suggest_model_quality_baseline

        try:
            mq = suggest_model_quality_baseline(
                inputs,
                problem_type,
                inference_attribute,
                ground_truth_attribute or "label",
                probability_attribute,
                probability_threshold,
                positive_label,
                tolerance,
                format=format,
                header=header,
            )
            mq.save(output)
            if probability_attribute and mq.statistics.problem_type == "BinaryClassification":
                from vigil.analysis.estimation import fit_cbpe, save_cbpe

                save_cbpe(
                    output,
                    fit_cbpe(
                        inputs,
                        ground_truth_attribute or "label",
                        probability_attribute,
                        positive_label,
                        probability_threshold,
                        format=format,
                        header=header,
                    ),
                )
        except (VigilError, LookupError) as exc:
            raise _fail(str(exc)) from None
        out.print(
            f"model-quality baseline ({mq.statistics.problem_type}, "
            f"{mq.statistics.dataset.item_count:,} rows) written to "
            f"{output}/statistics.json and {output}/constraints.json",
            highlight=False,
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
        with _progress(inputs, progress) as tick:
            result = suggest_baseline(
                inputs,
                format=format,
                header=header,
                capture_content=capture_content,
                progress=tick,
                **opts,
            )
        result.save(output)
    except VigilError as exc:
        raise _fail(str(exc)) from None
    _print_bad(result.bad_records)
    stats = result.statistics
    out.print(
        f"baseline of {stats.dataset.item_count:,} rows, {len(stats.features)} features "
        f"written to {output}/statistics.json and {output}/constraints.json",
        highlight=False,
    )


@app.command()
def analyze(
    inputs: InputsArg,
    baseline_dir: Annotated[
        Path,
        typer.Option(
            "--baseline", "-b", help="Directory with statistics.json and constraints.json."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write to.")],
    format: FormatOpt = "auto",
    header: HeaderOpt = True,
    capture_content: CaptureOpt = "input",
    progress: ProgressOpt = None,
    problem_type: ProblemOpt = None,
    inference_attribute: InferenceOpt = None,
    probability_attribute: ProbabilityOpt = None,
    ground_truth_attribute: GroundTruthOpt = None,
    probability_threshold: ThresholdOpt = 0.5,
    positive_label: PositiveOpt = None,
) -> None:
    """Check data against a baseline; write statistics, violations and report.html (data
    quality), or the model-quality statistics and violations with --problem-type."""
    from vigil.analysis.baseline import Baseline
    from vigil.analysis.data_quality import analyze as run_analysis

    if problem_type is not None:
        from vigil.analysis.model_quality import analyze_model_quality

        try:
            mq = analyze_model_quality(
                inputs,
                baseline_dir,
                problem_type,
                inference_attribute,
                ground_truth_attribute or "label",
                probability_attribute,
                probability_threshold,
                positive_label,
                format=format,
                header=header,
            )
            mq.save(output)
        except (VigilError, LookupError) as exc:
            raise _fail(str(exc)) from None
        table = Table(title=f"{mq.statistics.dataset.item_count:,} rows", title_justify="left")
        for col in ("metric", "value"):
            table.add_column(col)
        for key, value in mq.metrics.items():
            table.add_row(key, f"{value:.6g}")
        out.print(table)
        for v in mq.violations:
            out.print(f"[red]{v.metric_name}[/red]: {v.description}", highlight=False)
        status = (
            f"[red]{len(mq.violations)} violation(s)[/red]"
            if mq.violations
            else "[green]no violations[/green]"
        )
        out.print(f"{status}; outputs in {output}", highlight=False)
        raise typer.Exit(1 if mq.violations else 0)
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
            )
        result.save(output)
    except VigilError as exc:
        raise _fail(str(exc)) from None
    _print_summary(result, output)
    raise typer.Exit(1 if result.has_violations else 0)


token_app = typer.Typer(help="API tokens (stored hashed; the secret is shown once).")
monitor_app = typer.Typer(help="Run monitoring executions outside the server's scheduler.")
app.add_typer(token_app, name="token")
app.add_typer(monitor_app, name="monitor")
alarm_app = typer.Typer(help="Alarms over metrics (CloudWatch semantics).")
app.add_typer(alarm_app, name="alarm")
action_app = typer.Typer(help="Action runs started by rules (workflows, commands, calls).")
app.add_typer(action_app, name="action")
delivery_app = typer.Typer(help="Notification delivery: dead letters and redrive.")
app.add_typer(delivery_app, name="delivery")
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="State directory (default $VIGIL_DATA_DIR or ./vigil-data)."),
]


def _runtime(data_dir: Path | None) -> Any:
    from vigil.app.bootstrap import open_database, worker_id
    from vigil.monitor.runner import Runtime
    from vigil.store.metrics import MetricStore
    from vigil.store.settings import Settings

    settings = Settings.from_env(data_dir)
    db = open_database(settings)
    return Runtime(settings=settings, db=db, metrics=MetricStore(db), owner=worker_id())


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDirOpt = None,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Run the in-process scheduler.")
    ] = True,
) -> None:
    """Serve the REST API (OpenAPI at /docs) with the in-process scheduler."""
    import uvicorn

    from vigil.server.app import create_app
    from vigil.store.settings import Settings

    settings = Settings.from_env(data_dir)
    api = create_app(settings, start_scheduler=scheduler)
    out.print(
        f"vigil server on http://{host}:{port} (data: {settings.data_dir}, "
        f"OpenAPI: http://{host}:{port}/docs)",
        highlight=False,
    )
    uvicorn.run(api, host=host, port=port, log_level="warning")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A unique name for the token.")],
    scopes: Annotated[str, typer.Option("--scopes", help="read,write,admin")] = "read",
    data_dir: DataDirOpt = None,
) -> None:
    """Create a token and print its secret (stored hashed: shown only now)."""
    from vigil.server.auth import create_token

    try:
        rt = _runtime(data_dir)
        secret = create_token(rt.db, name, scopes)
    except VigilError as exc:
        raise _fail(str(exc)) from None
    print(secret)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Option("--name")], data_dir: DataDirOpt = None) -> None:
    """Revoke a token by name."""
    from vigil.server.auth import revoke_token

    if not revoke_token(_runtime(data_dir).db, name):
        raise _fail(f"no token named {name!r}")
    out.print(f"revoked {name}")


def _parse_time(text: str | None, option: str) -> Any:
    if text is None:
        return None
    from datetime import datetime, timezone

    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(
            f"{option} {text!r}: expected an ISO-8601 time such as 2024-05-01T12:00:00Z"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _print_execution(ex: Any) -> None:
    out.print(
        f"{ex.id} {ex.schedule_name} [{ex.window_start:%Y-%m-%dT%H:%M}Z, "
        f"{ex.window_end:%Y-%m-%dT%H:%M}Z) {ex.status}"
        + (f": {ex.failure_reason}" if ex.failure_reason else "")
        + (f" -> {ex.output_uri}" if ex.output_uri else ""),
        highlight=False,
    )


@monitor_app.command("run")
def monitor_run(
    schedule: Annotated[str, typer.Argument(help="Schedule name.")],
    window_start: Annotated[
        str | None, typer.Option(help="ISO-8601 start (with --window-end).")
    ] = None,
    window_end: Annotated[str | None, typer.Option(help="ISO-8601 end.")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run one execution now (for an external scheduler such as cron)."""
    from datetime import datetime, timezone

    from vigil.monitor.runner import run_scheduled

    start, end = (
        _parse_time(window_start, "--window-start"),
        _parse_time(window_end, "--window-end"),
    )
    if (start is None) != (end is None):
        raise _fail("give both --window-start and --window-end, or neither")
    try:
        rt = _runtime(data_dir)
        done = run_scheduled(
            rt, schedule, end or datetime.now(timezone.utc), window=(start, end) if start else None
        )
    except (VigilError, LookupError) as exc:
        raise _fail(str(exc)) from None
    if done is None:
        raise _fail(f"an execution of {schedule!r} for that window exists already")
    _print_execution(done)
    raise typer.Exit(0 if done.status == "Completed" else 1)


@monitor_app.command("backfill")
def monitor_backfill(
    schedule: Annotated[str, typer.Argument(help="Schedule name.")],
    start: Annotated[str, typer.Option("--start", help="ISO-8601 start of the range.")],
    end: Annotated[str, typer.Option("--end", help="ISO-8601 end of the range.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Run every scheduled window whose fire time falls in (start, end]."""
    from vigil.monitor.runner import run_scheduled
    from vigil.schedule import parse_schedule
    from vigil.store.models import Schedule

    t0, t1 = _parse_time(start, "--start"), _parse_time(end, "--end")
    try:
        rt = _runtime(data_dir)
        with rt.db.session() as s:
            row = s.get(Schedule, schedule)
            if row is None:
                raise _fail(f"no schedule named {schedule!r}")
            expression = parse_schedule(row.expression)
        statuses: dict[str, int] = {}
        for t in expression.fires_between(t0, t1):
            done = run_scheduled(rt, schedule, t)
            if done is not None:
                _print_execution(done)
                statuses[done.status] = statuses.get(done.status, 0) + 1
    except VigilError as exc:
        raise _fail(str(exc)) from None
    out.print(
        ", ".join(f"{n} {k}" for k, n in sorted(statuses.items())) or "nothing to run",
        highlight=False,
    )


@alarm_app.command("evaluate")
def alarm_evaluate(
    at: Annotated[str | None, typer.Option("--at", help="ISO-8601 time (default: now).")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Evaluate every alarm once and print the transitions."""
    from datetime import datetime, timezone

    from vigil.alerts.notify import make_outbox
    from vigil.app.scheduler import alarms_and_notifications

    when = _parse_time(at, "--at") or datetime.now(timezone.utc)
    rt = _runtime(data_dir)
    outbox = make_outbox(rt.db)
    found = alarms_and_notifications(rt, outbox, when)
    counts = outbox.deliver_due(datetime.now(timezone.utc))
    for t in found:
        out.print(
            f"{t.alarm}: {t.old_state} -> {t.new_state}: {t.reason}", highlight=False, markup=False
        )
    out.print(
        f"{len(found)} transition(s) at {when.isoformat()}; notifications delivered "
        f"{counts.delivered}, retrying {counts.retrying}, dead {counts.dead}",
        highlight=False,
    )


@alarm_app.command("list")
def alarm_list(data_dir: DataDirOpt = None) -> None:
    """Every alarm with its state."""
    from sqlalchemy import select

    from vigil.store.models import AlarmRecord

    with _runtime(data_dir).db.session() as s:
        for r in s.scalars(select(AlarmRecord).order_by(AlarmRecord.name)):
            out.print(f"{r.name}  {r.state}  {r.state_reason}", highlight=False, markup=False)


@alarm_app.command("history")
def alarm_history_cmd(name: Annotated[str, typer.Argument()], data_dir: DataDirOpt = None) -> None:
    """An alarm's transitions, newest first."""
    from vigil.alerts.service import history

    for h in history(_runtime(data_dir).db, name):
        out.print(
            f"{h.time.isoformat()}  {h.old_state} -> {h.new_state}  {h.reason}",
            highlight=False,
            markup=False,
        )


@action_app.command("runs")
def action_runs(
    rule: Annotated[str | None, typer.Option()] = None,
    workflow: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Recent action runs, newest first."""
    from vigil.actions.records import list_runs

    for r in list_runs(_runtime(data_dir).db, rule=rule, workflow=workflow, status=status):
        out.print(
            f"{r.id}  {r.rule or '-'}  {r.workflow or r.target_type}  {r.status}  "
            f"{r.started_at:%Y-%m-%dT%H:%M:%SZ}" + (f"  {r.error}" if r.error else ""),
            highlight=False,
            markup=False,
        )


@action_app.command("show")
def action_show(run_id: Annotated[str, typer.Argument()], data_dir: DataDirOpt = None) -> None:
    """One run with every step attempt (input, output, error, stdout)."""
    import json

    from vigil.actions.records import get_run, list_attempts, run_to_dict

    db = _runtime(data_dir).db
    try:
        data = run_to_dict(get_run(db, run_id), list_attempts(db, run_id))
    except (VigilError, LookupError) as exc:
        raise _fail(str(exc)) from None
    print(json.dumps(data, indent=2, default=str))


@alarm_app.command("silence")
def alarm_silence(
    matcher: Annotated[list[str], typer.Option("--matcher", help='e.g. alarm=~"drift.*"')],
    hours: Annotated[float, typer.Option(help="How long, from now.")] = 2.0,
    comment: Annotated[str, typer.Option()] = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Mute notifications of matching alarms for a while (resolves already owed still go)."""
    from datetime import datetime, timedelta, timezone

    from vigil.alerts.notify import add_silence

    now = datetime.now(timezone.utc)
    try:
        silence_id = add_silence(
            _runtime(data_dir).db,
            matcher,
            now,
            now + timedelta(hours=hours),
            comment,
            created_by="cli",
        )
    except (VigilError, ValueError) as exc:
        raise _fail(str(exc)) from None
    out.print(
        f"silence {silence_id} until {now + timedelta(hours=hours):%Y-%m-%dT%H:%M:%SZ}",
        highlight=False,
    )


@delivery_app.command("dead-letters")
def delivery_dead_letters(
    subscription: Annotated[str | None, typer.Option()] = None, data_dir: DataDirOpt = None
) -> None:
    """Messages that will not be retried, with their last error."""
    from vigil.alerts.notify import make_outbox

    for r in make_outbox(_runtime(data_dir).db).list_dead_letters(subscription):
        out.print(
            f"{r.id}  {r.subscription}  {r.message_id}  attempts {r.attempt}  {r.last_error}",
            highlight=False,
            markup=False,
        )


@delivery_app.command("redrive")
def delivery_redrive(
    ids: Annotated[list[int] | None, typer.Option("--id", help="Repeatable.")] = None,
    subscription: Annotated[str | None, typer.Option()] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Queue dead letters again (by id, or every one of a subscription)."""
    from vigil.alerts.notify import make_outbox

    if not ids and not subscription:
        raise _fail("give --id (repeatable) or --subscription")
    count = make_outbox(_runtime(data_dir).db).redrive(ids, subscription=subscription)
    out.print(f"redriven {count}", highlight=False)


@app.command("apply")
def apply_cmd(
    file: Annotated[Path, typer.Option("-f", "--file", help="A vigil.yaml file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Create or update endpoints, baselines and schedules from a file (idempotent)."""
    from vigil.app.catalog import apply_config, current_config
    from vigil.app.config import diff_config, load_config

    try:
        desired = load_config(file).resolve_paths(file.resolve().parent)
        rt = _runtime(data_dir)
        plan = (
            diff_config(current_config(rt.db), desired)
            if dry_run
            else apply_config(rt.settings, rt.db, desired)
        )
    except (VigilError, LookupError) as exc:
        raise _fail(str(exc)) from None
    for line in plan.lines():
        out.print(line, highlight=False)
    out.print(("plan: " if dry_run else "") + plan.summary(), highlight=False)


@app.command("export")
def export_cmd(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the current endpoints, baselines and schedules as a vigil.yaml file."""
    from vigil.app.catalog import current_config
    from vigil.app.config import dump_config

    text = dump_config(current_config(_runtime(data_dir).db))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err.print(f"wrote {output}", highlight=False)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write.")] = Path(
        "demo-output"
    ),
    port: Annotated[int, typer.Option(help="API port (another is used when busy).")] = 8080,
    exit_after: Annotated[bool, typer.Option("--exit", help="Exit when the demo is done.")] = False,
) -> None:
    """The whole platform on embedded defaults: server, captured traffic that drifts,
    scheduled executions turning CompletedWithViolations."""
    from vigil.demo import run

    raise typer.Exit(run(output, port=port, keep_running=not exit_after))


def _print_summary(result: Any, output: Path) -> None:
    table = Table(title=f"{result.item_count:,} rows analysed", title_justify="left")
    for col in ("feature", "type", "drift method", "value", "threshold", "drift", "violations"):
        table.add_column(col)
    by_feature: dict[str, list[str]] = {}
    for v in result.violations:
        by_feature.setdefault(v.feature_name or "", []).append(v.constraint_check_type)
    for f in result.statistics.features:
        r = result.drift.get(f.name)
        table.add_row(
            f.name,
            f.inferred_type,
            r.method if r else "-",
            f"{r.value:.4g}" if r else "-",
            f"{r.threshold:g}" if r else "-",
            ("[red]yes[/red]" if r.drifted else "no") if r else "-",
            ", ".join(by_feature.get(f.name, [])) or "-",
        )
    for name, checks in by_feature.items():
        if result.statistics.feature(name) is None:
            table.add_row(name, "-", "-", "-", "-", "-", ", ".join(checks))
    out.print(table)
    _print_bad(result.bad_records)
    status = (
        f"[red]{len(result.violations)} violation(s)[/red]"
        if result.violations
        else "[green]no violations[/green]"
    )
    out.print(
        f"{status}; dataset drift share {result.drift_share:.0%}; report: {output / 'report.html'}",
        highlight=False,
    )


def _tune_allocator() -> None:
    """Keep big numpy temporaries on glibc's heap instead of fresh mmaps: each chunk's
    temporaries then reuse warm pages rather than page-faulting new ones (~25% faster)."""
    if os.environ.get("VIGIL_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD


def main() -> None:
    """Entry point of the ``vigil`` script.

    The process ends with ``os._exit`` once its output is flushed: tearing down the
    interpreter (freeing every array and module) would add tens of milliseconds to each run.
    """
    _tune_allocator()
    code: int = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            err.print(exc.code, markup=False)
    except VigilError as exc:  # pragma: no cover - commands catch their own
        err.print(f"vigil: error: {exc}", markup=False)
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
