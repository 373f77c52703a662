"""The bridge from alarm transitions to the delivery outbox.

Each transition becomes one message per topic its actions name (:func:`message_for`), muted
by silences, inhibition and flap damping; a grouped topic collects it in its group instead.
:func:`notify_transitions` reads what it needs for all the transitions at once (topics,
subscriptions, silences, the alarms' labels, the firing alarms, flap counts, the groups and
the last notified states), so an evaluation costs a few queries however many alarms change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.alerts.delivery import Message, Outbox, Subscription
from vigil.alerts.notify.context import Explainer, NoticeContext, with_context
from vigil.alerts.notify.flapping import flapping_alarms
from vigil.alerts.notify.grouping import GroupId, group_key, join_group, load_groups
from vigil.alerts.notify.inhibition import inhibit_rules, inhibited
from vigil.alerts.notify.labels import alarm_labels, load_alarms
from vigil.alerts.notify.silences import load_silences, silenced
from vigil.alerts.notify.topics import load_subscriptions, load_topics
from vigil.alerts.service import Transition
from vigil.events.severity import DEFAULT_SEVERITY, SEVERITIES, subject_prefix
from vigil.store.db import Database
from vigil.store.models import AlarmRecord, NotifiedState

log = logging.getLogger(__name__)
SILENCED = "SILENCED"  # the last transition to this topic was muted
#: before alarms had a severity, a transition's came from its new state (kept for callers)
SEVERITY = {"ALARM": "critical", "OK": "info", "INSUFFICIENT_DATA": "warning"}


def severity_of(row: AlarmRecord | None) -> str:
    """The stored alarm's severity (the default for an alarm stored without one)."""
    value = str(((row.spec or {}) if row is not None else {}).get("severity") or "")
    return value if value in SEVERITIES else DEFAULT_SEVERITY


def message_for(
    t: Transition,
    topic: str,
    severity: str = DEFAULT_SEVERITY,
    context: NoticeContext | None = None,
) -> Message:
    """The notification of one alarm transition to one topic; the alarm's ``severity``
    prefixes the subject (``[CRITICAL] ALARM: "name" in vigil``) and is the ``severity``
    attribute that filter policies and ``min_severity`` route by (a resolve keeps the
    alarm's severity, so it reaches whoever heard of the ALARM). ``context`` adds the links,
    the summary and what changed (:func:`~vigil.alerts.notify.context.with_context`)."""
    status = "resolved" if t.new_state == "OK" else "firing"
    message = Message(
        topic=topic,
        subject=f'{subject_prefix(severity)}{t.new_state}: "{t.alarm}" in vigil'[:100],
        body=f"Alarm {t.alarm} changed from {t.old_state} to {t.new_state}.\n\n{t.reason}",
        attributes={"alarm": t.alarm, "state": t.new_state, "previous_state": t.old_state,
                    "severity": severity},
        payload={
            "alarm": t.alarm,
            "state": t.new_state,
            "status": status,
            "severity": severity,
            "source": "vigil",
            "reason": t.reason,
            "reason_data": t.reason_data,
            "starts_at": t.time.isoformat(),
        },
        created_at=t.time if t.time.tzinfo else t.time.replace(tzinfo=timezone.utc),
    )
    return with_context(message, context)


class _Contexts:
    """Each transition's context, built once (for however many topics it goes to); a
    failing explainer costs the notification its context, never the notification."""

    def __init__(self, explain: Explainer | None) -> None:
        self.explain = explain
        self._made: dict[tuple[str, str, str], NoticeContext | None] = {}

    def __call__(self, t: Transition) -> NoticeContext | None:
        if self.explain is None:
            return None
        key = (t.alarm, t.new_state, t.time.isoformat())
        if key not in self._made:
            try:
                self._made[key] = self.explain(t)
            except Exception:  # the notification goes out without its context
                log.exception("building the context of alarm %s's notification failed", t.alarm)
                self._made[key] = None
        return self._made[key]


def _load_notified(s: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], NotifiedState]:
    """The last notified state of these (alarm, topic) pairs, in one query."""
    if not pairs:
        return {}
    query = select(NotifiedState).where(
        NotifiedState.alarm.in_(sorted({a for a, _ in pairs})),
        NotifiedState.topic.in_(sorted({t for _, t in pairs})),
    )
    return {(r.alarm, r.topic): r for r in s.scalars(query) if (r.alarm, r.topic) in pairs}


