"""Dashboard page: notifications, the delivery outbox and its dead letters.

``GET /notifications`` shows, for the page's time range, the deliveries per topic and
subscription by status (pending, retrying, delivered, dead, cancelled) with the newest error,
and the deliveries themselves, newest first, with their attempts and last error
(``?status=``, ``?topic=``, ``?subscription=`` narrow them); then every dead letter (of the
chosen subscription), whatever its age, since each needs a decision. A token with ``write``
gets a redrive form per dead letter and one for all of them (``POST
/notifications/redrive``, as ``POST /api/v1/dead-letters/redrive``): each is put back to
pending with a fresh retry policy and the same message id; the answer is 303 back here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.alerts.notify import make_outbox
from vigil.app.outbox_views import STATUSES, outbox_counts, outbox_items
from vigil.server.state import get_state
from vigil.server.ui.render import error_page, page, time_range
from vigil.server.ui.session import Viewer, require_viewer, write_form
from vigil.store.audit import acting_as, token_actor

router = APIRouter(include_in_schema=False)

#: the longest topic or subscription name a filter takes
MAX_NAME = 255
#: the most dead letters one redrive form names
MAX_REDRIVE = 10_000
MAX_ID = 2**63 - 1


def _name(value: str | None, what: str) -> tuple[str | None, str | None]:
    """A topic or subscription filter (None when absent), or the message of a 400."""
    if value is None or value == "":
        return None, None
    if len(value) > MAX_NAME or not value.isprintable():
        return None, f"{what}: expected a {what} name of at most {MAX_NAME} printable characters"
    return value, None


def _subject(payload: dict[str, Any]) -> str | None:
    message = payload.get("message") if isinstance(payload, dict) else None
    subject = message.get("subject") if isinstance(message, dict) else None
    return subject if isinstance(subject, str) else None


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, viewer: Viewer = Depends(require_viewer)
) -> HTMLResponse:
    q = request.query_params
    status = q.get("status") or None
    if status is not None and status not in STATUSES:
        return error_page(request, viewer, 400,
                       f"status: expected one of {', '.join(STATUSES)}, got {status[:40]!r}")
    topic, bad_topic = _name(q.get("topic"), "topic")
    subscription, bad_sub = _name(q.get("subscription"), "subscription")
    if bad_topic or bad_sub:
        return error_page(request, viewer, 400, str(bad_topic or bad_sub))
    redriven: int | None = None
    if q.get("redriven") is not None:
        raw = q["redriven"]
        if not raw.isdigit() or len(raw) > 9:
            return error_page(request, viewer, 400, "redriven: expected a count")
        redriven = int(raw)
    db = get_state(request).db
    tr = time_range(request)
    summary = outbox_counts(db, tr.start, tr.end)
    if topic:
        summary = [c for c in summary if c.topic == topic]
    if subscription:
        summary = [c for c in summary if c.subscription == subscription]
    items = outbox_items(db, tr.start, tr.end, status=status, topic=topic,
                         subscription=subscription)
    dead = [r for r in make_outbox(db).list_dead_letters(subscription)
            if not topic or r.topic == topic]
    letters = [
        {"id": r.id, "created_at": r.created_at, "topic": r.topic,
         "subscription": r.subscription, "protocol": r.protocol,
         "subject": _subject(r.payload), "attempts": r.attempt, "last_status": r.last_status,
         "last_error": r.last_error, "message_id": r.message_id}
        for r in reversed(dead)
    ]
    filters = {k: v for k, v in (("status", status), ("topic", topic),
                                 ("subscription", subscription)) if v}
    return page(
        request, viewer, "notifications.html", "Notifications", time_range=tr,
        summary=summary, items=items, letters=letters, statuses=STATUSES, filters=filters,
        redriven=redriven, range_keep=filters, limit_reached=len(items) >= 200,
    )


def _ids(values: list[Any]) -> list[int] | str:
    """The dead letters' ids of the form, or the message of a 400."""
    out = []
    for value in values:
        text = str(value)
        if not text.isdigit() or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
            return f"id: expected the id of a dead letter, got {text[:40]!r}"
        out.append(int(text))
    if len(out) > MAX_REDRIVE:
        return f"id: at most {MAX_REDRIVE} dead letters at once"
    return out


@router.post("/notifications/redrive", response_model=None)
async def redrive(request: Request, viewer: Viewer = Depends(require_viewer)) -> Response:
    form = await write_form(request, viewer, "redriving dead letters")
    subscription, bad = _name(str(form.get("subscription") or ""), "subscription")
    topic, bad_topic = _name(str(form.get("topic") or ""), "topic")
    if bad or bad_topic:
        return error_page(request, viewer, 400, str(bad or bad_topic))
    outbox = make_outbox(get_state(request).db)
    every = form.get("all") == "1"  # every dead letter of the page's topic and subscription
    chosen = [] if every else _ids(form.getlist("id"))
    if isinstance(chosen, str):
        return error_page(request, viewer, 400, chosen)
    if not every and not chosen:
        return error_page(request, viewer, 400, "give the dead letters to redrive (id or all)")

    def write() -> int:
        ids = chosen
        if every:
            ids = [r.id for r in outbox.list_dead_letters(subscription)
                   if not topic or r.topic == topic]
        with acting_as(token_actor(viewer.name)):
            return outbox.redrive(ids) if ids else 0

    count = await run_in_threadpool(write)
    back = {"redriven": str(count), **({"topic": topic} if topic else {}),
            **({"subscription": subscription} if subscription else {})}
    return RedirectResponse("/notifications?" + urlencode(back), status_code=303)
