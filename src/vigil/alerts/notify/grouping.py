"""Alertmanager-style grouping of a topic's notifications, kept in the database.

Alarms with equal ``group_by`` labels form one group; a transition joins its group and
:func:`flush_groups` sends the group when its timers say so: ``group_wait`` after it
appears, at most every ``group_interval`` while it changes, every ``repeat_interval`` while
it still fires unchanged, and once resolved when every alarm in it is OK.

>>> group_key({"group_by": ["Endpoint"]}, {"alarm": "a", "Endpoint": "churn"})
('{"Endpoint":"churn"}', {'Endpoint': 'churn'})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.alerts.delivery import Message, Outbox, Subscription
from vigil.alerts.notify.context import NoticeContext
from vigil.alerts.notify.topics import load_subscriptions, load_topics
from vigil.alerts.service import Transition
from vigil.events.severity import DEFAULT_SEVERITY, most_severe
from vigil.store.db import Database
from vigil.store.models import NotificationGroup

GroupId = tuple[str, str]  # (topic, group key)


def group_key(grouping: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, dict]:
    """The key of the group these labels fall in, and its labels."""
    chosen = {k: labels.get(k, "") for k in grouping.get("group_by") or ["alarm"]}
    return orjson.dumps(chosen, option=orjson.OPT_SORT_KEYS).decode(), chosen


def load_groups(s: Session, ids: Iterable[GroupId]) -> dict[GroupId, NotificationGroup]:
    """The stored groups of these ids, in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    query = select(NotificationGroup).where(
        NotificationGroup.topic.in_(sorted({topic for topic, _ in wanted})),
        NotificationGroup.group_key.in_(sorted({key for _, key in wanted})),
    )
    rows = {(g.topic, g.group_key): g for g in s.scalars(query)}
    return {k: v for k, v in rows.items() if k in wanted}


def join_group(
    s: Session,
    groups: dict[GroupId, NotificationGroup],
    topic: str,
    grouping: Mapping[str, Any],
    t: Transition,
    labels: Mapping[str, str],
    now: datetime,
    severity: str = DEFAULT_SEVERITY,
    context: NoticeContext | None = None,
) -> None:
    """Record a transition in its group (durably, when ``s`` commits); ``groups`` holds the
    groups loaded so far and gains the group created. :func:`flush_groups` notifies it,
    each alarm with the summary and links of its ``context``."""
    key, chosen = group_key(grouping, labels)
    group = groups.get((topic, key))
    if group is None:
        group = NotificationGroup(
            topic=topic,
            group_key=key,
            labels=chosen,
            members={},
            sent_firing=[],
            changed=True,
            created_at=now,
        )
        s.add(group)
        groups[(topic, key)] = group
    members = dict(group.members)
    members[t.alarm] = {"state": t.new_state, "reason": t.reason, "severity": severity}
    if context is not None:
        members[t.alarm].update(summary=context.summary, links=dict(context.links))
    group.members, group.changed = members, True


def _seconds(value: Any) -> float:
    return float(value or 0.0)


def _due(
    g: NotificationGroup, grouping: Mapping[str, Any], firing: list[str], now: datetime
) -> bool:
    """Whether the group's timers say it is to be sent at ``now``."""
    if g.last_sent_at is None:
        return bool(firing) and now >= g.created_at + timedelta(
            seconds=_seconds(grouping.get("group_wait"))
        )
    if g.changed:
        return now >= g.last_sent_at + timedelta(seconds=_seconds(grouping.get("group_interval")))
    repeat = grouping.get("repeat_interval")
    return (
        bool(firing)
        and repeat is not None
        and now >= g.last_sent_at + timedelta(seconds=float(repeat))
    )


def flush_groups(db: Database, outbox: Outbox, now: datetime) -> int:
    """Send the group notifications due at ``now`` (Alertmanager's timers); returns how many
    deliveries were queued. A group whose every alarm is OK and was notified resolved ends."""
    batch: list[tuple[Message, list[Subscription]]] = []
    outcomes: dict[GroupId, tuple[bool, list[str]]] = {}  # group -> (due, firing)
    with db.session() as s:
        topics_grouping = load_topics(s)
        groups = list(s.scalars(select(NotificationGroup)))
        subscriptions = load_subscriptions(s, {g.topic for g in groups})
    for g in groups:
        grouping = topics_grouping.get(g.topic) or {}
        firing = sorted(a for a, m in g.members.items() if m["state"] == "ALARM")
        resolved = sorted(a for a in g.sent_firing if g.members.get(a, {}).get("state") != "ALARM")
        due = _due(g, grouping, firing, now)
        wants_resolved = grouping.get("send_resolved", True)
        if due and (firing or (resolved and wants_resolved)):
            message = _group_message(g, firing, resolved if wants_resolved else [], now)
            batch.append((message, subscriptions.get(g.topic, [])))
        outcomes[(g.topic, g.group_key)] = (due, firing)
    queued = outbox.enqueue_many(batch)
    todo = {k: v for k, v in outcomes.items() if v[0] or not v[1]}  # sent, or maybe ended
    if not todo:
        return queued
    with db.session() as s:
        for key, row in load_groups(s, todo).items():
            due, firing = todo[key]
            if due:
                row.last_sent_at, row.changed = now, False
                row.sent_firing = firing
            if not firing and (due or not row.sent_firing):
                s.delete(row)  # every alarm is OK and nothing is owed any more
    return queued


def _group_message(
    g: NotificationGroup, firing: list[str], resolved: list[str], now: datetime
) -> Message:
    status = "firing" if firing else "resolved"
    # the group's severity: its most urgent alarm of those named in this message
    severity = most_severe(g.members.get(a, {}).get("severity") for a in firing + resolved)
    names = ", ".join(f"{k}={v}" for k, v in sorted(g.labels.items()))
    lines = []
    for a in firing:
        member = g.members[a]
        lines.append(f"{a}: ALARM ({member['reason']})")
        lines += [f"  {text}" for text in _explained(member)]
    lines += [f"{a}: resolved" for a in resolved]
    return Message(
        topic=g.topic,
        subject=f"[{status.upper()}:{len(firing) or len(resolved)}] {names}"[:100],
        body="\n".join(lines),
        attributes={"status": status, **{k: str(v) for k, v in g.labels.items()},
                    "severity": severity},
        payload={
            "status": status,
            "severity": severity,
            "group_key": g.group_key,
            "group_labels": g.labels,
            "alarm": names,
            "alerts": [{"alarm": a, "status": "firing", **_extras(g.members[a])}
                       for a in firing]
            + [{"alarm": a, "status": "resolved"} for a in resolved],
        },
        created_at=now,
    )


def _explained(member: Mapping[str, Any]) -> list[str]:
    """The summary and link lines of one alarm of a group."""
    out = [str(member["summary"])] if member.get("summary") else []
    out += [f"{k}: {url}" for k, url in (member.get("links") or {}).items()]
    return out


def _extras(member: Mapping[str, Any]) -> dict[str, Any]:
    """The summary and links of one alarm of a group, for the payload."""
    return {k: member[k] for k in ("summary", "links") if member.get(k)}
