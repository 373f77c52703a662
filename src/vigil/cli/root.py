"""The ``vigil`` group: the table of commands, ``--version`` and the entry point."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Annotated

import typer

from vigil._version import __version__
from vigil.cli.common import fail
from vigil.cli.lazy import LazyCommand, LazyGroup
from vigil.cli.lazy import click_exceptions as clickx
from vigil.errors import VigilError

# Every command: its module and the first paragraph of its help (`vigil --help` prints this
# table without importing any command; a test checks it against each command's own help).
COMMANDS: dict[str, LazyCommand] = {
    "baseline": LazyCommand(
        "vigil.cli.data",
        "Profile training data; write statistics.json and constraints.json (data quality, or "
        "model quality with --problem-type).",
    ),
    "analyze": LazyCommand(
        "vigil.cli.data",
        "Check data against a baseline; write statistics, violations and report.html (data "
        "quality), or the model-quality statistics and violations with --problem-type.",
    ),
    "explain": LazyCommand(
        "vigil.cli.explain",
        "SHAP explanations of a model on data; write analysis.json (Clarify's explanations) "
        "and explanations_shap/out.csv.",
    ),
    "server": LazyCommand(
        "vigil.cli.server", "Serve the REST API (OpenAPI at /docs) with the in-process scheduler."
    ),
    "worker": LazyCommand(
        "vigil.cli.worker",
        "Run monitoring executions only (no API): claim due windows, run them, rerun "
        "interrupted ones.",
    ),
    "apply": LazyCommand(
        "vigil.cli.config",
        "Create or update endpoints, baselines and schedules from a file (idempotent).",
    ),
    "export": LazyCommand(
        "vigil.cli.export",
        "Write the current catalog as a vigil.yaml file; each secret is written as the "
        "${env:NAME} reference it came from, else as ***, unless --show-secrets. 'vigil export "
        "grafana' writes Grafana dashboards.",
        group=True,
    ),
    "demo": LazyCommand(
        "vigil.cli.demo",
        "The whole platform on embedded defaults: server, captured traffic that drifts, "
        "scheduled executions turning CompletedWithViolations.",
    ),
    "token": LazyCommand(
        "vigil.cli.tokens", "API tokens (stored hashed; the secret is shown once).", group=True
    ),
    "monitor": LazyCommand(
        "vigil.cli.monitor", "Run monitoring executions outside the server's scheduler.", group=True
    ),
    "alarm": LazyCommand(
        "vigil.cli.alarm", "Alarms over metrics (CloudWatch semantics).", group=True
    ),
    "action": LazyCommand(
        "vigil.cli.action",
        "Action runs started by rules (workflows, commands, calls).",
        group=True,
    ),
    "delete": LazyCommand(
        "vigil.cli.delete",
        "Delete an endpoint, baseline, schedule, alarm, topic, subscription, silence, rule or "
        "workflow; refused (exit 2, naming them) while other objects refer to it.",
    ),
    "delivery": LazyCommand(
        "vigil.cli.delivery", "Notification delivery: dead letters and redrive.", group=True
    ),
    "db": LazyCommand(
        "vigil.cli.db", "The database's schema: revision, upgrade, check.", group=True
    ),
    "bias": LazyCommand(
        "vigil.cli.bias",
        "Clarify's bias metrics (pre-training, and post-training when the data gives predicted "
        "labels); write analysis.json.",
    ),
    "run": LazyCommand(
        "vigil.cli.run",
        "Run a training program as a training job: stream its output through, apply metric "
        "definitions to it, record exit status, duration, CPU and memory, and store the log.",
    ),
    "jobs": LazyCommand("vigil.cli.jobs", "Training jobs: list and show runs.", group=True),
    "endpoint": LazyCommand(
        "vigil.cli.endpoint", "Monitored endpoints: list and show them.", group=True
    ),
    "schedule": LazyCommand(
        "vigil.cli.schedule",
        "Monitoring schedules: list, show, run one now, pause and resume.",
        group=True,
    ),
    "execution": LazyCommand(
        "vigil.cli.execution", "Monitoring executions: list and show them.", group=True
    ),
    "topic": LazyCommand(
        "vigil.cli.topic", "Notification topics: list and show them.", group=True
    ),
    "agent": LazyCommand(
        "vigil.cli.agent",
        "Collect this host's CPU, memory, disk, network, GPU and named processes' figures every "
        "interval and push them to the server, spooling to disk while it is unreachable.",
    ),
    "events": LazyCommand(
        "vigil.cli.events", "Platform events: list them, put some (PutEvents).", group=True
    ),
    "audit": LazyCommand(
        "vigil.cli.audit",
        "Configuration changes, newest first: who, what, when, before and after (redacted).",
    ),
}

# Commands whose changes are not the CLI user's: baseline and analyze touch no database (and
# must not import it), the server attributes each change to the token of its request.
NOT_AUDITED_AS_CLI = frozenset(
    {"baseline", "analyze", "server", "worker", "bias", "explain", "agent"}
)


class VigilGroup(LazyGroup):
    """The top-level ``vigil`` group over :data:`COMMANDS`."""

    table = COMMANDS


app = typer.Typer(
    cls=VigilGroup,
    add_completion=False,
    no_args_is_help=True,
    help="Vigil: self-hosted model monitoring (SageMaker Model Monitor compatible).",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"vigil {__version__}")
        raise typer.Exit()


def _attribute_to_cli_user(ctx: typer.Context) -> None:
    """Changes this command makes are recorded in the audit trail as ``cli:<os user>``."""
    # lazy: the storage stack only for the commands that open the database anyway
    from vigil.store.audit import cli_actor, reset_actor, set_actor

    token = set_actor(cli_actor())
    ctx.call_on_close(lambda: reset_actor(token))


@app.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="VIGIL_SERVER",
            help="Run the command against this Vigil server's REST API (http://host:port) "
            "instead of a local data directory.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="VIGIL_TOKEN", help="The API token for --server.", show_default=False
        ),
    ] = None,
) -> None:
    # lazy: the client module is small; httpx is imported only when a call is made
    from vigil.cli.remote import choose

    choose(ctx, server, token)
    remote = bool(server and server.strip())
    if ctx.invoked_subcommand and ctx.invoked_subcommand not in NOT_AUDITED_AS_CLI and not remote:
        _attribute_to_cli_user(ctx)


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


# click shows the help for a group called without a command (an error with the help as text)
_NO_ARGS: tuple[type[clickx.UsageError], ...] = tuple(
    c for c in [getattr(clickx, "NoArgsIsHelpError", None)] if c is not None
)


def main() -> None:
    """Entry point of the ``vigil`` script.

    The process ends with ``os._exit`` once its output is flushed: tearing down the
    interpreter (freeing every array and module) would add tens of milliseconds to each run.
    """
    _tune_allocator()
    code: int = 0
    try:
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except _NO_ARGS as exc:  # ``vigil`` or ``vigil monitor`` alone: the help
        exc.show()
        code = exc.exit_code
    except clickx.UsageError as exc:  # one line, whatever the width (typer's panel wraps)
        where = exc.ctx.command_path if exc.ctx is not None else "vigil"
        code = fail(f"{exc.format_message()} (see '{where} --help')").exit_code
    except clickx.ClickException as exc:
        fail(exc.format_message())
        code = exc.exit_code
    except typer.Abort:
        print("vigil: aborted", file=sys.stderr)
        code = 1
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except VigilError as exc:  # pragma: no cover - commands catch their own
        code = fail(str(exc)).exit_code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
