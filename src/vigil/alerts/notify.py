"""Topics and subscriptions, and the bridge from alarm transitions to the delivery outbox.

An alarm's actions name topics (``alarm_actions: [team]``). Each transition becomes one
:class:`~vigil.alerts.delivery.Message` per topic: subject ``ALARM: "name" ...`` as SNS
writes it, the reason as body, attributes ``alarm``, ``state`` and ``previous_state`` (for
filter policies) and a payload with ``status`` firing or resolved, so PagerDuty resolves its
incident and Alertmanager ends its alert. The outbox then delivers at least once. An alarm
going to ``INSUFFICIENT_DATA`` only notifies the topics of its ``insufficient_data_actions``,
so a no-data alarm never pages anyone unless asked to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import select

from vigil.alerts.delivery import Message, Outbox, RetryPolicy, SQLOutboxStore, Subscription
from vigil.alerts.delivery import default_channels as _channels
from vigil.alerts.routing import Matcher
from vigil.alerts.service import Transition
from vigil.errors import ConfigError
from vigil.store.db import Database
from vigil.store.errors import NotFoundError
from vigil.store.models import (
    NotificationGroup,
    NotifiedState,
    SilenceRecord,
    SubscriptionRecord,
    TopicRecord,
)

SILENCED = "SILENCED"  # the last transition to this topic was muted
SEVERITY = {"ALARM": "critical", "OK": "info", "INSUFFICIENT_DATA": "warning"}


def put_topic(db: Database, name: str, grouping: Mapping[str, Any] | None = None) -> TopicRecord:
    """Create or update a topic; ``grouping`` (group_by, group_wait, group_interval,
    repeat_interval, send_resolved) turns on Alertmanager-style grouping."""
    with db.session() as s:
        row = s.get(TopicRecord, name) or TopicRecord(name=name)
        row.grouping = dict(grouping) if grouping else None
        s.add(row)
        s.flush()
        return row


def subscribe(
    db: Database,
    topic: str,
    protocol: str,
    config: Mapping[str, Any],
    *,
    filter_policy: Mapping[str, Any] | None = None,
    retry: Mapping[str, Any] | None = None,
    id: str | None = None,
) -> Subscription:
    """Add a subscriber to a topic; the configuration is checked by building it."""
    sub_id = id or f"{topic}-{protocol}-{uuid.uuid4().hex[:8]}"
    sub = _subscription(sub_id, topic, protocol, dict(config), filter_policy, retry)
    with db.session() as s:
        if s.get(TopicRecord, topic) is None:
            raise NotFoundError(f"no topic named {topic!r}")
        row = s.get(SubscriptionRecord, sub_id) or SubscriptionRecord(id=sub_id)
        row.topic, row.protocol, row.config = topic, protocol, dict(config)
        row.filter_policy = dict(filter_policy) if filter_policy else None
        row.retry = dict(retry) if retry else None
        s.add(row)
    return sub


def _subscription(
    sub_id: str,
    topic: str,
    protocol: str,
    config: dict[str, Any],
    filter_policy: Mapping[str, Any] | None,
    retry: Mapping[str, Any] | None,
) -> Subscription:
    try:
        return Subscription(
            id=sub_id,
            protocol=protocol,
            config=config,
            topic=topic,
            filter_policy=filter_policy,
            retry=RetryPolicy.from_dict(retry) if retry else None,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"subscription {sub_id!r}: {exc}") from None


def subscriptions_of(db: Database, topic: str) -> list[Subscription]:
    """The subscriptions of a topic."""
    with db.session() as s:
        rows = list(s.scalars(select(SubscriptionRecord).where(SubscriptionRecord.topic == topic)))
    return [
        _subscription(r.id, r.topic, r.protocol, r.config, r.filter_policy, r.retry) for r in rows
    ]


def topics(db: Database) -> list[str]:
    """Every topic's name."""
    with db.session() as s:
        return [t.name for t in s.scalars(select(TopicRecord).order_by(TopicRecord.name))]


def make_outbox(db: Database, channels: Mapping[str, Any] | None = None) -> Outbox:
    """The server's outbox over the database."""
    return Outbox(SQLOutboxStore(db), channels or _channels(), workers=4, lease_seconds=60)


def message_for(t: Transition, topic: str) -> Message:
    """The notification of one alarm transition to one topic."""
    status = "resolved" if t.new_state == "OK" else "firing"
    return Message(
        topic=topic,
        subject=f'{t.new_state}: "{t.alarm}" in vigil'[:100],
        body=f"Alarm {t.alarm} changed from {t.old_state} to {t.new_state}.\n\n{t.reason}",
        attributes={"alarm": t.alarm, "state": t.new_state, "previous_state": t.old_state},
        payload={
            "alarm": t.alarm,
            "state": t.new_state,
            "status": status,
            "severity": SEVERITY.get(t.new_state, "warning"),
            "source": "vigil",
            "reason": t.reason,
            "reason_data": t.reason_data,
            "starts_at": t.time.isoformat(),
        },
        created_at=t.time if t.time.tzinfo else t.time.replace(tzinfo=timezone.utc),
    )


