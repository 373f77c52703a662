"""Read one window of captured inferences into an Arrow table.

:func:`read_window` lists the hour folders ``{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/`` that
overlap ``[start, end)``, reads their ``*.jsonl`` files (dot-files, such as a writer's
in-progress ``.part`` files, are skipped) and keeps the records whose ``inferenceTime`` lies in
``[start, end)``. Payloads are decoded by :mod:`vigil.io.capture` (CSV, JSON, BASE64, batches,
JMESPath attributes) or by a SageMaker record preprocessor. Every row also carries the record's
``eventId``, ``inferenceId`` and ``inferenceTime`` in the columns ``__event_id``,
``__inference_id`` and ``__inference_time`` (timestamp[us, UTC]) for joins with ground truth;
:meth:`Window.features` drops them. Bad records are counted and sampled in ``Window.bad``, never
fatal. ``root`` is a local path, a ``file://`` URL or any fsspec URL (``s3://``, ``memory://``).

Speed: a file whose records (in the window) are all single-line CSV payloads without quotes,
whitespace or non-ASCII bytes, with the same number of values, is read with Arrow alone
(``pyarrow.json`` for the records, ``pyarrow.csv`` for the joined payloads), files in parallel;
any other file takes the per-record path, which gives the same table.

Modules: :mod:`~vigil.capture.window.reader` (:func:`read_window`, one file),
:mod:`~vigil.capture.window.folders` (hour folders, local or fsspec),
:mod:`~vigil.capture.window.fast` (the Arrow fast path), :mod:`~vigil.capture.window.records`
(the per-record path, bad records, preprocessors), :mod:`~vigil.capture.window.tables` (rows
into tables), :mod:`~vigil.capture.window.latest` (the last record seen),
:mod:`~vigil.capture.window.result` (:class:`Window`, empty-window reasons) and
:mod:`~vigil.capture.window.times`.

>>> import tempfile
>>> from datetime import datetime
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp())
>>> hour = root / "churn" / "AllTraffic" / "2024" / "05" / "01" / "10"
>>> hour.mkdir(parents=True)
>>> line = ('{"captureData": {"endpointInput": {"observedContentType": "text/csv", '
...         '"mode": "INPUT", "data": "%s", "encoding": "CSV"}}, "eventMetadata": '
...         '{"eventId": "e%d", "inferenceTime": "2024-05-01T10:%02d:00Z"}, "eventVersion": "0"}')
>>> _ = (hour / "00-00-000-a.jsonl").write_text(
...     "\\n".join(line % (f"{i},{i * 2}", i, i * 10) for i in range(6)) + "\\n")
>>> w = read_window(root, "churn", datetime(2024, 5, 1, 10, 15), datetime(2024, 5, 1, 10, 45))
>>> w.features().to_pydict()
{'_c0': ['2', '3', '4'], '_c1': ['4', '6', '8']}
>>> w.records_read, w.records_in_window, w.event_ids.to_pylist()
(6, 3, ['e2', 'e3', 'e4'])
>>> w.last_record_time.isoformat()
'2024-05-01T10:50:00+00:00'
>>> empty = read_window(root, "churn", datetime(2024, 5, 2), datetime(2024, 5, 2, 1))
>>> reason = empty.empty_reason()
>>> reason.startswith("no capture data in window [2024-05-02T00:00:00Z, 2024-05-02T01:00:00Z)")
True
>>> reason.split(": ", 1)[1]
'no hour folder overlaps the window; last record seen at 2024-05-01T10:50:00Z'
"""

from __future__ import annotations

from vigil.capture.window.reader import _Reader as _Reader
from vigil.capture.window.reader import read_window
from vigil.capture.window.result import META_COLUMNS, TIME_TYPE, Window

__all__ = ["META_COLUMNS", "TIME_TYPE", "Window", "read_window"]
