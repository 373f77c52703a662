"""``vigil run --job NAME [--metric-definition NAME=REGEX]... -- COMMAND...``: a training job."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, fail
from vigil.errors import VigilError

app = typer.Typer(name="run")


@app.command(
    "run", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True}
)
def run(
    command: Annotated[list[str], typer.Argument(help="The program and its arguments (after --).")],
    job: Annotated[str, typer.Option("--job", help="The training job's name.")],
    metric_definition: Annotated[
        list[str] | None,
        typer.Option(
            "--metric-definition",
            help="NAME=REGEX (SageMaker's metric definition: the first capture group is the "
            "value). Repeatable.",
        ),
    ] = None,
    hyperparameter: Annotated[
        list[str] | None, typer.Option("--hyperparameter", help="KEY=VALUE. Repeatable.")
    ] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="Report to this server (default $VIGIL_SERVER).")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="Its token, ingest scope ($VIGIL_TOKEN).")
    ] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Run a training program as a training job: stream its output through, apply metric
    definitions to it, record exit status, duration, CPU and memory, and store the log."""
    # lazy: the job machinery (psutil, the store) only for this command
    from vigil.app.training_run import run_job
    from vigil.app.training_sdk import backend
    from vigil.cli.remote import chosen

    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.jobs import parse_definition

    try:
        definitions = [parse_definition(d) for d in metric_definition or []]
        params = {}
        for item in hyperparameter or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise fail(f"--hyperparameter {item!r}: expected KEY=VALUE")
            params[key.strip()] = value
        if not command:
            raise fail("COMMAND: expected the program to run after --")
        given = chosen()  # ``vigil --server URL --token T run ...``
        if given is not None and not server and not data_dir:
            server, token = given.url, token or given.token
        target = backend(server, token, data_dir)
    except VigilError as exc:
        raise fail(exc.message) from None
    try:
        result = run_job(
            command, name=job, definitions=definitions, backend=target, hyperparameters=params
        )
    except FileNotFoundError as exc:
        raise fail(f"COMMAND {command[0]!r}: {exc.strerror}") from None
    except VigilError as exc:
        raise fail(exc.message) from None
    if output is OutputFormat.json:
        doc = {
            "run_id": result.run_id,
            "status": result.status,
            "exit_code": result.exit_code,
            "definitions": [
                {"name": c.name, "matched": c.matched, "unparsable": c.unparsable,
                 "non_finite": c.non_finite}
                for c in result.counts
            ],
        }
        print(json.dumps(doc), file=sys.stderr)
    else:
        print(f"vigil: job {job} run {result.run_id}: {result.status}", file=sys.stderr)
        for counts in result.counts:
            print(f"vigil: {counts.summary()}", file=sys.stderr)
    raise typer.Exit(result.exit_code)
