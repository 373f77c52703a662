"""Alarms: define (CloudWatch's fields), list, inspect, history, evaluate now."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError

from vigil.alerts.alarms import CompositeAlarm, MetricAlarm
from vigil.alerts.notify import make_outbox
from vigil.alerts.service import compute_alarms, get_alarm, history, put_alarm
from vigil.app.alarm_views import list_alarms as alarm_rows
from vigil.app.documents import alarm_document, transition_document
from vigil.app.lifecycle import delete_object
from vigil.app.references import check_alarm
from vigil.app.scheduler import alarms_and_notifications
from vigil.errors import ConfigError
from vigil.server.errors import ApiError
from vigil.server.schemas_alerts import AlarmHistoryOut, AlarmList, AlarmOut, EvaluationOut
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.state import READ, WRITE, ServerState, get_state

router = APIRouter(responses=errors(401, 403, 422))


@router.post(
    "/alarms",
    status_code=201,
    response_model=AlarmOut,
    responses=errors(400, 413),
    dependencies=[WRITE],
)
def create_alarm(body: dict[str, Any], state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Create or update a metric alarm, or a composite alarm (a body with ``rule``)."""
    model = CompositeAlarm if "alarm_rule" in body else MetricAlarm
    try:
        alarm = model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "alarm"
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from None
    try:
        check_alarm(state.db, alarm)  # every action names an existing topic, workflow or rule
    except ConfigError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    return alarm_document(put_alarm(state.db, alarm))


@router.get("/alarms", response_model=AlarmList, dependencies=[READ])
def list_alarms(
    state_filter: str | None = None, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    return {"alarms": [alarm_document(r) for r in alarm_rows(state.db, state_filter)]}


@router.get("/alarms/{name}", response_model=AlarmOut, responses=errors(404), dependencies=[READ])
def alarm(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return alarm_document(get_alarm(state.db, name))


@router.delete("/alarms/{name}", status_code=204, responses=errors(404, 409), dependencies=[WRITE])
def delete_alarm(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete an alarm and its history (409 while a composite alarm or a rule names it)."""
    delete_object(state.db, "alarm", name)


@router.get(
    "/alarms/{name}/history",
    response_model=AlarmHistoryOut,
    responses=errors(404),
    dependencies=[READ],
)
def alarm_history(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    get_alarm(state.db, name)
    return {
        "history": [
            {
                "time": h.time.isoformat(),
                "old_state": h.old_state,
                "new_state": h.new_state,
                "reason": h.reason,
                "reason_data": h.reason_data,
                "actions": h.actions,
            }
            for h in history(state.db, name)
        ]
    }


@router.post("/alarms/evaluate", response_model=EvaluationOut, dependencies=[WRITE])
def evaluate_now(
    at: IsoTime | None = None, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Evaluate every alarm now, record the transitions and queue their notifications as the
    server's own loop does; with ``at``, a preview: the states and transitions an evaluation
    at that time would give, changing nothing."""
    if at is not None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        preview = compute_alarms(state.db, state.metrics, at)
        return {
            "at": at.isoformat(),
            "preview": True,
            "states": dict(sorted(preview.states.items())),
            "transitions": [transition_document(t) for t in preview.transitions],
            "errors": dict(sorted(preview.faulty.items())),
        }
    when = datetime.now(timezone.utc)
    runtime = state.extras["runtime"]
    outbox = state.extras.get("outbox")
    if outbox is None:
        outbox = state.extras["outbox"] = make_outbox(state.db)
    found = alarms_and_notifications(runtime, outbox, when)
    return {
        "at": when.isoformat(),
        "preview": False,
        "transitions": [transition_document(t) for t in found],
    }


