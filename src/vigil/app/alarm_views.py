"""Alarms as the dashboard and the API read them: the list, a state history over a time
range, the spans an alarm spent in ALARM, the silences that mute it, and silencing one.

An alarm is *silenced* while a silence in force matches its labels (its dimensions,
``alarm`` and ``state``: :func:`~vigil.alerts.notify.labels.alarm_labels`), as the
notification bridge decides it. Silencing an alarm from its page adds a silence with the one
matcher ``alarm="NAME"``; un-silencing expires (deletes) one silence in force, as
``DELETE /api/v1/silences/{id}`` does.

>>> from datetime import datetime, timezone
>>> t = lambda h: datetime(2026, 1, 1, h, tzinfo=timezone.utc)
>>> steps = [Step(t(2), "OK", "ALARM"), Step(t(4), "ALARM", "OK")]
>>> [(s.start.hour, s.end.hour, s.state) for s in state_spans(steps, "INSUFFICIENT_DATA",
...                                                            t(1), t(6))]
[(1, 2, 'INSUFFICIENT_DATA'), (2, 4, 'ALARM'), (4, 6, 'OK')]
>>> silence_matcher("hourly-drift")
'alarm="hourly-drift"'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from vigil.alerts.alarms import INSUFFICIENT_DATA
from vigil.alerts.notify import add_silence
from vigil.alerts.notify.labels import alarm_labels
from vigil.alerts.routing import Matcher
from vigil.app.lifecycle import delete_object
from vigil.errors import ConfigError, NotFoundError
from vigil.store.db import Database
from vigil.store.models import AlarmHistory, AlarmRecord, SilenceRecord

#: the states an alarm can be in, in the order the dashboard's state chart stacks them
STATE_LEVELS = {"OK": 0, "INSUFFICIENT_DATA": 1, "ALARM": 2}
#: the longest silence the dashboard sets (ten years, as ``vigil alarm silence``)
MAX_SILENCE_HOURS = 24 * 366 * 10
#: the most transitions one history read returns
HISTORY_LIMIT = 1000


def list_alarms(db: Database, state: str | None = None) -> list[AlarmRecord]:
    """Every alarm by name, or those in ``state`` (``OK``, ``ALARM``, ``INSUFFICIENT_DATA``)."""
    query = select(AlarmRecord).order_by(AlarmRecord.name)
    if state:
        query = query.where(AlarmRecord.state == state)
    with db.session() as s:
        return list(s.scalars(query))


@dataclass(frozen=True)
class Step:
    """One transition: when, from which state, to which."""

    time: datetime
    old_state: str
    new_state: str
    reason: str = ""


@dataclass(frozen=True)
class Span:
    """A stretch of time an alarm spent in one state."""

    start: datetime
    end: datetime
    state: str


@dataclass(frozen=True)
class RangeHistory:
    """An alarm's transitions inside ``[start, end]`` (oldest first) and its state at
    ``start``."""

    start: datetime
    end: datetime
    state_at_start: str
    steps: list[Step]
    truncated: bool  # more transitions than HISTORY_LIMIT fell in the range

    def spans(self) -> list[Span]:
        """The states over the range, one span per stretch."""
        return state_spans(self.steps, self.state_at_start, self.start, self.end)


def history_between(db: Database, name: str, start: datetime, end: datetime) -> RangeHistory:
    """``name``'s transitions from ``start`` to ``end`` and its state at ``start`` (the new
    state of the last transition before it, else the old state of the first one in it,
    else its current state when it never changed since)."""
    with db.session() as s:
        row = s.get(AlarmRecord, name)
        if row is None:
            raise NotFoundError(f"no alarm named {name!r}")
        current = row.state
        rows = list(
            s.scalars(
                select(AlarmHistory)
                .where(AlarmHistory.alarm_name == name, AlarmHistory.time >= start,
                       AlarmHistory.time <= end)
                .order_by(AlarmHistory.time, AlarmHistory.id)
                .limit(HISTORY_LIMIT + 1)
            )
        )
        before = s.scalars(
            select(AlarmHistory)
            .where(AlarmHistory.alarm_name == name, AlarmHistory.time < start)
            .order_by(AlarmHistory.time.desc(), AlarmHistory.id.desc())
            .limit(1)
        ).first()
    truncated = len(rows) > HISTORY_LIMIT
    steps = [Step(h.time, h.old_state, h.new_state, h.reason) for h in rows[:HISTORY_LIMIT]]
    if before is not None:
        at_start = before.new_state
    elif steps:
        at_start = steps[0].old_state
    else:
        at_start = current if row.state_updated_at <= start else INSUFFICIENT_DATA
    return RangeHistory(start, end, at_start, steps, truncated)


def state_spans(
    steps: Sequence[Step], state_at_start: str, start: datetime, end: datetime
) -> list[Span]:
    """The stretches of ``[start, end]`` in each state, given the transitions in it (oldest
    first) and the state at ``start``."""
    out: list[Span] = []
    state, since = state_at_start, start
    for step in steps:
        when = min(max(step.time, start), end)
        if when > since:
            out.append(Span(since, when, state))
        state, since = step.new_state, when
    if end > since or not out:
        out.append(Span(since, end, state))
    return out


def last_alarm_time(db: Database, name: str, until: datetime) -> datetime | None:
    """When ``name`` last went to ALARM at or before ``until``, or None."""
    with db.session() as s:
        return s.scalars(
            select(AlarmHistory.time)
            .where(AlarmHistory.alarm_name == name, AlarmHistory.new_state == "ALARM",
                   AlarmHistory.time <= until)
            .order_by(AlarmHistory.time.desc(), AlarmHistory.id.desc())
            .limit(1)
        ).first()


def silence_matcher(name: str) -> str:
    """The matcher that selects exactly the alarm ``name``."""
    return f'alarm="{name}"'


def silences_by_alarm(
    db: Database, alarms: Iterable[AlarmRecord], now: datetime
) -> dict[str, list[SilenceRecord]]:
    """For each alarm, the silences in force at ``now`` that mute it (an alarm no silence
    matches is left out)."""
    with db.session() as s:
        rows = list(
            s.scalars(
                select(SilenceRecord)
                .where(SilenceRecord.starts_at <= now, SilenceRecord.ends_at > now)
                .order_by(SilenceRecord.ends_at)
            )
        )
    parsed = []
    for row in rows:
        try:
            parsed.append((row, [Matcher.parse(m) for m in row.matchers]))
        except ConfigError:  # a stored matcher that no longer parses mutes nothing
            continue
    out: dict[str, list[SilenceRecord]] = {}
    for alarm in alarms:
        labels = alarm_labels(alarm, alarm.name, alarm.state)
        found = [row for row, group in parsed if all(m.matches(labels) for m in group)]
        if found:
            out[alarm.name] = found
    return out


def silence_alarm(
    db: Database, name: str, hours: float, now: datetime, comment: str = "",
    created_by: str = "",
) -> str:
    """Mute the notifications of alarm ``name`` for ``hours`` from ``now``; the silence's
    id. A :class:`~vigil.errors.ConfigError` for hours outside ``(0, MAX_SILENCE_HOURS]``."""
    if not (isinstance(hours, (int, float)) and math.isfinite(hours)
            and 0 < hours <= MAX_SILENCE_HOURS):
        raise ConfigError(f"hours: expected a number above 0, at most {MAX_SILENCE_HOURS}")
    with db.session() as s:
        if s.get(AlarmRecord, name) is None:
            raise NotFoundError(f"no alarm named {name!r}")
    return add_silence(db, [silence_matcher(name)], now, now + timedelta(hours=hours),
                       comment, created_by=created_by)


def unsilence_alarm(db: Database, name: str, silence_id: str, now: datetime) -> None:
    """Expire the silence ``silence_id``, which must be in force and mute alarm ``name``
    (:class:`~vigil.errors.NotFoundError` otherwise)."""
    with db.session() as s:
        row = s.get(AlarmRecord, name)
        if row is None:
            raise NotFoundError(f"no alarm named {name!r}")
    muting = silences_by_alarm(db, [row], now).get(name, [])
    if not any(x.id == silence_id for x in muting):
        raise NotFoundError(f"no silence {silence_id!r} in force mutes alarm {name!r}")
    delete_object(db, "silence", silence_id)


def transition_counts(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    """How many transitions each alarm made in ``[start, end]`` (alarms with none left out)."""
    with db.session() as s:
        rows = s.execute(
            select(AlarmHistory.alarm_name, func.count())
            .where(AlarmHistory.time >= start, AlarmHistory.time <= end)
            .group_by(AlarmHistory.alarm_name)
        ).tuples().all()
    return {name: int(count) for name, count in rows}
