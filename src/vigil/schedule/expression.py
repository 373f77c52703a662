"""The parsed form every schedule expression takes, and the UTC conventions they share.

Parse with :func:`vigil.schedule.parse_schedule`; the forms are in :mod:`vigil.schedule.cron`
(AWS six-field and standard five-field cron) and :mod:`vigil.schedule.rate` (``rate(...)``,
``NOW``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from vigil.errors import ConfigError

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The anchor of every ``rate(...)`` schedule."""

def _utc(t: datetime) -> datetime:
    """``t`` as an aware UTC datetime; a naive datetime is taken to be UTC already."""
    if t.tzinfo is None or t.utcoffset() is None:
        return t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


class ScheduleExpression(ABC):
    """A parsed schedule: the fire times of a monitor, in UTC.

    Every method takes aware or naive datetimes (naive ones are read as UTC) and returns
    aware UTC datetimes.
    """

    expression: str

    @property
    def is_one_time(self) -> bool:
        """Whether the schedule fires once (``NOW``) rather than on a cadence."""
        return False

    @abstractmethod
    def next_after(self, t: datetime) -> datetime | None:
        """The first fire time strictly after ``t``; None when the schedule never fires again."""

    @abstractmethod
    def previous_before(self, t: datetime) -> datetime | None:
        """The last fire time strictly before ``t``; None when there is none."""

    def fires_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every fire time in ``(start, end]``, oldest first, produced lazily.

        For catching up missed runs and backfills; cap with ``itertools.islice`` when the
        range may be long.
        """
        end = _utc(end)
        t = self.next_after(start)
        while t is not None and t <= end:
            yield t
            t = self.next_after(t)

    def period(self, at: datetime) -> timedelta:
        """The length of the default window of a run at ``at``: the time since the previous fire.

        For ``rate(...)`` it is the rate. For cron it is ``at`` minus the last fire time
        before ``at`` (at a fire time: the gap between consecutive runs). When the schedule
        has no earlier fire time (the first run of a cron limited by its year field), the gap
        to the next fire time is used instead.
        """
        at = _utc(at)
        prev = self.previous_before(at)
        if prev is not None:
            return at - prev
        nxt = self.next_after(at)
        if nxt is not None:
            return nxt - at
        raise ConfigError(
            f"{self.expression}: fires only once, so it has no period; give explicit window offsets"
        )

    def __str__(self) -> str:
        return self.expression

