"""Dashboard pages: the alarms, and one alarm with its history, metric and context.

``GET /alarms`` lists every alarm with its state, reason, metric, last change, the
transitions it made in the page's time range and whether a silence mutes it (``?state=``
keeps one state). ``GET /alarms/{name}`` shows one alarm: its state and definition, its state
over the time range (a step chart and the list of transitions with their reasons), its metric
queried as the evaluator queries it (namespace, name, dimensions, statistic, period) with
the threshold drawn and the ALARM spans shaded, and what changed on the platform in the
``?hours=`` (default 6) before its last transition to ALARM. A token with ``write`` gets forms
to silence the alarm (``POST /alarms/{name}/silence``) and to expire a silence that mutes it
(``POST /alarms/{name}/unsilence``); both answer 303 back to the alarm's page.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.alerts.alarms.spec import BAND_OPERATORS
from vigil.alerts.service import get_alarm
from vigil.app.alarm_views import (
    MAX_SILENCE_HOURS,
    STATE_LEVELS,
    history_between,
    last_alarm_time,
    list_alarms,
    silence_alarm,
    silences_by_alarm,
    transition_counts,
    unsilence_alarm,
)
from vigil.app.context_events import DEFAULT_HOURS, what_changed
from vigil.errors import ConfigError, NotFoundError, VigilError
from vigil.server.state import get_state
from vigil.server.ui.render import (
    Band,
    Series,
    Threshold,
    TimeRange,
    chart,
    error_page,
    page,
    time_range,
)
from vigil.server.ui.session import Viewer, require_viewer, write_form
from vigil.store.audit import acting_as, token_actor

router = APIRouter(include_in_schema=False)

STATES = ("ALARM", "INSUFFICIENT_DATA", "OK")
#: the most points the metric chart asks for; a longer range is shown per a coarser period
MAX_POINTS = 5000
#: the longest look back for "what changed" (one week)
MAX_CONTEXT_HOURS = 168.0
#: the notices a redirect after a form may ask the page to show
DONE = {"silenced": "The alarm is silenced: its notifications are muted until the silence "
                    "ends.",
        "unsilenced": "The silence is expired: it mutes nothing more."}
MAX_COMMENT = 1024


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _metric_text(spec: dict[str, Any]) -> str:
    """``namespace / metric (statistic per period s; dims)`` for a metric alarm."""
    if not spec.get("metric_name"):
        return "-"
    dims = ", ".join(f"{k}={v}" for k, v in sorted((spec.get("dimensions") or {}).items()))
    text = f"{spec.get('namespace')} / {spec.get('metric_name')} ({spec.get('statistic')} per "
    return text + f"{spec.get('period')} s" + (f"; {dims})" if dims else ")")


@router.get("/alarms", response_class=HTMLResponse)
def alarms_page(request: Request, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    wanted = request.query_params.get("state", "")
    if wanted and wanted not in STATES:
        return error_page(request, viewer, 400,
                       f"state: expected one of {', '.join(STATES)}, got {wanted[:40]!r}")
    db = get_state(request).db
    tr = time_range(request)
    every = list_alarms(db)
    counts = {s: sum(r.state == s for r in every) for s in STATES}
    rows = [r for r in every if not wanted or r.state == wanted]
    muted = silences_by_alarm(db, rows, _now())
    changes = transition_counts(db, tr.start, tr.end)
    alarms = [
        {
            "name": r.name,
            "kind": r.kind,
            "state": r.state,
            "reason": r.state_reason,
            "metric": _metric_text(r.spec or {}) if r.kind == "metric"
            else f"composite: {(r.spec or {}).get('alarm_rule', '')}",
            "updated": r.state_updated_at,
            "changes": changes.get(r.name, 0),
            "silenced_until": max(s.ends_at for s in muted[r.name]) if r.name in muted else None,
        }
        for r in rows
    ]
    return page(request, viewer, "alarms.html", "Alarms", time_range=tr, alarms=alarms,
                counts=counts, total=len(every), wanted=wanted, states=STATES,
                range_keep={"state": wanted} if wanted else {})


def _hours(request: Request) -> float | str:
    """``?hours=`` (default 6) or the message of a 400."""
    raw = request.query_params.get("hours")
    if raw is None or raw == "":
        return DEFAULT_HOURS
    try:
        hours = float(raw)
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and 0 < hours <= MAX_CONTEXT_HOURS):
        return f"hours: expected a number above 0, at most {MAX_CONTEXT_HOURS:g}, got {raw[:40]!r}"
    return hours


def _level(state: str) -> float | None:
    level = STATE_LEVELS.get(state)
    return None if level is None else float(level)


def _state_chart(history: Any, tr: TimeRange) -> dict[str, Any]:
    """The alarm's state over the range: a step at each transition."""
    xs = [tr.start.timestamp()]
    ys = [_level(history.state_at_start)]
    for step in history.steps:
        xs.append(step.time.timestamp())
        ys.append(_level(step.new_state))
    xs.append(tr.end.timestamp())
    ys.append(ys[-1])
    return chart("alarm-state", "State over the time range", kind="step", height=190,
                 series=[Series("state", xs, ys)], y_label="state", y_unit="0 OK, 2 ALARM")


def _period(alarm_period: int, tr: TimeRange) -> int:
    """The alarm's period, or a multiple of it that keeps the chart under MAX_POINTS."""
    span = (tr.end - tr.start).total_seconds()
    if span / alarm_period <= MAX_POINTS:
        return alarm_period
    return alarm_period * math.ceil(span / alarm_period / MAX_POINTS)