def add_silence(
    db: Database,
    matchers: Iterable[str],
    starts_at: datetime,
    ends_at: datetime,
    comment: str = "",
    created_by: str = "",
) -> str:
    """Mute notifications of alarms whose labels (``alarm``, ``state`` and the alarm's
    dimensions) match every matcher (``name=value``, ``!=``, ``=~``, ``!~``)."""
    matchers = list(matchers)
    for m in matchers:
        Matcher.parse(m)  # validates it
    if not matchers:
        raise ConfigError('a silence needs at least one matcher, e.g. alarm=~"drift.*"')
    if ends_at <= starts_at:
        raise ConfigError("a silence must end after it starts")
    silence_id = str(uuid.uuid4())
    with db.session() as s:
        s.add(
            SilenceRecord(
                id=silence_id,
                matchers=matchers,
                starts_at=starts_at,
                ends_at=ends_at,
                comment=comment,
                created_by=created_by,
            )
        )
    return silence_id


def active_silences(db: Database, now: datetime) -> list[SilenceRecord]:
    """Silences in force at ``now``."""
    with db.session() as s:
        return list(
            s.scalars(
                select(SilenceRecord).where(
                    SilenceRecord.starts_at <= now, SilenceRecord.ends_at > now
                )
            )
        )


def _labels(db: Database, t: Transition) -> dict[str, str]:
    from vigil.store.models import AlarmRecord

    with db.session() as s:
        row = s.get(AlarmRecord, t.alarm)
    dims = dict((row.spec or {}).get("dimensions") or {}) if row is not None else {}
    return {**{str(k): str(v) for k, v in dims.items()}, "alarm": t.alarm, "state": t.new_state}


def notify_transitions(
    db: Database, outbox: Outbox, transitions: Iterable[Transition], now: datetime | None = None
) -> int:
    """Queue one message per transition and topic named in its actions; returns how many
    deliveries were queued. Action names that are not topics are left to the action rules.

    A transition matching an active silence is muted, as is an ALARM inhibited by a firing
    source alarm with equal labels (a topic's ``grouping.inhibit_rules``) and a transition of
    an alarm flapping (more than ``FLAP_TRANSITIONS`` changes in ``FLAP_WINDOW``), except a
    return to OK of an alarm whose ALARM was notified: that resolve is owed and always sent.
    The return to OK of an alarm whose ALARM was muted is not sent either (nobody heard of
    the ALARM). ``now`` is the evaluation time (silences are checked at it); deliveries are
    due at once.
    """
    now = now or datetime.now(timezone.utc)
    with db.session() as s:
        rows = {t.name: t.grouping for t in s.scalars(select(TopicRecord))}
    known = set(rows)
    silences = [[Matcher.parse(m) for m in s.matchers] for s in active_silences(db, now)]
    inhibitors = _inhibit_rules(rows)
    queued = 0
    for t in transitions:
        labels = _labels(db, t)
        muted = (
            any(all(m.matches(labels) for m in group) for group in silences)
            or (t.new_state == "ALARM" and _inhibited(db, labels, inhibitors))
            or (t.new_state != "OK" and _flapping(db, t.alarm, now))
        )
        for name in t.actions:
            if name not in known:
                continue
            if rows[name]:
                if not muted or t.new_state == "OK":
                    _join_group(db, name, rows[name], t, labels, now)
                continue
            with db.session() as s:
                last = s.get(NotifiedState, (t.alarm, name))
                if last is None:
                    last = NotifiedState(alarm=t.alarm, topic=name, state="")
                    s.add(last)
                owed = t.new_state == "OK" and last.state == "ALARM"
                unseen = t.new_state == "OK" and last.state == SILENCED  # its ALARM was muted
                if (muted and not owed) or unseen:
                    last.state = SILENCED if muted else t.new_state
                    continue
                last.state = t.new_state
            queued += outbox.enqueue(message_for(t, name), subscriptions_of(db, name))
    return queued


FLAP_TRANSITIONS = 4
FLAP_WINDOW = timedelta(minutes=30)


def _flapping(db: Database, alarm: str, now: datetime) -> bool:
    """More than FLAP_TRANSITIONS state changes within FLAP_WINDOW (damped until stable)."""
    from vigil.store.models import AlarmHistory

    with db.session() as s:
        recent = (
            s.query(AlarmHistory)
            .filter(AlarmHistory.alarm_name == alarm, AlarmHistory.time > now - FLAP_WINDOW)
            .count()
        )
    return recent > FLAP_TRANSITIONS


def _inhibit_rules(
    groupings: Mapping[str, Any],
) -> list[tuple[list[Matcher], list[Matcher], list[str]]]:
    rules = []
    for grouping in groupings.values():
        for rule in (grouping or {}).get("inhibit_rules") or []:
            rules.append(
                (
                    [Matcher.parse(m) for m in rule.get("source", [])],
                    [Matcher.parse(m) for m in rule.get("target", [])],
                    list(rule.get("equal", [])),
                )
            )
    return rules


