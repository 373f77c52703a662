"""The latest ``inferenceTime`` under an endpoint variant, in the window or not.

It tells an empty window's reason ("last record seen at ..."): the newest hour folders are
read (the time alone, with Arrow; line by line when Arrow cannot) until one holds a record.
"""

from __future__ import annotations

import zlib
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from vigil.capture.window.folders import _Store
from vigil.capture.window.result import TIME_TYPE
from vigil.capture.window.times import HOUR, UTC
from vigil.io.capture import parse_record, parse_time

_TIME_SCHEMA = pa.schema([("eventMetadata", pa.struct([("inferenceTime", pa.string())]))])


def _latest(store: _Store, base: str, seen: datetime | None, read: set[str]) -> datetime | None:
    """The latest inferenceTime under ``base``: ``seen`` or newer, from the newest folders."""
    far = (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    for hour, folder in store.hours(base, *far, newest_first=True):
        if seen is not None and hour + HOUR <= seen:
            break
        if folder in read:
            continue
        found = [t for f in store.files(folder) if (t := _max_time(store, f)) is not None]
        if found:
            return max(found) if seen is None else max(seen, *found)
    return seen


def _max_time(store: _Store, path: str) -> datetime | None:
    try:
        raw = store.read(path)
    except (OSError, EOFError, zlib.error):
        return None
    try:
        table = pajson.read_json(
            pa.BufferReader(raw),
            parse_options=pajson.ParseOptions(
                explicit_schema=_TIME_SCHEMA, unexpected_field_behavior="ignore"
            ),
        )
        times = pc.cast(pc.struct_field(table.column(0), "inferenceTime"), TIME_TYPE)
        latest = pc.max(times).as_py()
        return None if latest is None else latest.astimezone(UTC)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    latest = None
    for line in raw.split(b"\n"):
        try:
            event = parse_record(line).get("eventMetadata") or {}
            time = parse_time(event.get("inferenceTime"))
        except (ValueError, AttributeError):
            continue
        latest = time if latest is None or time > latest else latest
    return latest
