"""Silences: matchers with a start and an end that mute the notifications of matching
alarms (Alertmanager's silences).

>>> from vigil.alerts.routing import Matcher
>>> silenced({"alarm": "drift-age", "state": "ALARM"}, [[Matcher.parse('alarm=~"drift.*"')]])
True
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.alerts.routing import Matcher
from vigil.errors import ConfigError
from vigil.store.db import Database
from vigil.store.models import SilenceRecord


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


def _in_force(s: Session, now: datetime) -> list[SilenceRecord]:
    query = select(SilenceRecord).where(SilenceRecord.starts_at <= now, SilenceRecord.ends_at > now)
    return list(s.scalars(query))


def active_silences(db: Database, now: datetime) -> list[SilenceRecord]:
    """Silences in force at ``now``."""
    with db.session() as s:
        return _in_force(s, now)


def load_silences(s: Session, now: datetime) -> list[list[Matcher]]:
    """The matchers of each silence in force at ``now``."""
    return [[Matcher.parse(m) for m in row.matchers] for row in _in_force(s, now)]


def silenced(labels: Mapping[str, str], silences: Sequence[Sequence[Matcher]]) -> bool:
    """Whether every matcher of some silence matches these labels."""
    return any(all(m.matches(labels) for m in group) for group in silences)
