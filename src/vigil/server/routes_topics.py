"""Topics, subscriptions and dead letters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

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
from vigil.app.secrets import redact
from vigil.errors import ConfigError
from vigil.server.errors import ApiError
from vigil.server.state import READ, WRITE, ServerState, get_state

router = APIRouter()
NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"


class TopicIn(BaseModel):
    name: str = Field(pattern=NAME)


class SubscriptionIn(BaseModel):
    protocol: str
    config: dict[str, Any] = {}
    filter_policy: dict[str, Any] | None = None
    retry: dict[str, Any] | None = None
    id: str | None = Field(default=None, pattern=NAME)


def _redacted(protocol: str, config: dict[str, Any]) -> dict[str, Any]:
    """A subscription's configuration with its declared secrets hidden (never echoed)."""
    return redact(protocol, config)


@router.post("/topics", status_code=201, dependencies=[WRITE])
def create_topic(body: TopicIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {"name": put_topic(state.db, body.name).name}


@router.get("/topics", dependencies=[READ])
def list_topics(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {"topics": topics(state.db)}


@router.post("/topics/{name}/subscriptions", status_code=201, dependencies=[WRITE])
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
        )
    except SubscriptionTakenError as exc:
        raise ApiError(409, "conflict", exc.message) from None
    return {
        "id": sub.id,
        "topic": name,
        "protocol": sub.protocol,
        "config": _redacted(sub.protocol, dict(sub.config)),
    }


@router.get("/topics/{name}/subscriptions", dependencies=[READ])
def list_subscriptions(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {
        "subscriptions": [
            {
                "id": s.id,
                "protocol": s.protocol,
                "config": _redacted(s.protocol, dict(s.config)),
                "filter_policy": s.filter_policy,
            }
            for s in subscriptions_of(state.db, name)
        ]
    }


@router.get("/dead-letters", dependencies=[READ])
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
    ids: list[int] | None = None
    subscription: str | None = None


@router.post("/dead-letters/redrive", dependencies=[WRITE])
def redrive(body: RedriveIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    if not body.ids and not body.subscription:
        raise ApiError(422, "validation_error", "give ids or a subscription to redrive")
    count = make_outbox(state.db).redrive(body.ids, subscription=body.subscription)
    return {"redriven": count}


class SilenceIn(BaseModel):
    matchers: list[str] = Field(min_length=1)
    starts_at: datetime | None = None
    ends_at: datetime
    comment: str = ""


@router.post("/silences", status_code=201)
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
    }


@router.get("/silences", dependencies=[READ])
def list_silences(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return {
        "silences": [
            {
                "id": s.id,
                "matchers": s.matchers,
                "starts_at": s.starts_at.isoformat(),
                "ends_at": s.ends_at.isoformat(),
                "comment": s.comment,
            }
            for s in active_silences(state.db, datetime.now(timezone.utc))
        ]
    }
