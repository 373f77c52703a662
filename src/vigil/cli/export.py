"""``vigil export``: the catalog as a ``vigil.yaml`` file (with ``--server``, the server's,
from ``GET /api/v1/config/export``), and ``vigil export grafana``: Grafana
dashboards over what ``GET /metrics`` exposes (:mod:`vigil.app.grafana`)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.common import DataDirOpt, emit_json, fail, line
from vigil.errors import VigilError

app = typer.Typer(name="export", invoke_without_command=True, no_args_is_help=False)


@app.callback()
def export_catalog(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    data_dir: DataDirOpt = None,
    show_secrets: Annotated[
        bool,
        typer.Option(
            "--show-secrets",
            help="Write secrets themselves instead of ${env:NAME} references or ***.",
        ),
    ] = False,
) -> None:
    """Write the current catalog as a vigil.yaml file; each secret is written as the
    ${env:NAME} reference it came from, else as ***, unless --show-secrets. 'vigil export
    grafana' writes Grafana dashboards."""
    if ctx.invoked_subcommand is not None:
        return
    # lazy: the storage stack only for the catalog (``export grafana`` needs none of it)
    from vigil.app.catalog import current_config
    from vigil.app.config import dump_config
    from vigil.cli.local import open_local

    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.cli.remote import selected

    server = selected()
    try:
        if server is not None:  # GET /config/export: secrets never leave the server
            if show_secrets:
                raise fail("--show-secrets: the server never sends its secrets; export "
                           "on the server's own data directory with --data-dir instead")
            text = str(server.get("/config/export")["yaml"])
        else:
            db = open_local(data_dir, command="export").db
            text = dump_config(current_config(db, "plain" if show_secrets else "export"))
    except VigilError as exc:
        raise fail(exc.message if server is not None else str(exc)) from None
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text)
        except OSError as exc:
            raise fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        line(f"wrote {output}", stderr=True)


class DashboardName(str, Enum):
    """The dashboards ``vigil export grafana`` writes."""

    models = "models"
    serving = "serving"
    platform = "platform"


def _write(folder: Path, files: dict[str, Any]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, board in files.items():
            path = folder / name
            path.write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n")
            line(f"wrote {path}")
    except OSError as exc:
        raise fail(f"--output {folder}: cannot write: {exc.strerror or exc}") from None


@app.command("grafana")
def export_grafana(
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output",
            help="A directory to write one <uid>.json per dashboard into (created), or json: "
            "print them on stdout (one dashboard alone, else a list).",
        ),
    ] = "grafana-dashboards",
    datasource_uid: Annotated[
        str | None,
        typer.Option(
            "--datasource-uid",
            help="Use this Prometheus data source uid in every panel (for provisioning or the "
            "HTTP API) instead of the input ${DS_PROMETHEUS} that Grafana's import asks for.",
        ),
    ] = None,
    dashboard: Annotated[
        list[DashboardName] | None,
        typer.Option("--dashboard", help="Only this dashboard (repeat for several)."),
    ] = None,
) -> None:
    """Write Grafana dashboards (models, serving, platform) over the series GET /metrics
    exposes, with a Prometheus data source as their input."""
    # lazy: the exporter's stack only for this command (``vigil export`` alone needs none)
    from vigil.app.grafana import DASHBOARDS, exported

    names = tuple(dict.fromkeys(d.value for d in dashboard)) if dashboard else DASHBOARDS
    try:
        files = exported(names, datasource_uid)
    except VigilError as exc:
        raise fail(str(exc)) from None
    if output.lower() == "json":
        boards = list(files.values())
        emit_json(boards[0] if len(boards) == 1 else boards)
        return
    _write(Path(output), files)
