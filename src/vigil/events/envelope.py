"""EventBridge's event envelope: PutEvents entries, whole events, their times and dedup keys.

Every event on Vigil's bus has the envelope of platform.md §1.1: ``version`` (``"0"``),
``id``, ``detail-type``, ``source``, ``account``, ``time``, ``region``, ``resources`` and
``detail`` (an object). :func:`from_entry` turns one PutEvents entry (``Source``,
``DetailType``, ``Detail`` as a JSON *string*, ``Resources``, ``Time``...) into such an
event; :func:`validate_event` checks one that arrives whole (an EventBridge API destination
posts them so). Both raise :class:`EnvelopeError` naming the field.

>>> e = from_entry({"Source": "com.acme.train", "DetailType": "Job Done",
...                 "Detail": '{"job": "churn", "ok": true}', "Time": "2024-05-01T12:00:00Z"},
...                event_id="11111111-2222-4333-8444-555555555555")
>>> e["source"], e["detail-type"], e["detail"], e["time"], e["version"]
('com.acme.train', 'Job Done', {'job': 'churn', 'ok': True}, '2024-05-01T12:00:00Z', '0')
>>> from_entry({"Source": "aws.sagemaker", "DetailType": "x", "Detail": "{}"})
Traceback (most recent call last):
...
vigil.events.envelope.EnvelopeError: [event_envelope] Source: 'aws.sagemaker' is reserved \
for AWS services (a custom source must not start with 'aws.')
>>> from_entry({"Source": "acme", "DetailType": "x", "Detail": "{not json"})
Traceback (most recent call last):
...
vigil.events.envelope.EnvelopeError: [event_envelope] Detail: not valid JSON (Expecting \
property name enclosed in double quotes: line 1 column 2 (char 1))
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from vigil.errors import FormatError

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "ENVELOPE_KEYS",
    "MAX_ENTRY_BYTES",
    "VIGIL_DETAIL_TYPES",
    "VIGIL_SOURCE",
    "EnvelopeError",
    "detail_type_of_kind",
    "format_time",
    "from_entry",
    "parse_time",
    "validate_event",
]

VIGIL_SOURCE = "vigil"
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "local"
#: the largest entry PutEvents takes (its whole request may hold 256 KB; Vigil takes that per entry)
MAX_ENTRY_BYTES = 256 * 1024
ENVELOPE_KEYS = (
    "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
)

#: the detail-type of each kind of Vigil's own events (an unknown kind: "Vigil <Kind Words>")
VIGIL_DETAIL_TYPES = {
    "execution_completed": "Vigil Monitoring Execution Completed",
    "alarm_state_change": "Vigil Alarm State Change",
    "concept_drift": "Vigil Concept Drift",
    "training_job_state_change": "Vigil Training Job State Change",
    "action_run_state_change": "Vigil Action Run State Change",
}

_NAME = re.compile(r"^[^\x00-\x1f]{1,256}$")
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


class EnvelopeError(FormatError):
    """An event or PutEvents entry that breaks the envelope; the message names the field."""

    code = "event_envelope"


def detail_type_of_kind(kind: str) -> str:
    """The ``detail-type`` of one of Vigil's own event kinds.

    >>> detail_type_of_kind("alarm_state_change"), detail_type_of_kind("model_registered")
    ('Vigil Alarm State Change', 'Vigil Model Registered')
    """
    known = VIGIL_DETAIL_TYPES.get(kind)
    if known is not None:
        return known
    return "Vigil " + " ".join(w.capitalize() for w in kind.split("_") if w)


def parse_time(value: Any, field: str = "time") -> datetime:
    """A timestamp in any of the three forms events carry, as an aware UTC datetime: ISO-8601
    text, epoch milliseconds as a string (training jobs) or as a number (endpoints).

    >>> parse_time("2018-10-06T12:26:13Z").isoformat()
    '2018-10-06T12:26:13+00:00'
    >>> parse_time("1583831889050").isoformat()
    '2020-03-10T09:18:09.050000+00:00'
    >>> parse_time(1592411992203.0).isoformat()
    '2020-06-17T16:39:52.203000+00:00'
    >>> parse_time("yesterday", "Time")
    Traceback (most recent call last):
    ...
    vigil.events.envelope.EnvelopeError: [event_envelope] Time: 'yesterday' is not a time \
