"""What reading a window gives: :class:`Window`, and ``_Part``, what one file gave.

A window's table holds the decoded columns then the metadata columns :data:`META_COLUMNS`
(``__event_id``, ``__inference_id``, ``__inference_time`` of type :data:`TIME_TYPE`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from vigil.capture.window.times import _iso
from vigil.io.readers import BadRecords

META_COLUMNS = ("__event_id", "__inference_id", "__inference_time")
TIME_TYPE = pa.timestamp("us", tz="UTC")


@dataclass
class Window:
    """The rows of one window and what it took to read them.

    ``table`` holds the decoded columns then ``__event_id``, ``__inference_id`` and
    ``__inference_time``. ``records_read`` counts the records in the files read (the hour
    folders overlapping the window), ``records_in_window`` those whose ``inferenceTime`` is in
    ``[start, end)``, ``records_dropped`` those a preprocessor dropped (returned ``[]``).
    ``last_record_time`` is the latest ``inferenceTime`` under the endpoint and variant, in the
    window or not (the newest hour folder is read for it when the window does not reach it).
    ``fast_files`` counts the files read by the Arrow-only path (the others went record by
    record). Bad records (``bad``) hold the file, line and reason of each skipped record.
    """

    table: pa.Table
    bad: BadRecords
    files: list[str]
    records_read: int
    records_in_window: int
    last_record_time: datetime | None
    path: str = ""
    start: datetime | None = None
    end: datetime | None = None
    records_dropped: int = 0
    hour_folders: int = 0
    exists: bool = True
    fast_files: int = 0

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    @property
    def event_ids(self) -> pa.Array:
        return self.table.column("__event_id").combine_chunks()

    @property
    def inference_ids(self) -> pa.Array:
        return self.table.column("__inference_id").combine_chunks()

    @property
    def inference_times(self) -> pa.Array:
        return self.table.column("__inference_time").combine_chunks()

    def features(self) -> pa.Table:
        """The table without the ``__`` metadata columns: what a profiler should see."""
        return self.table.drop_columns([c for c in META_COLUMNS if c in self.table.column_names])

    def empty_reason(self) -> str:
        """Why the window holds no row ("" when it has rows): path, window, last record seen."""
        if self.table.num_rows:
            return ""
        window = f"[{_iso(self.start)}, {_iso(self.end)})" if self.start and self.end else ""
        head = f"no capture data in window {window} under {self.path}"
        last = (
            f"last record seen at {_iso(self.last_record_time)}"
            if self.last_record_time is not None
            else "no record has ever been captured there"
        )
        if not self.exists:
            return f"{head}: the folder does not exist; {last}"
        if not self.hour_folders:
            return f"{head}: no hour folder overlaps the window; {last}"
        read = (
            f"{self.records_read:,} records read from {len(self.files)} files in "
            f"{self.hour_folders} hour folders"
        )
        if not self.records_in_window:
            return f"{head}: {read}, none with inferenceTime in the window; {last}"
        causes = []
        if self.records_dropped:
            causes.append(f"{self.records_dropped:,} dropped by the preprocessor")
        if self.bad.count:
            first = f" (first: {self.bad.examples[0]})" if self.bad.examples else ""
            causes.append(f"{self.bad.count:,} bad records skipped{first}")
        why = "; ".join(causes) or "their payloads hold no rows"
        return f"{head}: {read}, {self.records_in_window:,} in the window gave no rows: {why}"

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary for an execution record."""
        return {
            "path": self.path,
            "start": _iso(self.start) if self.start else None,
            "end": _iso(self.end) if self.end else None,
            "rows": self.table.num_rows,
            "files": len(self.files),
            "records_read": self.records_read,
            "records_in_window": self.records_in_window,
            "records_dropped": self.records_dropped,
            "last_record_time": _iso(self.last_record_time) if self.last_record_time else None,
            "bad_records": self.bad.to_dict(),
        }


@dataclass
class _Part:
    """What one file gave."""

    table: pa.Table | None = None
    records_read: int = 0
    records_in_window: int = 0
    records_dropped: int = 0
    last_time: datetime | None = None
    bad: list[tuple[int | None, str, str]] = field(default_factory=list)
    fast: bool = False