def _metric_chart(
    request: Request, spec: dict[str, Any], tr: TimeRange, bands: list[Band]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The alarm's metric as its evaluator queries it, and what the page says about it."""
    try:
        alarm_period = int(spec["period"])
        statistic = str(spec["statistic"])
        namespace, metric = str(spec["namespace"]), str(spec["metric_name"])
        dims = {str(k): str(v) for k, v in (spec.get("dimensions") or {}).items()}
    except (KeyError, TypeError, ValueError):
        return None, {"error": "the stored definition names no metric it can query"}
    period = _period(alarm_period, tr) if alarm_period > 0 else 60
    try:
        rows = get_state(request).metrics.query(namespace, metric, dims, tr.start, tr.end,
                                                period, [statistic])
    except VigilError as exc:
        return None, {"error": f"the metric cannot be queried: {exc.message}"}
    units = {str(r["Unit"]) for r in rows if r.get("Unit")}
    thresholds = []
    operator = str(spec.get("comparison_operator") or "")
    if spec.get("threshold") is not None and operator not in BAND_OPERATORS:
        thresholds.append(Threshold(float(spec["threshold"]), "threshold"))
    spec_out = chart(
        "alarm-metric", f"{metric}: {statistic} per {period} s",
        series=[Series(f"{statistic} of {metric}", [r["Timestamp"].timestamp() for r in rows],
                       [r.get(statistic) for r in rows])],
        y_label=statistic, y_unit=units.pop() if len(units) == 1 else "value",
        kind="line", thresholds=thresholds, bands=bands,
    )
    about = {
        "namespace": namespace, "metric": metric, "dimensions": dims, "statistic": statistic,
        "period": period, "alarm_period": alarm_period, "points": len(rows),
        "band": operator in BAND_OPERATORS,
    }
    return spec_out, about


def _definition(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """The stored definition as (field, text) pairs, complex values as JSON."""
    out = []
    for key, value in spec.items():
        if isinstance(value, (dict, list)):
            text = json.dumps(value, sort_keys=True) if value else "-"
        else:
            text = "-" if value is None or value == "" else str(value)
        out.append((key, text))
    return out


@router.get("/alarms/{name:path}", response_class=HTMLResponse)
def alarm_page(
    request: Request, name: str, viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    hours = _hours(request)
    if isinstance(hours, str):
        return error_page(request, viewer, 400, hours)
    done = request.query_params.get("done", "")
    if done and done not in DONE:
        return error_page(request, viewer, 400, f"done: expected one of {', '.join(DONE)}")
    state = get_state(request)
    tr = time_range(request)
    try:
        row = get_alarm(state.db, name)
        history = history_between(state.db, name, tr.start, tr.end)
    except NotFoundError:
        return error_page(request, viewer, 404, f"There is no alarm named {name[:200]!r}.")
    spec = dict(row.spec or {})
    bands = [Band(s.start.timestamp(), s.end.timestamp(), "ALARM")
             for s in history.spans() if s.state == "ALARM"]
    metric_chart: dict[str, Any] | None = None
    metric_about: dict[str, Any] = {}
    if row.kind == "metric":
        metric_chart, metric_about = _metric_chart(request, spec, tr, bands)
    fired = last_alarm_time(state.db, name, tr.end)
    at = fired or tr.end
    changes = what_changed(state.db, at, hours=hours)
    muting = silences_by_alarm(state.db, [row], _now()).get(name, [])
    return page(
        request, viewer, "alarm.html", f"Alarm {name}", time_range=tr,
        alarm=row, spec=spec, definition=_definition(spec),
        history=history, transitions=list(reversed(history.steps)), bands=bands,
        state_chart=_state_chart(history, tr), metric_chart=metric_chart, metric=metric_about,
        changes=changes, context_at=at, context_fired=fired is not None, hours=hours,
        silences=muting, notice=DONE.get(done), max_hours=MAX_SILENCE_HOURS,
        alarm_path="/alarms/" + quote(name, safe=""),
        range_keep={"hours": f"{hours:g}"} if hours != DEFAULT_HOURS else {},
    )


def _back(name: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/alarms/{quote(name, safe='')}?done={done}", status_code=303)


@router.post("/alarms/{name:path}/silence", response_model=None)
async def silence(
    request: Request, name: str, viewer: Viewer = Depends(require_viewer)
) -> Response:
    form = await write_form(request, viewer, "silencing an alarm")
    raw = str(form.get("hours") or "")
    comment = str(form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        return error_page(request, viewer, 400, f"comment: at most {MAX_COMMENT} characters")
    try:
        hours = float(raw)
    except ValueError:
        return error_page(request, viewer, 400, f"hours: expected a number, got {raw[:40]!r}")
    db = get_state(request).db

    def write() -> None:
        with acting_as(token_actor(viewer.name)):  # the audit trail names the token
            silence_alarm(db, name, hours, _now(), comment, created_by=viewer.name)

    try:
        await run_in_threadpool(write)
    except NotFoundError:
        return error_page(request, viewer, 404, f"There is no alarm named {name[:200]!r}.")
    except ConfigError as exc:
        return error_page(request, viewer, 400, exc.message)
    return _back(name, "silenced")


@router.post("/alarms/{name:path}/unsilence", response_model=None)
async def unsilence(
    request: Request, name: str, viewer: Viewer = Depends(require_viewer)
) -> Response:
    form = await write_form(request, viewer, "un-silencing an alarm")
    silence_id = str(form.get("silence") or "")
    if not silence_id or len(silence_id) > 36:
        return error_page(request, viewer, 400, "silence: expected the id of a silence")
    db = get_state(request).db

    def write() -> None:
        with acting_as(token_actor(viewer.name)):
            unsilence_alarm(db, name, silence_id, _now())

    try:
        await run_in_threadpool(write)
    except NotFoundError as exc:
        return error_page(request, viewer, 404, exc.message)
    return _back(name, "unsilenced")