(expected ISO-8601 such as 2018-10-06T12:26:13Z, or epoch milliseconds)
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_ms(float(value), field, value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return _from_ms(float(text), field, value)
        if _ISO.match(text):
            try:
                t = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
            except ValueError:
                pass
            else:
                t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
                return t.astimezone(timezone.utc)
    raise EnvelopeError(
        f"{field}: {value!r} is not a time (expected ISO-8601 such as 2018-10-06T12:26:13Z, "
        "or epoch milliseconds)"
    )


def _from_ms(ms: float, field: str, raw: Any) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000.0, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise EnvelopeError(f"{field}: {raw!r} is out of range for epoch milliseconds") from None


def format_time(t: datetime) -> str:
    """The envelope's ``time``: ISO-8601 UTC to the second.

    >>> format_time(parse_time("2024-05-01T14:00:00.75+02:00"))
    '2024-05-01T12:00:00Z'
    """
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(entry: Mapping[str, Any], key: str, field: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EnvelopeError(f"{field}: required, a non-empty string")
    if not _NAME.match(value):
        raise EnvelopeError(f"{field}: at most 256 characters, no control characters")
    return value


def _resources(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise EnvelopeError(f"{field}: expected a list of strings (ARNs)")
    return list(value)


def _custom_source(source: str, field: str) -> str:
    if source.startswith("aws."):
        raise EnvelopeError(
            f"{field}: {source!r} is reserved for AWS services (a custom source must not start "
            "with 'aws.')"
        )
    return source


def from_entry(
    entry: Mapping[str, Any],
    *,
    event_id: str | None = None,
    now: datetime | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    allow_aws: bool = False,
) -> dict[str, Any]:
    """The event of one PutEvents entry (see the module's docstring); ``Time`` defaults to
    ``now``; ``aws.*`` sources are refused unless ``allow_aws`` (the receivers' path)."""
    if not isinstance(entry, Mapping):
        raise EnvelopeError(f"entry: expected an object, got {type(entry).__name__}")
    unknown = sorted(set(entry) - {
        "Source", "DetailType", "Detail", "Resources", "Time", "EventBusName", "TraceHeader",
    })
    if unknown:
        raise EnvelopeError(
            f"{unknown[0]}: unknown field (expected Source, DetailType, Detail, Resources, Time, "
            "EventBusName, TraceHeader)"
        )
    source = _name(entry, "Source", "Source")
    if not allow_aws:
        _custom_source(source, "Source")
    detail_type = _name(entry, "DetailType", "DetailType")
    raw = entry.get("Detail")
    if not isinstance(raw, str):
        raise EnvelopeError("Detail: required, a JSON object as a string (as PutEvents takes it)")
    try:
        detail = json.loads(raw)
    except ValueError as exc:
        raise EnvelopeError(f"Detail: not valid JSON ({exc})") from None
    if not isinstance(detail, dict):
        raise EnvelopeError(f"Detail: expected a JSON object, got {type(detail).__name__}")
    t = parse_time(entry["Time"], "Time") if entry.get("Time") is not None else None
    event: dict[str, Any] = {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": format_time(t or now or datetime.now(timezone.utc)),
        "region": region,
        "resources": _resources(entry.get("Resources"), "Resources"),
        "detail": detail,
    }
    for key, name in (("EventBusName", "event-bus-name"), ("TraceHeader", "trace-header")):
        if entry.get(key) is not None:
            if not isinstance(entry[key], str):
                raise EnvelopeError(f"{key}: expected a string")
            event[name] = entry[key]
    return event


def validate_event(
    event: Any, *, now: datetime | None = None, allow_aws: bool = True
) -> dict[str, Any]:
    """A whole event checked and completed: ``id`` (a UUID is made when absent), ``version``,
    ``account``, ``region``, ``resources`` and ``time`` default; ``detail`` must be an object
    (``{}`` when absent); an ``id`` longer than a UUID is mapped to a stable UUID (uuid5).
    Extra keys (``replay-name``...) are kept.

    >>> e = validate_event({"source": "aws.states", "detail-type": "Step Functions Execution "
    ...     "Status Change", "id": "x1", "time": "2024-05-01T00:00:00Z", "detail": {}})
    >>> e["account"], e["resources"], e["version"]
    ('000000000000', [], '0')
    >>> validate_event({"source": "acme", "detail-type": "t", "detail": []})
    Traceback (most recent call last):
    ...
    vigil.events.envelope.EnvelopeError: [event_envelope] detail: expected an object, got list
    """
    if not isinstance(event, Mapping):
        raise EnvelopeError(f"event: expected an object, got {type(event).__name__}")
    source = _name(event, "source", "source")
    if not allow_aws:
        _custom_source(source, "source")
    detail_type = _name(event, "detail-type", "detail-type")
    detail = event.get("detail", {})
    if detail is None:
        detail = {}
    if not isinstance(detail, dict):
        raise EnvelopeError(f"detail: expected an object, got {type(detail).__name__}")
    event_id = event.get("id") or str(uuid.uuid4())
    if not isinstance(event_id, str) or not event_id.strip():
        raise EnvelopeError("id: expected a non-empty string")
    if len(event_id) > 36:  # stored ids are UUID-sized: a longer one maps to a stable UUID
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, event_id))
    account = event.get("account", DEFAULT_ACCOUNT)
    region = event.get("region", DEFAULT_REGION)
    for key, value in (("account", account), ("region", region)):
        if not isinstance(value, str):
            raise EnvelopeError(f"{key}: expected a string")
    t = parse_time(event["time"], "time") if event.get("time") is not None else None
    return {
        **dict(event),
        "version": str(event.get("version", "0")),
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": format_time(t or now or datetime.now(timezone.utc)),
        "region": region,
        "resources": _resources(event.get("resources"), "resources"),
        "detail": detail,
    }
