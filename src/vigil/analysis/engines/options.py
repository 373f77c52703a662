"""What every analysis engine is asked: the input's reader options and the engine's result."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.io.readers import MAX_EXAMPLES, BadRecords
from vigil.profile.dataset import DatasetProfile


@dataclass(frozen=True)
class ReadOptions:
    """How to read an input (the options of :func:`vigil.io.readers.iter_tables`), and the
    columns to keep (None: every column). Plain data, so it travels to Spark tasks."""

    format: str = "auto"
    header: bool = True
    capture_content: str = "input"
    delimiter: str | None = None
    encoding: str = "utf-8"
    columns: tuple[str, ...] | None = None


def merge_results(
    parts: list[tuple[DatasetProfile, BadRecords]],
) -> tuple[DatasetProfile, BadRecords]:
    """Fold per-unit profiles and bad records in the order given (the local engine's order:
    the merged profile then lists columns as the local engine does, and the first bad records
    are the same).

    >>> import pyarrow as pa
    >>> a, b = DatasetProfile(), DatasetProfile()
    >>> a.update(pa.table({"x": [1.0, 2.0]})); b.update(pa.table({"x": [3.0], "y": ["u"]}))
    >>> bad = BadRecords(); bad.add("f.csv", 3, "expected 2 columns, found 1")
    >>> p, total = merge_results([(a, BadRecords()), (b, bad)])
    >>> p.item_count, p.columns["y"].types.missing, total.count
    (3, 2, 1)
    """
    profile = DatasetProfile()
    bad = BadRecords()
    for part, part_bad in parts:
        profile.merge(part)
        bad.count += part_bad.count
        room = MAX_EXAMPLES - len(bad.examples)
        bad.examples.extend(part_bad.examples[: max(room, 0)])
    return profile, bad
