"""Ground truth: SageMaker ground-truth files, written, read by window and joined to captures.

Ground-truth records (``{"groundTruthData": {"data", "encoding"}, "eventMetadata":
{"eventId"}, "eventVersion": "0"}``) live under ``{root}/yyyy/mm/dd/hh/`` by the hour they
were *collected*, not the hour of the inference; ``{root}`` is a local folder or an
object-store URL (``s3://bucket/ground-truth``). A capture that has an ``inferenceId`` is
joined to the label whose ``eventId`` equals it; otherwise the capture's ``eventId`` is the key
(SageMaker's rule). Label delay is handled by reading a wider (or later) window of labels
than of captures. Files are written by :func:`~vigil.capture.writer.hour_file.write_hour_file`
(also importable from here, as ingestion does).

>>> import pyarrow as pa
>>> captures = pa.table({"x": [1, 2, 3], "__event_id": ["e1", "e2", "e3"],
...                      "__inference_id": ["i1", None, None]})
>>> labels = pa.table({"event_id": ["i1", "e3", "zz"], "label": ["1", "0", "1"]})
>>> joined = join_ground_truth(captures, labels)
>>> joined.table.column("label").to_pylist(), joined.matched, joined.unmatched_captures
(['1', '0'], 2, 1)
>>> joined.unmatched_labels
1
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from vigil.capture.location import local_path
from vigil.capture.writer.hour_file import write_hour_file, write_hour_lines
from vigil.errors import InputError
from vigil.io.readers import BadRecords, error_text
from vigil.locations import Location, as_location

LABEL_COLUMN = "label"


def _label_text(label: Any) -> tuple[str, str]:
    if isinstance(label, bytes):
        return base64.b64encode(label).decode(), "BASE64"
    if isinstance(label, (str, int, float, bool)):
        return (str(label).lower() if isinstance(label, bool) else str(label)), "CSV"
    return orjson.dumps(label).decode(), "JSON"


def write_ground_truth(
    root: str | os.PathLike[str],
    labels: Mapping[str, Any] | Iterable[tuple[str, Any]],
    collected_at: datetime | None = None,
) -> Location:
    """Write ``event_id -> label`` pairs as one SageMaker ground-truth file, atomically
    (under a local ``root``: renamed into place; under a URL: one whole object)."""
    now = collected_at or datetime.now(timezone.utc)
    pairs = labels.items() if isinstance(labels, Mapping) else labels
    lines = []
    for event_id, label in pairs:
        data, encoding = _label_text(label)
        lines.append(
            orjson.dumps(
                {
                    "groundTruthData": {"data": data, "encoding": encoding},
                    "eventMetadata": {"eventId": str(event_id)},
                    "eventVersion": "0",
                }
            ).decode()
        )
    local = local_path(root)
    if local is not None:
        return write_hour_file(local, now, lines, now)
    return as_location(write_hour_lines(root, now, lines, now))


def read_ground_truth(
    root: str | os.PathLike[str], start: datetime, end: datetime, bad: BadRecords | None = None
) -> pa.Table:
    """Labels collected in the hours overlapping ``[start, end)``: columns ``event_id`` and
    ``label`` (text, as SageMaker stores it; BASE64 decoded). A later label for the same event
    replaces an earlier one."""
    bad = bad if bad is not None else BadRecords()
    labels: dict[str, str] = {}
    t = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    base = as_location(root)
    while t < end:
        folder = base / f"{t:%Y}" / f"{t:%m}" / f"{t:%d}" / f"{t:%H}"
        if folder.is_dir():
            for path in sorted(
                p for p in folder.iterdir() if p.suffix == ".jsonl" and not p.name.startswith(".")
            ):
                _read_file(path, labels, bad)
        t += timedelta(hours=1)
    return pa.table(
        {
            "event_id": pa.array(list(labels), pa.string()),
            LABEL_COLUMN: pa.array(list(labels.values()), pa.string()),
        }
    )


def _read_file(path: Location, labels: dict[str, str], bad: BadRecords) -> None:
    with open(path, "rb") if isinstance(path, Path) else io.BytesIO(path.read_bytes()) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                data = record["groundTruthData"]
                event_id = record["eventMetadata"]["eventId"]
                text = data["data"]
                if data.get("encoding") == "BASE64":
                    text = base64.b64decode(text).decode()
                if not isinstance(event_id, str) or not isinstance(text, str):
                    raise InputError("eventId and data must be strings")
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                bad.add(
                    str(path),
                    number,
                    f"bad ground-truth record: {error_text(exc)}",
                    line.decode(errors="replace"),
                )
                continue
            labels[event_id] = text.strip()


@dataclass
class GroundTruthJoin:
    """Captures that found a label (with a ``label`` column) and the counts of the join."""

    table: pa.Table
    matched: int
    unmatched_captures: int
    unmatched_labels: int

    def summary(self) -> dict[str, int]:
        return {
            "captures_with_label": self.matched,
            "captures_without_label": self.unmatched_captures,
            "labels_without_capture": self.unmatched_labels,
        }


def join_ground_truth(captures: pa.Table, labels: pa.Table) -> GroundTruthJoin:
    """Inner join of a window's captures with labels: key ``__inference_id`` when present,
    else ``__event_id`` (the columns a :class:`~vigil.capture.window.Window` table has)."""
    key = (
        pc.coalesce(captures.column("__inference_id"), captures.column("__event_id"))
        if "__inference_id" in captures.column_names
        else captures.column("__event_id")
    )
    keyed = captures.append_column("__join_key", key).append_column(
        "__row", pa.array(range(captures.num_rows), pa.int64())
    )
    renamed = labels.select(["event_id", LABEL_COLUMN]).rename_columns(["__join_key", LABEL_COLUMN])
    joined = keyed.join(renamed, "__join_key", join_type="inner", use_threads=False)
    joined = joined.sort_by("__row").drop_columns(["__row"])  # the captures' order
    keys = set(key.to_pylist())
    unmatched_labels = sum(1 for k in labels.column("event_id").to_pylist() if k not in keys)
    return GroundTruthJoin(
        table=joined.drop_columns(["__join_key"]),
        matched=joined.num_rows,
        unmatched_captures=captures.num_rows - joined.num_rows,
        unmatched_labels=unmatched_labels,
    )
