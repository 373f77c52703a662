"""Topics, subscriptions and dead letters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, StrictInt

from vigil.alerts.delivery import SubscriptionTakenError
from vigil.alerts.delivery.base import check_destination
from vigil.alerts.notify import (
    active_silences,
    add_silence,
    make_outbox,
    put_topic,
    subscribe,
    subscriptions_of,
    topics,
)
from vigil.app.lifecycle import delete_object
from vigil.app.secrets import redact
from vigil.errors import ConfigError
from vigil.server.errors import ApiError
from vigil.server.schemas_alerts import (
    DeadLetterList,
    RedriveOut,
    SilenceList,
    SilenceOut,
    SubscriptionList,
    SubscriptionOut,
    TopicList,
    TopicOut,
)
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.state import READ, WRITE, ServerState, get_state
from vigil.store.models import SilenceRecord, TopicRecord

router = APIRouter(responses=errors(401, 403, 422))
NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"


class TopicIn(BaseModel):
    name: str = Field(pattern=NAME)


class SubscriptionIn(BaseModel):
    protocol: str
    config: dict[str, Any] = {}
    filter_policy: dict[str, Any] | None = None
    retry: dict[str, Any] | None = None
    id: str | None = Field(default=None, pattern=NAME)
    min_severity: str | None = None


def _redacted(protocol: str, config: dict[str, Any]) -> dict[str, Any]:
    """A subscription's configuration with its declared secrets hidden (never echoed)."""
    return redact(protocol, config)


