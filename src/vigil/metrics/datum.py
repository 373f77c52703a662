"""``MetricDatum``: one validated datapoint, raw value or statistic set, as CloudWatch takes it."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType

import orjson

from vigil.errors import InputError

UTC = timezone.utc


def as_utc(value: datetime, field: str = "timestamp") -> datetime:
    """``value`` converted to UTC; a naive datetime is refused, since its zone is unknown.

    >>> from datetime import timedelta
    >>> as_utc(datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))).isoformat()
    '2024-05-01T10:00:00+00:00'
    >>> as_utc(datetime(2024, 5, 1), "start")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.errors.InputError: [input_error] start: expected a timezone-aware datetime, got naive ...
    """
    if not isinstance(value, datetime):
        raise InputError(f"{field}: expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"{field}: expected a timezone-aware datetime, got naive {value}")
    return value.astimezone(UTC)


MAX_NAME = 255
MAX_DIMENSIONS = 30
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The units CloudWatch accepts (``StandardUnit``); ``"None"`` is the default.
UNITS = frozenset(
    [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ]
)


def dimensions_key(dimensions: Mapping[str, str]) -> str:
    """Canonical JSON of a dimension set: keys sorted, compact, UTF-8.

    >>> dimensions_key({"Feature": "age", "Endpoint": "churn"})
    '{"Endpoint":"churn","Feature":"age"}'
    """
    return orjson.dumps(dict(dimensions), option=orjson.OPT_SORT_KEYS).decode()


def series_key(namespace: str, name: str, dimensions_key: str) -> str:
    """The unique handle of a series: SHA-256 (hex) of namespace, name and dimensions key.

    >>> series_key("ns", "latency", "{}")[:12]
    '5170acef91ae'
    """
    return hashlib.sha256(orjson.dumps([namespace, name, dimensions_key])).hexdigest()


def _name(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME:
        raise InputError(
            f"{field_name}: expected a string of 1 to {MAX_NAME} characters, got {value!r}"
        )
    return value


def _number(value: object, field_name: str) -> float:
    if isinstance(value, (str, bytes, bool)):
        raise InputError(f"{field_name}: expected a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{field_name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{field_name}: expected a finite number, got {number}")
    return number


@dataclass(frozen=True, slots=True)
class MetricDatum:
    """One datapoint of the metric ``namespace``/``name`` with ``dimensions`` at ``timestamp``.

    Give either ``value`` or a statistic set (``sample_count``, ``sum``, ``minimum``,
    ``maximum``: all four), as CloudWatch's ``PutMetricData``. The constructor validates and
    normalises: the timestamp becomes UTC, numbers become floats.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    >>> d = MetricDatum("vigil/DataQuality", "feature_baseline_drift_age",
    ...                 {"Endpoint": "churn", "MonitoringSchedule": "hourly"}, t, 0.12)
    >>> d.dimensions_key
    '{"Endpoint":"churn","MonitoringSchedule":"hourly"}'
    >>> MetricDatum("ns", "latency", {}, t, sample_count=3, sum=6, minimum=1, maximum=3,
    ...             unit="Milliseconds").is_statistic_set
    True
    >>> MetricDatum("ns", "x", {}, t, float("nan"))
    Traceback (most recent call last):
    ...
    vigil.errors.InputError: [input_error] value: expected a finite number, got nan
    """

    namespace: str
    name: str
    dimensions: Mapping[str, str]
    timestamp: datetime
    value: float | None = None
    sample_count: float | None = None
    sum: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str = "None"
    dimensions_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Written for speed (it runs once per datapoint): cheap exact-type checks first,
        # the general ones only when those fail.
        for text, field_name in ((self.namespace, "namespace"), (self.name, "name")):
            if type(text) is not str or not 0 < len(text) <= MAX_NAME:
                _name(text, field_name)
        dims = self.dimensions
        if type(dims) is not dict and not isinstance(dims, Mapping):
            raise InputError(f"dimensions: expected a mapping of name to value, got {dims!r}")
        if len(dims) > MAX_DIMENSIONS:
            raise InputError(f"dimensions: at most {MAX_DIMENSIONS} allowed, got {len(dims)}")
        for key, val in dims.items():
            if type(key) is not str or not 0 < len(key) <= MAX_NAME:
                _name(key, "dimensions")
            if type(val) is not str or not 0 < len(val) <= MAX_NAME:
                _name(val, f"dimensions[{key!r}]")
        timestamp = self.timestamp
        if type(timestamp) is not datetime or timestamp.tzinfo is not UTC:
            timestamp = as_utc(timestamp, "timestamp")
        if timestamp < EPOCH:
            raise InputError(f"timestamp: expected 1970-01-01 or later, got {timestamp}")
        if self.unit not in UNITS:
            raise InputError(
                f"unit: {self.unit!r} is not a CloudWatch unit ({', '.join(sorted(UNITS))})"
            )
        setter = object.__setattr__
        stats = (self.sample_count, self.sum, self.minimum, self.maximum)
        if self.value is not None:
            if stats != (None, None, None, None):
                raise InputError(f"{self.name}: give either value or a statistic set, not both")
            value = self.value
            if type(value) is not float or not math.isfinite(value):
                value = _number(value, "value")
            setter(self, "value", value)
        elif None not in stats:
            count, total, low, high = (
                _number(s, f) for s, f in zip(stats, ("sample_count", "sum", "minimum", "maximum"))
            )
            if count <= 0:
                raise InputError(f"sample_count: expected more than 0, got {count}")
            if low > high:
                raise InputError(f"minimum {low} is greater than maximum {high}")
            for attr, number in zip(
                ("sample_count", "sum", "minimum", "maximum"), (count, total, low, high)
            ):
                setter(self, attr, number)
        else:
            raise InputError(
                f"{self.name}: give a value, or sample_count, sum, minimum and maximum together"
            )
        setter(self, "dimensions", MappingProxyType(dict(dims)))
        setter(self, "timestamp", timestamp)
        setter(self, "dimensions_key", dimensions_key(dims))

    @property
    def is_statistic_set(self) -> bool:
        """True when the datum carries a statistic set rather than one value."""
        return self.value is None
