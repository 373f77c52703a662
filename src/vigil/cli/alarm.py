"""``vigil alarm evaluate|list|history|silence``: alarms over metrics (CloudWatch semantics)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import typer

from vigil.alerts.notify import add_silence, make_outbox
from vigil.alerts.service import compute_alarms, history
from vigil.app.documents import transition_document
from vigil.app.lifecycle import delete_object
from vigil.app.scheduler import alarms_and_notifications
from vigil.cli.common import DataDirOpt, OutputFormat, OutputOpt, emit_json, fail, iso, line
from vigil.cli.common import parse_time as _parse_time
from vigil.cli.local import answer, api_answer, open_local
from vigil.cli.remote import Remote, path, selected
from vigil.cli.views import ALARMS, SILENCES, show_listing, show_object
from vigil.errors import VigilError

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
    server = selected()
    if server is not None:
        _evaluate_remote(server, when, output)
        return
    rt = open_local(data_dir, command="alarm evaluate")
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


def _evaluate_remote(server: Remote, when: datetime | None, output: OutputFormat) -> None:
    """``POST /alarms/evaluate`` (``at``: a preview); the server notifies through its outbox."""
    try:
        doc = server.post("/alarms/evaluate", params={"at": iso(when)})
    except VigilError as exc:
        raise fail(exc.message) from None
    if output is OutputFormat.json:
        emit_json(doc)
        return
    for t in doc["transitions"]:
        line(f"{t['alarm']}: {t['old_state']} -> {t['new_state']}: {t['reason']}")
    for name, message in sorted((doc.get("errors") or {}).items()):
        line(f"{name}: cannot be evaluated: {message}")
    said = " (preview: nothing recorded or sent)" if doc["preview"] else " (on the server)"
    line(f"{len(doc['transitions'])} transition(s) at {doc['at']}{said}")


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
def alarm_list(
    state_filter: Annotated[
        str | None, typer.Option("--state", help="Only alarms in this state (OK, ALARM...).")
    ] = None,
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Every alarm with its state."""
    from vigil.server import routes_alarms as r  # lazy: the server's documents

    doc = answer(
        "alarm list",
        data_dir,
        lambda server: server.get("/alarms", {"state_filter": state_filter}),
        lambda state: api_answer(r.list_alarms, state_filter=state_filter, state=state),
    )
    show_listing(ALARMS, doc, output)


@app.command("show")
def alarm_show(
    name: Annotated[str, typer.Argument(help="The alarm's name.")],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """One alarm: its definition and its state with the reason."""
    from vigil.server import routes_alarms as r  # lazy: the server's documents

    doc = answer(
        "alarm show",
        data_dir,
        lambda server: server.get(path("alarms", name)),
        lambda state: api_answer(r.alarm, name=name, state=state),
    )
    show_object(doc, output, f"alarm {name}")


def _history_local(name: str, data_dir: DataDirOpt) -> dict[str, Any]:
    # lazy: loaded only when this command runs (a light CLI start)
    from vigil.alerts.service import get_alarm

    db = open_local(data_dir, command="alarm history").db
    entries = history(db, name)
    if not entries:
        try:
            get_alarm(db, name)
        except VigilError:
            raise fail(f"no alarm named {name!r}") from None
    return {
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
        ]
    }


@app.command("history")
def alarm_history_cmd(
    name: Annotated[str, typer.Argument()],
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """An alarm's transitions, newest first."""
    server = selected()
    if server is None:
        found = _history_local(name, data_dir)
    else:
        try:
            found = server.get(path("alarms", name, "history"))
        except VigilError as exc:
            raise fail(exc.message) from None
    if output is OutputFormat.json:
        emit_json({"alarm": name, **found})
        return
    for h in found["history"]:
        line(f"{h['time']}  {h['old_state']} -> {h['new_state']}  {h['reason']}")


@app.command("silence")
def alarm_silence(
    matcher: Annotated[list[str], typer.Option("--matcher", help='e.g. alarm=~"drift.*"')],
    hours: Annotated[float, typer.Option(help="How long, from now.")] = 2.0,
    comment: Annotated[str, typer.Option()] = "",
    data_dir: DataDirOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Mute notifications of matching alarms for a while (resolves already owed still go)."""
    if not 0 < hours <= MAX_SILENCE_HOURS:  # NaN fails too
        raise fail(f"--hours {hours}: expected hours above 0, at most {MAX_SILENCE_HOURS}")
    now = datetime.now(timezone.utc)
    until = now + timedelta(hours=hours)
    server = selected()
    try:
        if server is not None:
            doc = server.post(
                "/silences", {"matchers": matcher, "ends_at": iso(until), "comment": comment}
            )
        else:
            db = open_local(data_dir, command="alarm silence").db
            silence_id = add_silence(db, matcher, now, until, comment, created_by="cli")
            doc = {
                "id": silence_id,
                "matchers": matcher,
                "starts_at": iso(now),
                "ends_at": iso(until),
                "comment": comment,
            }
    except (VigilError, ValueError) as exc:
        raise fail(getattr(exc, "message", None) or str(exc)) from None
    if output is OutputFormat.json:
        emit_json(doc)
        return
    line(f"silence {doc['id']} until {until:%Y-%m-%dT%H:%M:%SZ}")


@app.command("unsilence")
def alarm_unsilence(
    silence_id: Annotated[str, typer.Argument(help="The silence's id (alarm silence prints it).")],
    data_dir: DataDirOpt = None,
) -> None:
    """Expire a silence now: it mutes nothing more."""
    server = selected()
    try:
        if server is not None:
            server.delete(path("silences", silence_id))
        else:
            delete_object(open_local(data_dir, command="alarm unsilence").db, "silence", silence_id)
    except VigilError as exc:
        raise fail(exc.message) from None
    line(f"silence {silence_id} expired")


@app.command("silences")
def alarm_silences(data_dir: DataDirOpt = None, output: OutputOpt = OutputFormat.text) -> None:
    """The silences in force now."""
    from vigil.server import routes_topics as r  # lazy: the server's documents

    doc = answer(
        "alarm silences",
        data_dir,
        lambda server: server.get("/silences"),
        lambda state: api_answer(r.list_silences, state=state),
    )
    show_listing(SILENCES, doc, output)
