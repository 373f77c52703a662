"""``vigil explain``: SHAP explanations of a model on data, written as Clarify writes them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vigil.cli.common import err, fail, line, table
from vigil.errors import VigilError
from vigil.locations import join_location

app = typer.Typer()


class AlgorithmChoice(str, Enum):
    """Which algorithm: an exact one where it gives the same values, or Kernel SHAP."""

    auto = "auto"
    kernel = "kernel"
    exact = "exact"


@contextlib.contextmanager
def _bar(force: bool | None) -> Iterator[Callable[[int, int], None] | None]:
    show = force if force is not None else err.is_terminal
    if not show:
        yield None
        return
    console = Console(stderr=True) if force is None else Console(stderr=True, force_terminal=True)
    columns = [TextColumn("[bold]explaining"), BarColumn(), MofNCompleteColumn(),
               TextColumn("records"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=force is None) as bar:
        task = bar.add_task("records", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def explain(
    inputs: Annotated[list[str], typer.Argument(help="Data files, directories or globs.")],
    config: Annotated[
        str, typer.Option("--config", "-c", help="Clarify's analysis_config.json (or s3:// URL).")
    ],
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m",
            help="A joblib/pickle model file (scikit-learn, XGBoost, LightGBM), "
            "module:callable, or an http(s):// endpoint URL.",
        ),
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Directory (or s3:// prefix) to write to.")
    ],
    algorithm: Annotated[
        AlgorithmChoice,
        typer.Option(help="auto: exact tree/linear SHAP where it gives the same values."),
    ] = AlgorithmChoice.auto,
    time_budget: Annotated[
        float,
        typer.Option(help="Seconds; stop early with an estimate when the job would pass it "
                     "(0: no limit)."),
    ] = 3600.0,
    format: Annotated[str, typer.Option("--format", help="auto|csv|parquet|jsonl")] = "auto",
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Force the bar on or off.")
    ] = None,
) -> None:
    """SHAP explanations of a model on data; write analysis.json (Clarify's explanations)
    and explanations_shap/out.csv."""
    # lazy: the explanation stack (numpy work, the model's packages) only for this command
    from vigil.app.explain import explain as run

    try:
        with _bar(progress) as tick:
            result = run(
                inputs, config, model, output=output, algorithm=algorithm.value,
                progress=tick, time_budget=time_budget or None, format=format,
            )
    except VigilError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    for note in result.notes:
        line((note, "yellow"), stderr=True)
    how = "exact" if result.exact else f"{result.num_samples} sampled coalitions"
    for lab in result.labels:
        ranked = sorted(lab.global_shap_values.items(), key=lambda kv: -abs(kv[1]))
        table(
            f"{lab.label}: expected value {lab.expected_value:.6g} ({result.agg_method})",
            ("feature", "global SHAP value"),
            [(name, f"{value:.6g}") for name, value in ranked],
        )
    written = join_location(output, "analysis.json")
    line(f"{len(result.labels[0].local):,} records explained by {result.algorithm} ({how}, "
         f"{len(result.baseline)} baseline row(s)); written to {written}")
