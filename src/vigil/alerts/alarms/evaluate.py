"""Evaluate a metric alarm: CloudWatch's M-of-N rule, missing data, low-sample percentiles.

**The evaluation range.** An evaluation at ``now`` looks at ``N + 2`` periods (``N`` =
``evaluation_periods``), the *slots*, ending with the newest **complete** period (the one
that ends at or before ``now``; the running period is never evaluated). With ``k`` real
datapoints in those slots, ``b`` of them breaching, and M = ``datapoints_to_alarm``:

1. ``k >= N``: the newest ``N`` real datapoints are evaluated (so with no slot missing, the
   newest ``N`` slots); ALARM when at least ``M`` breach, else OK. ``treat_missing_data`` does
   not matter.
2. ``notBreaching`` / ``breaching`` with ``k < N``: every real datapoint is kept and ``N - k``
   missing slots are filled with the treatment (as few fills as possible); then M of N.
3. ``missing`` / ``ignore`` with ``1 <= k < N``: the real datapoints alone decide where they
   can: ALARM when ``b >= M``; OK when ``b < M`` and some real datapoint does not breach.
   Left is the case where every real datapoint breaches yet fewer than ``M`` do (only
   partial evidence of a breach): ``ignore`` keeps the current state; ``missing`` gives ALARM
   when the newest slot is missing (a breach followed by silence, CloudWatch's
   ``- - X - -`` row) and INSUFFICIENT_DATA when the newest slot holds the breach (too little
   data yet: wait for the next periods).
4. ``k = 0``: ``missing`` gives INSUFFICIENT_DATA, ``ignore`` keeps the state,
   ``notBreaching`` OK and ``breaching`` ALARM.

This reproduces every cell of both worked tables of the specification (tests/test_alarms.py).
A percentile period is *low sample* when ``p >= 50`` and it holds fewer than
``10 / (1 - p/100)`` samples; with ``evaluate_low_sample_count_percentile = "ignore"`` an
evaluation that would rest on such a period keeps the current state.

>>> from datetime import datetime, timedelta, timezone
>>> from vigil.alerts.alarms.spec import MetricAlarm
>>> alarm = MetricAlarm(name="drift", namespace="vigil", metric_name="drift", period=60,
...     statistic="Average", evaluation_periods=3, threshold=0.1,
...     comparison_operator="GreaterThanThreshold", alarm_actions=["page-oncall"])
>>> now = datetime(2024, 5, 1, 10, 5, 30, tzinfo=timezone.utc)
>>> rows = [{"Timestamp": datetime(2024, 5, 1, 10, m, tzinfo=timezone.utc), "Average": v}
...         for m, v in [(2, 0.31), (3, 0.29), (4, 0.35)]]
>>> e = evaluate_metric_alarm(alarm, rows, now, "OK")
>>> e.state, e.transition, e.actions
('ALARM', True, ['page-oncall'])
>>> print(e.reason)  # doctest: +NORMALIZE_WHITESPACE
Threshold Crossed: 3 out of the last 3 datapoints [0.35 (01/05/24 10:04:00),
0.29 (01/05/24 10:03:00), 0.31 (01/05/24 10:02:00)] were greater than the threshold (0.1)
(minimum 3 datapoints for OK -> ALARM transition).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from vigil.alerts.alarms import reason as wording
from vigil.alerts.alarms.anomaly import SeasonalBand
from vigil.alerts.alarms.spec import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    STATES,
    MetricAlarm,
    percentile_of,
)
from vigil.errors import InputError

UTC = timezone.utc
EXTRA_PERIODS = 2  # the range is N + EXTRA_PERIODS slots wide


class BandModel(Protocol):
    """What the band operators need: ``band(timestamps, k) -> (lower, upper)``."""

    def band(self, timestamps: Sequence[datetime], k: float = 2.0) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluation of one alarm."""

    alarm_name: str
    state: str
    previous_state: str
    reason: str
    reason_data: dict[str, Any]
    actions: list[str] = field(default_factory=list)

    @property
    def transition(self) -> bool:
        """True when the state changed (only transitions are recorded and run actions)."""
        return self.state != self.previous_state


@dataclass(frozen=True)
class _Point:
    ts: datetime
    value: float | None  # None: missing slot
    sample_count: float | None = None
    breach: bool = False
    band: tuple[float, float] | None = None


def evaluation_range(alarm: MetricAlarm, now: datetime) -> tuple[datetime, datetime]:
    """``(start, end)`` of the slots evaluated at ``now``: ``N + 2`` complete periods.

    >>> from vigil.alerts.alarms.spec import MetricAlarm
    >>> a = MetricAlarm(name="a", namespace="n", metric_name="m", statistic="Sum", period=60,
    ...     evaluation_periods=3, threshold=1, comparison_operator="GreaterThanThreshold")
    >>> start, end = evaluation_range(a, datetime(2024, 5, 1, 10, 5, 30, tzinfo=UTC))
    >>> start.time(), end.time()
    (datetime.time(10, 0), datetime.time(10, 5))
    """
    now = _utc(now, "now")
    epoch = int(now.timestamp())
    end = epoch - epoch % alarm.period
    slots = alarm.evaluation_periods + EXTRA_PERIODS
    return (
        datetime.fromtimestamp(end - slots * alarm.period, UTC),
        datetime.fromtimestamp(end, UTC),
    )


