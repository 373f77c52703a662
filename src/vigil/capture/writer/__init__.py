"""Write SageMaker data-capture files from a serving process.

:class:`CaptureWriter` takes one record per inference: the caller only samples, timestamps and
appends a tuple to a bounded buffer; a background thread turns records into SageMaker capture
lines (orjson, SageMaker's key order) and writes them under
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/{MM}-{SS}-{mmm}-{uuid}.jsonl``, the hour
folder being the UTC hour of the inference and the name the time of the file's first record.

Local destinations (a path or ``file://``): each file holds one minute of records. While its
minute is open the file is an in-progress ``.{name}.jsonl.part`` beside its final name, locked
with ``flock``; every drain of the buffer appends whole lines to it and every flush interval
``fsync`` s it. When the minute is over (or at :meth:`CaptureWriter.flush` and
:meth:`CaptureWriter.close`) it is renamed to ``{name}.jsonl``: a reader never sees a torn or
growing file. After a ``kill -9`` the lines written before the kill are safe in the ``.part``
file; :func:`recover` (run by every new writer for its endpoint and variant, in the background)
cuts a torn last line off and publishes it, so a crash loses only the records that had not
reached the file: at most one flush interval. (Appending straight to the visible file cannot
give that guarantee: the kernel applies a large ``write`` page by page and a ``SIGKILL`` between
two pages leaves half a line.)

Other fsspec URLs (``s3://``, ``memory://``, ...): object stores cannot append, so every flush
interval writes one complete object per minute that received records; objects of one minute
are several files in the same hour folder, as SageMaker's own readers expect.

The package, one concern a module: :mod:`~vigil.capture.writer.capture_writer` (the writer, its
buffer and thread), :mod:`~vigil.capture.writer.encoder` (records as capture lines),
:mod:`~vigil.capture.writer.layout` (destinations and file names),
:mod:`~vigil.capture.writer.local` (minute files published from ``.part`` files),
:mod:`~vigil.capture.writer.objects` (fsspec object stores),
:mod:`~vigil.capture.writer.recovery` (a dead writer's files),
:mod:`~vigil.capture.writer.metrics` (counters and metrics),
:mod:`~vigil.capture.writer.process` (exit, SIGTERM and fork) and
:mod:`~vigil.capture.writer.hour_file` (the durable hour files of ingestion and ground truth).

>>> import pathlib, tempfile
>>> from vigil.formats import CaptureRecord
>>> root = tempfile.mkdtemp()
>>> with CaptureWriter("churn", destination=root) as writer:
...     writer.capture("132,10,182.9", "0.036", inference_id="58")
True
>>> [path] = pathlib.Path(root).rglob("*.jsonl")
>>> path.relative_to(root).parts[:2]
('churn', 'AllTraffic')
>>> record = CaptureRecord.loads(path.read_text().splitlines()[0])
>>> record.event_metadata.inference_id, record.capture_data.endpoint_input.data
('58', '132,10,182.9')
>>> writer.stats.written, writer.stats.dropped
(1, 0)
"""

from __future__ import annotations

from vigil.capture.writer.capture_writer import CAPTURE_MODES, WHEN_FULL, CaptureWriter
from vigil.capture.writer.hour_file import write_hour_file
from vigil.capture.writer.layout import PART_SUFFIX
from vigil.capture.writer.local import MAX_OPEN_FILES
from vigil.capture.writer.metrics import CaptureStats
from vigil.capture.writer.objects import OBJECT_FLUSH_BYTES
from vigil.capture.writer.process import (
    SIGNAL_TIMEOUT,
    close_all,
    flush_all,
    install_sigterm_flush,
)
from vigil.capture.writer.recovery import recover

__all__ = [
    "CAPTURE_MODES",
    "MAX_OPEN_FILES",
    "OBJECT_FLUSH_BYTES",
    "PART_SUFFIX",
    "SIGNAL_TIMEOUT",
    "WHEN_FULL",
    "CaptureStats",
    "CaptureWriter",
    "close_all",
    "flush_all",
    "install_sigterm_flush",
    "recover",
    "write_hour_file",
]