@router.post(
    "/topics",
    status_code=201,
    response_model=TopicOut,
    responses=errors(400, 413),
    dependencies=[WRITE],
)
def create_topic(body: TopicIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {"name": put_topic(state.db, body.name).name}


@router.get("/topics", response_model=TopicList, dependencies=[READ])
def list_topics(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {"topics": topics(state.db)}


@router.post(
    "/topics/{name}/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    responses=errors(400, 404, 413),
    dependencies=[WRITE],
)
def create_subscription(
    name: str, body: SubscriptionIn, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    try:
        check_destination(body.protocol, body.config)
    except ConfigError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    try:
        sub = subscribe(
            state.db,
            name,
            body.protocol,
            body.config,
            filter_policy=body.filter_policy,
            retry=body.retry,
            id=body.id,
            min_severity=body.min_severity,
        )
    except SubscriptionTakenError as exc:
        raise ApiError(409, "conflict", exc.message) from None
    return {
        "id": sub.id,
        "topic": name,
        "protocol": sub.protocol,
        "config": _redacted(sub.protocol, dict(sub.config)),
        "filter_policy": dict(sub.filter_policy) if sub.filter_policy else None,
        "min_severity": sub.min_severity,
    }


@router.get("/topics/{name}/subscriptions", response_model=SubscriptionList, dependencies=[READ])
def list_subscriptions(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {
        "subscriptions": [
            {
                "id": s.id,
                "topic": name,
                "protocol": s.protocol,
                "config": _redacted(s.protocol, dict(s.config)),
                "filter_policy": dict(s.filter_policy) if s.filter_policy else None,
                "min_severity": s.min_severity,
            }
            for s in subscriptions_of(state.db, name)
        ]
    }


@router.get("/dead-letters", response_model=DeadLetterList, dependencies=[READ])
def dead_letters(
    subscription: str | None = None, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    items = make_outbox(state.db).list_dead_letters(subscription)
    return {
        "dead_letters": [
            {
                "id": r.id,
                "subscription": r.subscription,
                "message_id": r.message_id,
                "attempts": r.attempt,
                "last_error": r.last_error,
            }
            for r in items
        ]
    }


class RedriveIn(BaseModel):
    ids: list[Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]] | None = None
    subscription: str | None = None


@router.post(
    "/dead-letters/redrive",
    response_model=RedriveOut,
    responses=errors(400, 413),
    dependencies=[WRITE],
)
def redrive(body: RedriveIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    if not body.ids and not body.subscription:
        raise ApiError(422, "validation_error", "give ids or a subscription to redrive")
    count = make_outbox(state.db).redrive(body.ids, subscription=body.subscription)
    return {"redriven": count}


class SilenceIn(BaseModel):
    matchers: list[str] = Field(min_length=1)
    starts_at: IsoTime | None = None
    ends_at: IsoTime
    comment: str = ""


@router.post("/silences", status_code=201, response_model=SilenceOut, responses=errors(400, 413))
def create_silence(
    body: SilenceIn, token: str = WRITE, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Mute notifications of matching alarms (``alarm=~"drift.*"``, ``Endpoint=churn``)."""
    start = body.starts_at or datetime.now(timezone.utc)
    try:
        silence_id = add_silence(
            state.db, body.matchers, start, body.ends_at, body.comment, created_by=token
        )
    except ValueError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    return {
        "id": silence_id,
        "matchers": body.matchers,
        "starts_at": start.isoformat(),
        "ends_at": body.ends_at.isoformat(),
        "comment": body.comment,
    }


@router.get("/silences", response_model=SilenceList, dependencies=[READ])
def list_silences(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {"silences": [_silence_out(s) for s in active_silences(state.db, now)]}


@router.get(
    "/silences/{silence_id}", response_model=SilenceOut, responses=errors(404), dependencies=[READ]
)
def get_silence(silence_id: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """One silence, in force or not."""
    with state.db.session() as s:
        row = s.get(SilenceRecord, silence_id)
        if row is None:
            raise ApiError(404, "not_found", f"no silence with id {silence_id!r}")
        return _silence_out(row)


def _silence_out(s: SilenceRecord) -> dict[str, Any]:
    return {
        "id": s.id,
        "matchers": s.matchers,
        "starts_at": s.starts_at.isoformat(),
        "ends_at": s.ends_at.isoformat(),
        "comment": s.comment,
    }


DELETE: dict[str, Any] = {
    "status_code": 204,
    "responses": errors(404, 409),
    "dependencies": [WRITE],
}


@router.delete("/silences/{silence_id}", **DELETE)
def delete_silence(silence_id: str, state: ServerState = Depends(get_state)) -> None:
    """Expire a silence now: it is deleted and mutes nothing more."""
    delete_object(state.db, "silence", silence_id)


@router.get("/topics/{name}", response_model=TopicOut, responses=errors(404), dependencies=[READ])
def get_topic(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """A topic and the ids of its subscriptions."""
    with state.db.session() as s:
        if s.get(TopicRecord, name) is None:
            raise ApiError(404, "not_found", f"no topic named {name!r}")
    return {"name": name, "subscriptions": [x.id for x in subscriptions_of(state.db, name)]}


@router.delete("/topics/{name}", **DELETE)
def delete_topic(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete a topic (409 while an alarm's actions or a subscription name it)."""
    delete_object(state.db, "topic", name)


def _subscription_row(state: ServerState, topic: str, sub_id: str) -> dict[str, Any]:
    found = next((x for x in subscriptions_of(state.db, topic) if x.id == sub_id), None)
    if found is None:
        raise ApiError(404, "not_found", f"topic {topic!r} has no subscription {sub_id!r}")
    return {
        "id": found.id,
        "topic": topic,
        "protocol": found.protocol,
        "config": _redacted(found.protocol, dict(found.config)),
        "filter_policy": dict(found.filter_policy) if found.filter_policy else None,
    }


@router.get(
    "/topics/{name}/subscriptions/{sub_id}",
    response_model=SubscriptionOut,
    responses=errors(404),
    dependencies=[READ],
)
def get_subscription(
    name: str, sub_id: str, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """One subscription of a topic, its secrets redacted."""
    return _subscription_row(state, name, sub_id)


@router.delete("/topics/{name}/subscriptions/{sub_id}", **DELETE)
def delete_subscription(name: str, sub_id: str, state: ServerState = Depends(get_state)) -> None:
    """Unsubscribe: delete one subscription of a topic."""
    _subscription_row(state, name, sub_id)
    delete_object(state.db, "subscription", sub_id)