def _inhibited(
    db: Database,
    labels: Mapping[str, str],
    rules: list[tuple[list[Matcher], list[Matcher], list[str]]],
) -> bool:
    """Whether a firing source alarm inhibits an alarm with these labels."""
    if not rules:
        return False
    from vigil.store.models import AlarmRecord

    with db.session() as s:
        firing = [r for r in s.scalars(select(AlarmRecord).where(AlarmRecord.state == "ALARM"))]
    for source, target, equal in rules:
        if not all(m.matches(labels) for m in target):
            continue
        for row in firing:
            dims = {str(k): str(v) for k, v in ((row.spec or {}).get("dimensions") or {}).items()}
            src = {**dims, "alarm": row.name, "state": row.state}
            if (
                src["alarm"] != labels.get("alarm")
                and all(m.matches(src) for m in source)
                and all(src.get(k) == labels.get(k) for k in equal)
            ):
                return True
    return False


def _group_key(grouping: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, dict]:
    chosen = {k: labels.get(k, "") for k in grouping.get("group_by") or ["alarm"]}
    return orjson.dumps(chosen, option=orjson.OPT_SORT_KEYS).decode(), chosen


def _join_group(
    db: Database,
    topic: str,
    grouping: Mapping[str, Any],
    t: Transition,
    labels: Mapping[str, str],
    now: datetime,
) -> None:
    """Record a transition in its group (durably); :func:`flush_groups` notifies it."""
    key, chosen = _group_key(grouping, labels)
    with db.session() as s:
        group = s.get(NotificationGroup, (topic, key))
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
        members = dict(group.members)
        members[t.alarm] = {"state": t.new_state, "reason": t.reason}
        group.members, group.changed = members, True


def _seconds(value: Any) -> float:
    return float(value or 0.0)


def flush_groups(db: Database, outbox: Outbox, now: datetime) -> int:
    """Send the group notifications due at ``now`` (Alertmanager's timers); returns how many
    deliveries were queued. A group whose every alarm is OK and was notified resolved ends."""
    queued = 0
    with db.session() as s:
        topics_grouping = {t.name: t.grouping for t in s.scalars(select(TopicRecord))}
        groups = list(s.scalars(select(NotificationGroup)))
    for g in groups:
        grouping = topics_grouping.get(g.topic) or {}
        firing = sorted(a for a, m in g.members.items() if m["state"] == "ALARM")
        resolved = sorted(a for a in g.sent_firing if g.members.get(a, {}).get("state") != "ALARM")
        if g.last_sent_at is None:
            due = bool(firing) and now >= g.created_at + timedelta(
                seconds=_seconds(grouping.get("group_wait"))
            )
        elif g.changed:
            due = now >= g.last_sent_at + timedelta(
                seconds=_seconds(grouping.get("group_interval"))
            )
        else:
            repeat = grouping.get("repeat_interval")
            due = (
                bool(firing)
                and repeat is not None
                and now >= g.last_sent_at + timedelta(seconds=float(repeat))
            )
        wants_resolved = grouping.get("send_resolved", True)
        send = due and (firing or (resolved and wants_resolved))
        if send:
            queued += outbox.enqueue(
                _group_message(g, firing, resolved if wants_resolved else [], now),
                subscriptions_of(db, g.topic),
            )
        with db.session() as s:
            row = s.get(NotificationGroup, (g.topic, g.group_key))
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
    names = ", ".join(f"{k}={v}" for k, v in sorted(g.labels.items()))
    lines = [f"{a}: ALARM ({g.members[a]['reason']})" for a in firing]
    lines += [f"{a}: resolved" for a in resolved]
    return Message(
        topic=g.topic,
        subject=f"[{status.upper()}:{len(firing) or len(resolved)}] {names}"[:100],
        body="\n".join(lines),
        attributes={"status": status, **{k: str(v) for k, v in g.labels.items()}},
        payload={
            "status": status,
            "group_key": g.group_key,
            "group_labels": g.labels,
            "alarm": names,
            "alerts": [{"alarm": a, "status": "firing"} for a in firing]
            + [{"alarm": a, "status": "resolved"} for a in resolved],
        },
        created_at=now,
    )


def repush_firing(db: Database, outbox: Outbox, now: datetime) -> int:
    """Re-send every alarm still in ALARM to the Alertmanager subscriptions of its topics.

    Alertmanager resolves an alert it has not heard of for ``resolve_timeout`` (5 minutes by
    default), so a client must repeat firing alerts; the server calls this every minute.
    """
    from vigil.store.models import AlarmRecord

    with db.session() as s:
        firing = list(s.scalars(select(AlarmRecord).where(AlarmRecord.state == "ALARM")))
    known = set(topics(db))
    queued = 0
    for row in firing:
        for topic in (row.spec or {}).get("alarm_actions", []):
            if topic not in known:
                continue
            subs = [x for x in subscriptions_of(db, topic) if x.protocol == "alertmanager"]
            if subs:
                t = Transition(
                    row.name,
                    "ALARM",
                    "ALARM",
                    row.state_reason,
                    row.state_reason_data or {},
                    [topic],
                    row.state_updated_at,
                )
                queued += outbox.enqueue(message_for(t, topic), subs)
    return queued