def low_sample_minimum(statistic: str) -> float | None:
    """Fewest samples a period needs for ``statistic`` not to be *low sample* (None: any).

    >>> low_sample_minimum("p99"), low_sample_minimum("p50"), low_sample_minimum("Average")
    (1000.0, 20.0, None)
    """
    p = percentile_of(statistic)
    if p is None or p < 50:
        return None
    return math.inf if p >= 100 else round(10.0 / (1.0 - p / 100.0), 9)


def _utc(ts: datetime, what: str) -> datetime:
    if not isinstance(ts, datetime) or ts.tzinfo is None:
        raise InputError(f"{what}: expected a timezone-aware datetime, got {ts!r}")
    return ts.astimezone(UTC)


def _breaches(alarm: MetricAlarm, value: float, band: tuple[float, float] | None) -> bool:
    op = alarm.comparison_operator
    if band is not None:
        lower, upper = band
        if op == "LessThanLowerThreshold":
            return value < lower
        if op == "GreaterThanUpperThreshold":
            return value > upper
        return value < lower or value > upper
    t = alarm.threshold
    assert t is not None
    if op == "GreaterThanOrEqualToThreshold":
        return value >= t
    if op == "GreaterThanThreshold":
        return value > t
    if op == "LessThanThreshold":
        return value < t
    return value <= t


def _slots(
    alarm: MetricAlarm, datapoints: Sequence[Mapping[str, Any]], now: datetime, band: Any
) -> list[_Point]:
    start, end = evaluation_range(alarm, now)
    first, last = int(start.timestamp()), int(end.timestamp())
    by_slot: dict[int, Mapping[str, Any]] = {}
    for i, row in enumerate(datapoints):
        ts = row.get("Timestamp")
        if not isinstance(ts, datetime) or ts.tzinfo is None:
            raise InputError(f"datapoints[{i}].Timestamp: expected an aware datetime, got {ts!r}")
        epoch = int(ts.timestamp())
        slot = epoch - epoch % alarm.period
        if first <= slot < last and row.get(alarm.statistic) is not None:
            by_slot[slot] = row
    times = [datetime.fromtimestamp(s, UTC) for s in range(first, last, alarm.period)]
    bands: list[tuple[float, float] | None] = [None] * len(times)
    if alarm.uses_band:
        if band is None:
            raise InputError(f"alarm {alarm.name!r}: a band operator needs a band model")
        lower, upper = band.band(times, k=alarm.band_width)
        bands = [(float(lo), float(hi)) for lo, hi in zip(lower, upper)]
    points = []
    for ts, b in zip(times, bands):
        found = by_slot.get(int(ts.timestamp()))
        if found is None:
            points.append(_Point(ts, None))
            continue
        value = float(found[alarm.statistic])
        count = found.get("SampleCount")
        points.append(
            _Point(
                ts, value, None if count is None else float(count), _breaches(alarm, value, b), b
            )
        )
    return points


def evaluate_metric_alarm(
    alarm: MetricAlarm,
    datapoints: Sequence[Mapping[str, Any]],
    now: datetime,
    current_state: str = INSUFFICIENT_DATA,
    *,
    band: BandModel | None = None,
) -> Evaluation:
    """Evaluate ``alarm`` at ``now`` over ``datapoints`` (rows as ``MetricStore.query`` gives:
    ``Timestamp`` = period start and the alarm's statistic, plus ``SampleCount`` for the
    low-sample rule). Rows outside the evaluation range are ignored. See the module docstring
    for the exact rule; ``band`` is required by the three band operators."""
    if current_state not in STATES:
        raise InputError(
            f"current_state: expected one of {', '.join(STATES)}, got {current_state!r}"
        )
    now = _utc(now, "now")
    points = _slots(alarm, datapoints, now, band)
    n, m = alarm.evaluation_periods, alarm.m
    treat = alarm.treat_missing_data
    real = [p for p in points if p.value is not None]
    k = len(real)
    missing_slots = [p for p in points if p.value is None]
    evaluated: list[_Point]
    filled = 0
    if k >= n:
        evaluated = real[-n:]
    else:
        filled = n - k
        evaluated = sorted(real + missing_slots[-filled:], key=lambda p: p.ts)
    keep_reason = None
    minimum = low_sample_minimum(alarm.statistic)
    if minimum is not None and alarm.evaluate_low_sample_count_percentile == "ignore":
        low = [p for p in evaluated if p.sample_count is not None and p.sample_count < minimum]
        if low:
            keep_reason = (
                f"Low sample count: {len(low)} of the evaluated datapoints had fewer than "
                f"{wording.number(minimum)} samples for {alarm.statistic}; "
                f"the alarm keeps its state ({current_state})."
            )
    b_real = sum(p.breach for p in (evaluated if k >= n else real))
    real_evaluated = [p for p in evaluated if p.value is not None]
    state: str
    text: str
    if keep_reason is not None:
        state, text = current_state, keep_reason
    elif k >= n or (treat in ("breaching", "notBreaching") and k > 0):
        fill_breach = treat == "breaching"
        b = b_real + (filled if fill_breach else 0)
        state = ALARM if b >= m else OK
        text = _crossed(alarm, state, real_evaluated, filled, fill_breach)
    elif k == 0:
        if treat == "missing":
            state, text = INSUFFICIENT_DATA, wording.unknown(n)
        elif treat == "ignore":
            state, text = current_state, _kept(n, current_state)
        else:
            state = ALARM if treat == "breaching" else OK
            text = _crossed(alarm, state, [], n, treat == "breaching")
    elif b_real >= m or b_real < k:  # missing / ignore with 1 <= k < N: the real points decide
        state = ALARM if b_real >= m else OK
        text = _crossed(alarm, state, real_evaluated, 0, False)
    elif treat == "ignore":
        state, text = current_state, _kept(filled, current_state)
    elif points[-1].value is None:  # missing: a breach, then silence
        state = ALARM
        text = _crossed(alarm, state, real_evaluated, 0, False)
    else:  # missing: the breach is the newest datapoint, too little data yet
        state, text = INSUFFICIENT_DATA, wording.unknown(filled)
    data = _reason_data(alarm, now, evaluated)
    transition = state != current_state
    actions = list(alarm.actions_for(state)) if transition and alarm.actions_enabled else []
    return Evaluation(alarm.name, state, current_state, text, data, actions)


