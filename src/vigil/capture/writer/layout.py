"""Where capture files go: local or fsspec destinations, file names, in-progress suffix.

A destination is a local path (or ``file://`` URL) or any other fsspec URL (``s3://``,
``memory://``, ...). Files are named ``{MM}-{SS}-{mmm}-{uuid}.jsonl`` after the time of their
first record; a local file being written is ``.{name}.jsonl.part`` beside its final name.

>>> _split_destination("/tmp/capture")
(PosixPath('/tmp/capture'), None, '')
>>> _file_name(90.5)[:10]
'01-30-500-'
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from vigil.capture.location import local_path
from vigil.locations import filesystem

PART_SUFFIX = ".part"


def _split_destination(destination: str | Path) -> tuple[Path | None, Any, str]:
    """(local root, None, "") for local destinations (a path or ``file://`` URL, see
    :func:`~vigil.capture.location.local_path`), else (None, filesystem, root path)."""
    local = local_path(destination)
    if local is not None:
        return local.expanduser(), None, ""
    # fsspec (30-50 ms to import) loads only for non-local destinations
    fs, root = filesystem(str(destination))
    return None, fs, root.rstrip("/")


def _file_name(t: float) -> str:
    """``{MM}-{SS}-{mmm}-{uuid}.jsonl`` for a file whose first record is at time ``t``."""
    tm = time.gmtime(int(t // 1))
    millis = min(int((t % 1) * 1000 + 1e-3), 999)  # 1e-3 ms: binary fractions like .1229999
    return f"{tm.tm_min:02d}-{tm.tm_sec:02d}-{millis:03d}-{uuid.uuid4()}.jsonl"
