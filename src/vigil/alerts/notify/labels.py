"""The labels of an alarm that silences, inhibit rules and ``group_by`` match: its
dimensions plus ``alarm`` and ``state``.

>>> alarm_labels(None, "drift-age", "ALARM")
{'alarm': 'drift-age', 'state': 'ALARM'}
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from vigil.store.models import AlarmRecord


def alarm_labels(row: AlarmRecord | None, alarm: str, state: str) -> dict[str, str]:
    """The alarm's dimensions (from its stored spec, none without a row), ``alarm`` and
    ``state``."""
    dims = dict((row.spec or {}).get("dimensions") or {}) if row is not None else {}
    return {**{str(k): str(v) for k, v in dims.items()}, "alarm": alarm, "state": state}


def load_alarms(
    s: Session, names: Iterable[str], *, firing: bool = False
) -> dict[str, AlarmRecord]:
    """The stored alarms of these names, and every alarm in ALARM when ``firing``, in one
    query."""
    wanted = sorted(set(names))
    if not wanted and not firing:
        return {}
    where: ColumnElement[bool] = AlarmRecord.name.in_(wanted)
    if firing:
        where = or_(where, AlarmRecord.state == "ALARM")
    return {row.name: row for row in s.scalars(select(AlarmRecord).where(where))}