def notify_transitions(
    db: Database,
    outbox: Outbox,
    transitions: Iterable[Transition],
    now: datetime | None = None,
    explain: Explainer | None = None,
) -> int:
    """Queue one message per transition and topic named in its actions; returns how many
    deliveries were queued. Action names that are not topics are left to the action rules.

    A transition matching an active silence is muted, as is an ALARM inhibited by a firing
    source alarm with equal labels (a topic's ``grouping.inhibit_rules``) and a transition of
    an alarm flapping (more than ``FLAP_TRANSITIONS`` changes in ``FLAP_WINDOW``), except a
    return to OK of an alarm whose ALARM was notified: that resolve is owed and always sent.
    The return to OK of an alarm whose ALARM was muted is not sent either (nobody heard of
    the ALARM), nor an OK after INSUFFICIENT_DATA that the topic was not told of (a new
    alarm's first data: platform.md's answer to alarm noise). ``now`` is the evaluation time
    (silences are checked at it); deliveries are due at once. ``explain`` gives each sent
    transition its links, summary and surrounding changes (the application's).
    """
    now = now or datetime.now(timezone.utc)
    context = _Contexts(explain)
    batch: list[tuple[Message, list[Subscription]]] = []
    with db.session() as s:
        groupings = load_topics(s)
        wanted = [t for t in transitions if any(name in groupings for name in t.actions)]
        if not wanted:
            return 0
        rules = inhibit_rules(groupings)
        check_inhibition = bool(rules) and any(t.new_state == "ALARM" for t in wanted)
        records = load_alarms(s, {t.alarm for t in wanted}, firing=check_inhibition)
        labels = [alarm_labels(records.get(t.alarm), t.alarm, t.new_state) for t in wanted]
        firing = [
            alarm_labels(row, row.name, row.state)
            for row in records.values()
            if check_inhibition and row.state == "ALARM"
        ]
        silences = load_silences(s, now)
        flapping = flapping_alarms(s, {t.alarm for t in wanted if t.new_state != "OK"}, now)
        grouped: set[GroupId] = set()
        direct: set[tuple[str, str]] = set()  # (alarm, topic) of topics without grouping
        for t, lab in zip(wanted, labels):
            for name in t.actions:
                if name not in groupings:
                    continue
                grouping = groupings[name]
                if grouping:
                    grouped.add((name, group_key(grouping, lab)[0]))
                else:
                    direct.add((t.alarm, name))
        groups = load_groups(s, grouped)
        notified = _load_notified(s, direct)
        subscriptions = load_subscriptions(s, {name for _, name in direct})
        for t in wanted:  # built now, while this session has only read (its own reads)
            context(t)
        # every read is done: what follows changes rows in memory, written when s commits
        for t, lab in zip(wanted, labels):
            muted = (
                silenced(lab, silences)
                or (t.new_state == "ALARM" and inhibited(lab, rules, firing))
                or (t.new_state != "OK" and t.alarm in flapping)
            )
            for name in t.actions:
                if name not in groupings:
                    continue
                grouping = groupings[name]
                if grouping:
                    if not muted or t.new_state == "OK":
                        join_group(
                            s, groups, name, grouping, t, lab, now,
                            severity_of(records.get(t.alarm)), context(t),
                        )
                    continue
                last = notified.get((t.alarm, name))
                if last is None:
                    last = notified[(t.alarm, name)] = NotifiedState(
                        alarm=t.alarm, topic=name, state=""
                    )
                    s.add(last)
                owed = t.new_state == "OK" and last.state == "ALARM"
                unseen = t.new_state == "OK" and last.state == SILENCED  # its ALARM was muted
                # a new alarm's first data (INSUFFICIENT_DATA -> OK) is news to nobody unless
                # the topic heard of the missing data (its insufficient_data_actions)
                first_ok = (
                    t.new_state == "OK" and t.old_state == "INSUFFICIENT_DATA"
                    and last.state in ("", "OK")
                )
                if first_ok:
                    last.state = "OK"
                    continue
                if (muted and not owed) or unseen:
                    last.state = SILENCED if muted else t.new_state
                    continue
                last.state = t.new_state
                message = message_for(t, name, severity_of(records.get(t.alarm)), context(t))
                batch.append((message, subscriptions.get(name, [])))
    return outbox.enqueue_many(batch)


def repush_firing(
    db: Database, outbox: Outbox, now: datetime, explain: Explainer | None = None
) -> int:
    """Re-send every alarm still in ALARM to the Alertmanager subscriptions of its topics.

    Alertmanager resolves an alert it has not heard of for ``resolve_timeout`` (5 minutes by
    default), so a client must repeat firing alerts; the server calls this every minute.
    ``explain`` gives the alerts the links they were first sent with.
    """
    context = _Contexts(explain)
    with db.session() as s:
        firing = list(s.scalars(select(AlarmRecord).where(AlarmRecord.state == "ALARM")))
        known = set(load_topics(s))
        named = {t for row in firing for t in (row.spec or {}).get("alarm_actions", [])}
        subscriptions = load_subscriptions(s, named & known)
    batch: list[tuple[Message, list[Subscription]]] = []
    for row in firing:
        for topic in (row.spec or {}).get("alarm_actions", []):
            if topic not in known:
                continue
            subs = [x for x in subscriptions.get(topic, []) if x.protocol == "alertmanager"]
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
                batch.append((message_for(t, topic, severity_of(row), context(t)), subs))
    return outbox.enqueue_many(batch)
