"""State reasons worded as CloudWatch words them, and the machine-readable reason data.

The wording mirrors real CloudWatch ``StateReason`` strings (as seen in SNS alarm messages and
``DescribeAlarmHistory``): values newest first, each with its period start as
``dd/mm/yy HH:MM:SS``; numbers as Java prints doubles (``1.0``, ``0.31``):

- ``Threshold Crossed: 1 datapoint [5.2 (05/08/12 22:30:00)] was greater than or equal to the
  threshold (5.0).`` (one evaluation period)
- ``Threshold Crossed: 3 out of the last 3 datapoints [...] were greater than the threshold
  (0.1) (minimum 3 datapoints for OK -> ALARM transition).``
- ``... were not greater than the threshold (0.0) (minimum 3 datapoints for ALARM -> OK
  transition).``
- ``... and 19 missing datapoints were treated as [NonBreaching] (minimum ...).``
- ``Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were
  treated as [Breaching].``
- ``Insufficient Data: 5 datapoints were unknown.``
- anomaly bands: ``Thresholds Crossed: 2 out of the last 2 datapoints [...] were less than the
  lower thresholds [...] or greater than the upper thresholds [...] (minimum ...).``

>>> from datetime import datetime, timezone
>>> point(0.31, datetime(2024, 5, 1, 10, 2, tzinfo=timezone.utc))
'0.31 (01/05/24 10:02:00)'
>>> number(1), number(2.5e-07)
('1.0', '2.5E-7')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

OPERATOR_WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


def number(value: float) -> str:
    """A double as Java's ``Double.toString`` prints it (what CloudWatch shows)."""
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    text = repr(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        if "e" in text:  # repr writes 1e-3 .. 1e7 in positional form except a few edges
            text = f"{value:f}".rstrip("0")
        return text if "." in text else text + ".0"
    mantissa, _, exponent = np.format_float_scientific(value, unique=True, trim="-").partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def stamp(ts: datetime) -> str:
    """A period start as CloudWatch's reasons show it, ``dd/mm/yy HH:MM:SS``."""
    date = f"{ts.day:02d}/{ts.month:02d}/{ts.year % 100:02d}"
    return f"{date} {ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}"


def point(value: float, ts: datetime) -> str:
    """One listed datapoint: ``value (dd/mm/yy HH:MM:SS)``."""
    return f"{number(value)} ({stamp(ts)})"


def iso(ts: datetime) -> str:
    """A timestamp as CloudWatch's reason data writes it, ``2024-05-01T10:00:00.000+0000``."""
    return (
        f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}T{ts.hour:02d}:{ts.minute:02d}:"
        f"{ts.second:02d}.{ts.microsecond // 1000:03d}+0000"
    )


def _datapoints(n: int) -> str:
    return "1 datapoint" if n == 1 else f"{n} datapoints"


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _fill_kind(breaching: bool) -> str:
    return "Breaching" if breaching else "NonBreaching"


def crossed(
    *,
    alarm_state: bool,
    listed: Sequence[tuple[float, datetime]],
    n: int,
    m: int,
    operator: str,
    threshold: float | None,
    bands: Sequence[tuple[float, float]] | None = None,
    filled: int = 0,
    filled_breaching: bool = False,
) -> str:
    """The ``Threshold Crossed`` reason of an OK or ALARM outcome.

    ``listed`` are the real datapoints that support the outcome (breaching ones for ALARM,
    the others for OK), newest first; ``bands`` their (lower, upper) for band operators.

    >>> from datetime import datetime, timezone
    >>> t = [datetime(2024, 5, 1, 10, m, tzinfo=timezone.utc) for m in (2, 1, 0)]
    >>> crossed(alarm_state=True, listed=list(zip([0.35, 0.29, 0.31], t)), n=3, m=3,
    ...         operator="GreaterThanThreshold", threshold=0.1)  # doctest: +NORMALIZE_WHITESPACE
    'Threshold Crossed: 3 out of the last 3 datapoints [0.35 (01/05/24 10:02:00),
    0.29 (01/05/24 10:01:00), 0.31 (01/05/24 10:00:00)] were greater than the threshold (0.1)
    (minimum 3 datapoints for OK -> ALARM transition).'
    """
    fill = ""
    if filled:
        fill = (
            f" and {filled} missing {'datapoint was' if filled == 1 else 'datapoints were'}"
            f" treated as [{_fill_kind(filled_breaching)}]"
        )
    if not listed:
        received = (
            "no datapoints were received"
            if n == filled
            else f"{_datapoints(n - filled)} {_were(n - filled)} received"
        )
        return f"Threshold Crossed: {received} for {n} periods{fill}."
    values = ", ".join(point(v, ts) for v, ts in listed)
    negation = "" if alarm_state else "not "
    if bands is not None:
        lower = ", ".join(number(lo) for lo, _ in bands)
        upper = ", ".join(number(hi) for _, hi in bands)
        phrase = {
            "LessThanLowerOrGreaterThanUpperThreshold": (
                f"less than the lower thresholds [{lower}] or greater than the upper "
                f"thresholds [{upper}]"
            ),
            "LessThanLowerThreshold": f"less than the lower thresholds [{lower}]",
            "GreaterThanUpperThreshold": f"greater than the upper thresholds [{upper}]",
        }[operator]
        head = "Thresholds Crossed"
    else:
        phrase = f"{OPERATOR_WORDS[operator]} the threshold ({number(threshold or 0.0)})"
        head = "Threshold Crossed"
    k = len(listed)
    if n == 1 and not filled:
        return f"{head}: 1 datapoint [{values}] was {negation}{phrase}."
    needed = m if alarm_state else n - m + 1
    transition = "OK -> ALARM" if alarm_state else "ALARM -> OK"
    return (
        f"{head}: {k} out of the last {n} datapoints [{values}] {_were(k)} {negation}{phrase}"
        f"{fill} (minimum {_datapoints(needed)} for {transition} transition)."
    )


def unknown(count: int) -> str:
    """The reason of an INSUFFICIENT_DATA outcome.

    >>> unknown(5)
    'Insufficient Data: 5 datapoints were unknown.'
    """
    return f"Insufficient Data: {_datapoints(count)} {_were(count)} unknown."
