"""Flap damping: an alarm that changed state more than ``FLAP_TRANSITIONS`` times within
``FLAP_WINDOW`` is not notified (except for resolves that are owed) until it is stable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.models import AlarmHistory

FLAP_TRANSITIONS = 4
FLAP_WINDOW = timedelta(minutes=30)


def flapping_alarms(s: Session, alarms: Iterable[str], now: datetime) -> set[str]:
    """Those of ``alarms`` with more than FLAP_TRANSITIONS state changes within FLAP_WINDOW
    before ``now`` (damped until stable), counted in one query."""
    names = sorted(set(alarms))
    if not names:
        return set()
    query = (
        select(AlarmHistory.alarm_name, func.count())
        .where(AlarmHistory.alarm_name.in_(names), AlarmHistory.time > now - FLAP_WINDOW)
        .group_by(AlarmHistory.alarm_name)
    )
    return {name for name, recent in s.execute(query) if recent > FLAP_TRANSITIONS}
