"""Platform events: PutEvents, the receivers (GitHub, GitLab, an EventBridge API destination)
and the event list.

``POST /events`` takes ``{"Entries": [...]}`` as EventBridge's PutEvents (custom sources only;
``aws.*`` arrive through ``/events/eventbridge``) and answers per entry. The receivers
authenticate by what their sender can give: GitHub's ``X-Hub-Signature-256`` (secret
``VIGIL_GITHUB_WEBHOOK_SECRET``), GitLab's ``X-Gitlab-Token`` (``VIGIL_GITLAB_WEBHOOK_TOKEN``),
an API destination's API-key header (``VIGIL_EVENTBRIDGE_API_KEY`` in the header named by
``VIGIL_EVENTBRIDGE_API_KEY_HEADER``, default ``x-api-key``); a bearer token with the
``ingest`` scope is accepted by each of them too.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vigil.app.event_queries import EventFilter, list_events
from vigil.app.events import MAX_ENTRIES, EventBus
from vigil.errors import ConfigError
from vigil.events.envelope import MAX_ENTRY_BYTES, EnvelopeError, validate_event
from vigil.events.runs import STATUSES
from vigil.events.sources import (
    github_event,
    gitlab_event,
    verify_github_signature,
    verify_gitlab_token,
)
from vigil.server.errors import ApiError
from vigil.server.schemas_common import IsoTime, errors
from vigil.server.state import INGEST, READ, ServerState, authorize, bearer, get_state

router = APIRouter(responses=errors(401, 403, 422))


class PutEventsIn(BaseModel):
    """PutEvents' request: each entry ``{Source, DetailType, Detail (a JSON string),
    Resources, Time, EventBusName, TraceHeader}``; checked one by one."""

    Entries: list[Any] = Field(min_length=1, max_length=MAX_ENTRIES)


class EntryOut(BaseModel):
    """``{"EventId"}`` for a stored (or already stored) entry, else the error."""

    EventId: str | None = None
    ErrorCode: str | None = None
    ErrorMessage: str | None = None


class PutEventsOut(BaseModel):
    """PutEvents' answer: how many entries failed, and one result per entry, in order."""

    FailedEntryCount: int
    Entries: list[EntryOut]


class ReceivedOut(BaseModel):
    """What a receiver did with one delivery."""

    id: str | None = Field(description="The stored event's id (the original's for a duplicate).")
    duplicate: bool = False
    stored: bool = True


class EventOut(BaseModel):
    """One event in EventBridge's envelope, with Vigil's ``kind``, ``endpoint_name`` and
    ``schedule_name`` (and any extra envelope key such as ``replay-name``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = "0"
    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str
    time: str
    region: str
    resources: list[str]
    detail: dict[str, Any]
    kind: str | None = None
    endpoint_name: str | None = None
    schedule_name: str | None = None


class EventPageOut(BaseModel):
    """Events, newest first; ``next`` continues the list (pass it as ``cursor``)."""

    events: list[EventOut]
    next: str | None


def bus_of(state: ServerState) -> EventBus:
    """The server's event bus (made once)."""
    bus = state.extras.get("event_bus")
    if bus is None:
        bus = state.extras["event_bus"] = EventBus(state.settings, state.db, state.metrics)
    return bus


