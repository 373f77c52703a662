"""Durable hour files: a batch of JSON lines written whole into a ``yyyy/mm/dd/hh`` folder.

What ingestion (captures posted over HTTP) and ground truth use: one new file per call, written
to a hidden ``.{name}.tmp``, fsynced and renamed into place, so a reader never sees half of it.

>>> import tempfile
>>> from datetime import datetime, timezone
>>> t = datetime(2024, 5, 1, 10, 30, 5, 250000, tzinfo=timezone.utc)
>>> path = write_hour_file(tempfile.mkdtemp(), t, ['{"a": 1}'], t)
>>> path.parent.parts[-4:], path.name[:10], path.read_text()
(('2024', '05', '01', '10'), '30-05-250-', '{"a": 1}\\n')
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

from vigil.capture.location import local_path
from vigil.locations import filesystem


def _hour_folder(root: Path, t: datetime) -> Path:
    t = t.astimezone(timezone.utc)
    return root / f"{t:%Y}" / f"{t:%m}" / f"{t:%d}" / f"{t:%H}"


def write_hour_file(
    root: str | os.PathLike[str], hour: datetime, lines: list[str], now: datetime | None = None
) -> Path:
    """Write ``lines`` as one new JSON-lines file in the ``yyyy/mm/dd/hh`` folder of ``hour``
    under ``root``: fsynced and renamed into place, so a reader never sees half of it. The
    name is SageMaker's ``MM-SS-mmm-<uuid>.jsonl`` from ``now`` (default: the clock)."""
    now = now or datetime.now(timezone.utc)
    folder = _hour_folder(Path(root), hour)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now:%M}-{now:%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    tmp = folder / f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(folder / name)
    return folder / name


def write_hour_lines(
    location: str | os.PathLike[str],
    hour: datetime,
    lines: list[str],
    now: datetime | None = None,
) -> str:
    """:func:`write_hour_file` for any capture location: a local path or ``file://`` URL
    (the same folder the window reader reads), or an fsspec URL, where the file is stored as
    one whole object. Returns where it went."""
    local = local_path(location)
    if local is not None:
        return str(write_hour_file(local, hour, lines, now))
    # fsspec (30-50 ms to import) loads only for non-local locations
    now = now or datetime.now(timezone.utc)
    fs, root = filesystem(os.fspath(location))
    t = hour.astimezone(timezone.utc)
    name = f"{now:%M}-{now:%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    path = f"{root.rstrip('/')}/{t:%Y}/{t:%m}/{t:%d}/{t:%H}/{name}"
    fs.pipe_file(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return str(fs.unstrip_protocol(path))
