"""Reading one window: :func:`read_window`, and ``_Reader``, which reads one file.

``_Reader.read`` takes the fast path (:mod:`~vigil.capture.window.fast`) when it can and the
per-record path (:mod:`~vigil.capture.window.records`) otherwise; files are read in parallel.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.capture.window.fast import _fast_part
from vigil.capture.window.folders import _Store
from vigil.capture.window.latest import _latest
from vigil.capture.window.records import _records_part
from vigil.capture.window.result import Window, _Part
from vigil.capture.window.tables import _concat
from vigil.capture.window.times import _iso, _utc
from vigil.errors import ConfigError
from vigil.io.capture import CONTENTS, CaptureDecoder, Preprocessor, load_preprocessor
from vigil.io.readers import BadRecords

MAX_WORKERS = 8


@dataclass
class _Reader:
    """Reads one file of a window (by the fast path when it can)."""

    store: _Store
    decoder: CaptureDecoder
    handler: Preprocessor | None
    start: datetime
    end: datetime
    fast: bool = True
    threads: bool = False

    def read(self, path: str) -> _Part:
        try:
            raw = self.store.read(path)
        except (OSError, EOFError, zlib.error) as exc:
            return _Part(bad=[(None, f"cannot read the file: {exc}", "")])
        part = self._fast(raw) if self.fast else None
        return part if part is not None else self._slow(raw)

    def _fast(self, raw: bytes) -> _Part | None:
        """The fast path: Arrow only; None when the file needs the per-record path."""
        return _fast_part(raw, self.decoder.content, self.decoder.feature_names, self.start,
                          self.end, self.threads)

    def _slow(self, raw: bytes) -> _Part:
        """The per-record path."""
        return _records_part(raw, self.decoder, self.handler, self.start, self.end)


def read_window(
    root: str | os.PathLike[str],
    endpoint: str,
    start: datetime | str,
    end: datetime | str,
    *,
    variant: str = "AllTraffic",
    content: str = "input",
    features_attribute: str | None = None,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    feature_names: Sequence[str] | None = None,
    preprocessor: Callable[..., Any] | str | os.PathLike[str] | None = None,
    fast: bool = True,
) -> Window:
    """Read the captured records of ``endpoint``/``variant`` with ``inferenceTime`` in [start, end).

    ``start``/``end`` are datetimes (naive means UTC) or ISO-8601 strings. ``content``:
    ``input``, ``output`` or ``both``. The attributes and ``feature_names`` are explained in
    :mod:`vigil.io.capture`; ``preprocessor`` is a callable or a ``.py`` file defining
    SageMaker's ``preprocess_handler(inference_record[, logger])``: its rows replace the decoded
    payload. ``fast=False`` forces the per-record path (for tests and comparisons).
    """
    lo, hi = _utc(start, "start"), _utc(end, "end")
    if hi <= lo:
        raise ConfigError(f"the window is empty: end {_iso(hi)} is not after start {_iso(lo)}")
    if content not in CONTENTS:
        raise ConfigError(f"content {content!r} is not one of {', '.join(CONTENTS)}")
    if content == "input" and (inference_attribute or probability_attribute):
        raise ConfigError(
            "inference_attribute/probability_attribute read the output: use content='both' "
            "or content='output'"
        )
    decoder = CaptureDecoder(
        content,
        features_attribute,
        inference_attribute,
        probability_attribute,
        tuple(feature_names) if feature_names is not None else None,
    )
    handler = load_preprocessor(preprocessor) if preprocessor is not None else None
    store = _Store(root)
    base = store.join(store.root, endpoint, variant)
    folders = list(store.hours(base, lo, hi))
    files = [f for _, folder in folders for f in store.files(folder)]
    reader = _Reader(
        store,
        decoder,
        handler,
        lo,
        hi,
        fast=fast and handler is None and not decoder.uses_attributes,
        threads=len(files) == 1,
    )
    if handler is not None or len(files) < 2:
        parts = [reader.read(f) for f in files]
    else:
        # local files: a thread a core; an object store's files wait on the network, not on a
        # core, so they are fetched MAX_WORKERS at a time
        cores = MAX_WORKERS if store.fs is not None else (os.cpu_count() or 1)
        with ThreadPoolExecutor(min(len(files), cores, MAX_WORKERS)) as pool:
            parts = list(pool.map(reader.read, files))
    bad = BadRecords()
    for path, part in zip(files, parts):
        for line, reason, text in part.bad:
            bad.add(store.display(path), line, reason, text)
    times = [p.last_time for p in parts if p.last_time is not None]
    last = _latest(store, base, max(times) if times else None, {f for _, f in folders})
    return Window(
        table=_concat([p.table for p in parts if p.table is not None]),
        bad=bad,
        files=[store.display(f) for f in files],
        records_read=sum(p.records_read for p in parts),
        records_in_window=sum(p.records_in_window for p in parts),
        last_record_time=last,
        path=store.display(base),
        start=lo,
        end=hi,
        records_dropped=sum(p.records_dropped for p in parts),
        hour_folders=len(folders),
        exists=store.isdir(base),
        fast_files=sum(p.fast for p in parts),
    )