async def _bearer_or_refuse(request: Request, state: ServerState, why: str) -> None:
    """A receiver's own check failed: a bearer token with ``ingest`` may still pass."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", why)
    await authorize(request.scope, state, secret.strip(), "ingest")


async def _json(request: Request) -> tuple[bytes, Any]:
    body = await request.body()
    try:
        return body, orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "bad_request", f"body: not valid JSON ({exc})") from None


def _one(state: ServerState, event: dict[str, Any]) -> dict[str, Any]:
    [done] = bus_of(state).ingest([event])
    return {"id": done.id, "duplicate": done.duplicate, "stored": not done.duplicate}


@router.post(
    "/events",
    response_model=PutEventsOut,
    response_model_exclude_none=True,
    responses=errors(400, 413),
    dependencies=[INGEST],
)
def put_events(body: PutEventsIn, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """PutEvents: a bad entry fails alone with its reason; the others are stored. At most
    500 entries (AWS: 10), each at most 256 KB."""
    entries: list[Any] = []
    too_big: dict[int, str] = {}
    for i, entry in enumerate(body.Entries):
        try:
            size = len(orjson.dumps(entry))
        except TypeError as exc:  # a number JSON allows that no event may hold (2**64...)
            too_big[i] = f"entry: {exc} (integers must fit 64 bits)"
            entries.append(None)
            continue
        if size > MAX_ENTRY_BYTES:
            too_big[i] = f"entry over {MAX_ENTRY_BYTES} bytes"
            entries.append(None)
        else:
            entries.append(entry)
    answer = bus_of(state).put_entries([e for e in entries if e is not None])
    if too_big:
        it = iter(answer["Entries"])
        answer["Entries"] = [
            {"ErrorCode": "EntryTooLarge" if "over" in too_big[i] else "InvalidArgument",
             "ErrorMessage": too_big[i]} if i in too_big
            else next(it)
            for i in range(len(entries))
        ]
        answer["FailedEntryCount"] += len(too_big)
    return answer


@router.post("/events/eventbridge", response_model=ReceivedOut, responses=errors(400))
async def eventbridge(
    request: Request,
    state: ServerState = Depends(get_state),
    declared: HTTPAuthorizationCredentials | None = Depends(bearer),  # the scheme in OpenAPI
) -> Any:
    """One whole event as an EventBridge API destination posts it (``aws.*`` sources too)."""
    key, header = state.settings.eventbridge_api_key, state.settings.eventbridge_api_key_header
    given = request.headers.get(header, "")
    if not (key and given and hmac.compare_digest(key.encode(), given.encode())):
        why = f"missing or wrong API key ({header}) or bearer token"
        await _bearer_or_refuse(request, state, why)
    _, data = await _json(request)
    try:
        event = validate_event(data)
    except EnvelopeError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    return await run_in_threadpool(_one, state, event)


@router.post("/events/github", response_model=ReceivedOut, responses=errors(400))
async def github(
    request: Request,
    state: ServerState = Depends(get_state),
    declared: HTTPAuthorizationCredentials | None = Depends(bearer),  # the scheme in OpenAPI
) -> Any:
    """A GitHub webhook delivery (``workflow_run``, ``workflow_job``...), signed with the
    secret in ``X-Hub-Signature-256``; ``ping`` is answered and not stored."""
    body = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    if not verify_github_signature(state.settings.github_webhook_secret, body, signature):
        await _bearer_or_refuse(request, state, "missing or wrong X-Hub-Signature-256 signature")
    _, data = await _json(request)
    name = request.headers.get("x-github-event", "")
    if name == "ping":
        return {"id": None, "duplicate": False, "stored": False}
    try:
        event = github_event(name, request.headers.get("x-github-delivery"), data)
    except EnvelopeError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    return await run_in_threadpool(_one, state, event)


@router.post("/events/gitlab", response_model=ReceivedOut, responses=errors(400))
async def gitlab(
    request: Request,
    state: ServerState = Depends(get_state),
    declared: HTTPAuthorizationCredentials | None = Depends(bearer),  # the scheme in OpenAPI
) -> Any:
    """A GitLab webhook delivery (``Pipeline Hook``, ``Job Hook``...), authenticated by its
    ``X-Gitlab-Token``."""
    token = request.headers.get("x-gitlab-token")
    if not verify_gitlab_token(state.settings.gitlab_webhook_token, token):
        await _bearer_or_refuse(request, state, "missing or wrong X-Gitlab-Token")
    _, data = await _json(request)
    try:
        event = gitlab_event(
            request.headers.get("x-gitlab-event", ""),
            request.headers.get("x-gitlab-event-uuid"),
            data,
        )
    except EnvelopeError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    return await run_in_threadpool(_one, state, event)


@router.get("/events", response_model=EventPageOut, responses=errors(400), dependencies=[READ])
def events(
    source: str | None = None,
    detail_type: str | None = Query(None, alias="detail-type"),
    since: IsoTime | None = Query(None, description="From this event time (inclusive)."),
    until: IsoTime | None = Query(None, description="Before this event time (exclusive)."),
    resource: str | None = Query(None, description="An ARN or URL among the resources."),
    kind: str | None = Query(None, description="A run kind (training_job...) or Vigil kind."),
    name: str | None = Query(None, description="A run's name (job, pipeline...)."),
    status: str | None = Query(None, pattern=f"^({'|'.join(STATUSES)})$"),
    pattern: str | None = Query(None, description="An event pattern (JSON), as rules use."),
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, description="The `next` of the previous page."),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    """Stored events, newest first, in the envelope (with Vigil's ``kind``...)."""
    parsed = None
    if pattern is not None:
        try:
            parsed = orjson.loads(pattern)
        except orjson.JSONDecodeError as exc:
            raise ApiError(422, "validation_error", f"pattern: not valid JSON ({exc})") from None
    f = EventFilter(source, detail_type, since, until, resource, kind, name, status, parsed)
    try:
        page = list_events(state.db, f, limit=limit, cursor=cursor)
    except ConfigError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    return {"events": page.events, "next": page.next}


@router.get(
    "/events/{event_id}", response_model=EventOut, responses=errors(404), dependencies=[READ]
)
def event(event_id: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """One stored event."""
    found = bus_of(state).get(event_id)
    if found is None:
        raise ApiError(404, "not_found", f"no event with id {event_id!r}")
    return found