def _kept(unknown: int, state: str) -> str:
    return wording.unknown(unknown)[:-1] + f"; missing data is ignored, the state stays {state}."


def _crossed(
    alarm: MetricAlarm, state: str, evaluated: list[_Point], filled: int, fill_breach: bool
) -> str:
    alarm_state = state == ALARM
    listed = [p for p in reversed(evaluated) if p.breach == alarm_state]
    return wording.crossed(
        alarm_state=alarm_state,
        listed=[(p.value, p.ts) for p in listed if p.value is not None],
        n=alarm.evaluation_periods,
        m=alarm.m,
        operator=alarm.comparison_operator,
        threshold=alarm.threshold,
        bands=[p.band for p in listed if p.band is not None] if alarm.uses_band else None,
        filled=filled,
        filled_breaching=fill_breach,
    )


def _reason_data(alarm: MetricAlarm, now: datetime, evaluated: list[_Point]) -> dict[str, Any]:
    """CloudWatch's ``StateReasonData`` (JSON-able): evaluated datapoints newest first."""
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": wording.iso(now),
        "startDate": wording.iso(evaluated[0].ts if evaluated else now),
        "statistic": alarm.statistic,
        "period": alarm.period,
        "recentDatapoints": [p.value for p in evaluated if p.value is not None],
    }
    if alarm.uses_band:
        data["recentLowerThresholds"] = [
            p.band[0] for p in evaluated if p.band and p.value is not None
        ]
        data["recentUpperThresholds"] = [
            p.band[1] for p in evaluated if p.band and p.value is not None
        ]
    else:
        data["threshold"] = alarm.threshold
    points = []
    for p in reversed(evaluated):
        item: dict[str, Any] = {"timestamp": wording.iso(p.ts)}
        if p.value is not None:
            if p.sample_count is not None:
                item["sampleCount"] = p.sample_count
            item["value"] = p.value
        points.append(item)
    data["evaluatedDatapoints"] = points
    return data


def fetch_and_evaluate(
    store: Any,
    alarm: MetricAlarm,
    now: datetime,
    current_state: str = INSUFFICIENT_DATA,
    *,
    band: BandModel | None = None,
) -> Evaluation:
    """Query ``store`` (a :class:`~vigil.store.metrics.MetricStore`) for the evaluation range
    and evaluate. The statistics fetched are the alarm's and ``SampleCount``. For a band
    operator without ``band``, an :class:`~vigil.alerts.alarms.anomaly.SeasonalBand` is fitted
    on ``band_history_days`` of the metric's history before the evaluation range."""
    start, end = evaluation_range(alarm, now)
    stats = (
        [alarm.statistic] if alarm.statistic == "SampleCount" else [alarm.statistic, "SampleCount"]
    )
    rows = store.query(
        alarm.namespace, alarm.metric_name, alarm.dimensions, start, end, alarm.period, stats
    )
    if alarm.uses_band and band is None:
        history = store.query(
            alarm.namespace,
            alarm.metric_name,
            alarm.dimensions,
            start - timedelta(days=alarm.band_history_days),
            start,
            alarm.period,
            [alarm.statistic],
        )
        pairs = [
            (r["Timestamp"], r[alarm.statistic]) for r in history if r[alarm.statistic] is not None
        ]
        band = SeasonalBand.fit([t for t, _ in pairs], [v for _, v in pairs])
    return evaluate_metric_alarm(alarm, rows, now, current_state, band=band)
