"""``vigil alarm evaluate|list|history|silence``: alarms over metrics (CloudWatch semantics)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import typer
from sqlalchemy import select

from vigil.alerts.notify import add_silence, make_outbox
from vigil.alerts.service import compute_alarms, history
from vigil.app.bootstrap import open_runtime
from vigil.app.documents import alarm_document, transition_document
from vigil.app.scheduler import alarms_and_notifications
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, iso, line
from vigil.cli.common import parse_time as _parse_time
from vigil.errors import VigilError
from vigil.store.models import AlarmRecord

app = typer.Typer(name="alarm", help="Alarms over metrics (CloudWatch semantics).")

#: the longest silence ``--hours`` gives (ten years)
MAX_SILENCE_HOURS = 24 * 366 * 10


@app.command("evaluate")
def alarm_evaluate(
    at: Annotated[
        str | None,
        typer.Option("--at", help="ISO-8601 time: preview the states then, changing nothing."),
    ] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Evaluate every alarm now, record and notify the transitions (``--at``: a preview)."""
    when = _parse_time(at, "--at")
    if when is not None and when.year < 1970:  # alarms' look-back windows reach before year 1
        raise fail(f"--at {at}: expected a time from 1970-01-01T00:00:00Z on")
    rt = open_runtime(data_dir)
    if when is not None:
        _preview(rt, when, output)
        return
    when = datetime.now(timezone.utc)
    outbox = make_outbox(rt.db)
    found = alarms_and_notifications(rt, outbox, when)
    counts = outbox.deliver_due(datetime.now(timezone.utc))
    if output is OutputFormat.json:
        emit_json(
            {
                "at": iso(when),
                "preview": False,
                "transitions": [transition_document(t) for t in found],
                "notifications": {
                    "delivered": counts.delivered,
                    "retrying": counts.retrying,
                    "dead": counts.dead,
                },
            }
        )
        return
    for t in found:
        line(f"{t.alarm}: {t.old_state} -> {t.new_state}: {t.reason}")
    line(
        f"{len(found)} transition(s) at {when.isoformat()}; notifications delivered "
        f"{counts.delivered}, retrying {counts.retrying}, dead {counts.dead}"
    )


def _preview(rt: Any, when: datetime, output: OutputFormat) -> None:
    """What an evaluation at ``when`` would give; nothing is recorded or sent."""
    found = compute_alarms(rt.db, rt.metrics, when)
    if output is OutputFormat.json:
        emit_json(
            {
                "at": iso(when),
                "preview": True,
                "states": dict(sorted(found.states.items())),
                "transitions": [transition_document(t) for t in found.transitions],
                "errors": dict(sorted(found.faulty.items())),
            }
        )
        return
    for t in found.transitions:
        line(f"{t.alarm}: {t.old_state} -> {t.new_state}: {t.reason}")
    for name, message in sorted(found.faulty.items()):
        line(f"{name}: cannot be evaluated: {message}")
    line(
        f"{len(found.transitions)} transition(s) at {when.isoformat()} "
        "(preview: nothing recorded or sent)"
    )


@app.command("list")
def alarm_list(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """Every alarm with its state."""
    with open_runtime(data_dir).db.session() as s:
        rows = list(s.scalars(select(AlarmRecord).order_by(AlarmRecord.name)))
        if output is OutputFormat.json:
            emit_json({"alarms": [alarm_document(r) for r in rows]})
            return
        for r in rows:
            line(f"{r.name}  {r.state}  {r.state_reason}")


@app.command("history")
def alarm_history_cmd(
    name: Annotated[str, typer.Argument()],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """An alarm's transitions, newest first."""
    db = open_runtime(data_dir).db
    entries = history(db, name)
    if not entries:
        with db.session() as s:
            if s.get(AlarmRecord, name) is None:
                raise fail(f"no alarm named {name!r}")
    if output is OutputFormat.json:
        emit_json(
            {
                "alarm": name,
                "history": [
                    {
                        "time": iso(h.time),
                        "old_state": h.old_state,
                        "new_state": h.new_state,
                        "reason": h.reason,
                        "reason_data": h.reason_data,
                        "actions": h.actions,
                    }
                    for h in entries
                ],
            }
        )
        return
    for h in entries:
        line(f"{h.time.isoformat()}  {h.old_state} -> {h.new_state}  {h.reason}")


@app.command("silence")
def alarm_silence(
    matcher: Annotated[list[str], typer.Option("--matcher", help='e.g. alarm=~"drift.*"')],
    hours: Annotated[float, typer.Option(help="How long, from now.")] = 2.0,
    comment: Annotated[str, typer.Option()] = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Mute notifications of matching alarms for a while (resolves already owed still go)."""
    if not 0 < hours <= MAX_SILENCE_HOURS:  # NaN fails too
        raise fail(f"--hours {hours}: expected hours above 0, at most {MAX_SILENCE_HOURS}")
    now = datetime.now(timezone.utc)
    try:
        silence_id = add_silence(
            open_runtime(data_dir).db,
            matcher,
            now,
            now + timedelta(hours=hours),
            comment,
            created_by="cli",
        )
    except (VigilError, ValueError) as exc:
        raise fail(str(exc)) from None
    line(f"silence {silence_id} until {now + timedelta(hours=hours):%Y-%m-%dT%H:%M:%SZ}")
