"""Turn SageMaker capture records into table rows.

A payload (``captureData.endpointInput`` / ``endpointOutput`` / ``batchTransformOutput``) is
decoded by its ``encoding``: ``CSV`` text, ``JSON`` text (JSON lines are accepted too) or
``BASE64``, which is decoded and then read as CSV or JSON by its ``observedContentType``; any
other content type is not tabular. Input and output are decoded independently, so they may use
different encodings.

Input rows. CSV: one row per line, columns ``_c0``, ``_c1``, ... or ``feature_names`` (values
are stripped text; an empty value is null). JSON: a flat object is one row (its keys); a list of
values is one row of ``_c{i}``; a list of lists or of objects is one row each; an object whose
only key is ``instances``, ``inputs``, ``features`` or ``data`` holding a list is a batch, one
row per item. With ``features_attribute`` (a JMESPath expression, e.g.
``instances[*].features`` or ``data.features``) the rows come from what the expression selects:
an object is one row, a list of lists or of objects one row per item, a list of values one row.

Output rows. CSV: one row per line (``_o0``, ``_o1``, ...); JSON: a flat object gives its keys,
a batch (a list, or an object whose only key is ``predictions``, ``outputs`` or ``results``)
gives one row per item. With ``inference_attribute`` / ``probability_attribute`` the output
gives only the columns ``prediction`` / ``probability``: the JMESPath expression is applied to
the whole decoded output (for a CSV output it is a column index, as in SageMaker). When the input
has N > 1 rows the result must be a list of N values, one per row (``predictions[*].score`` on
``{"predictions": [{"score": ..}, ..]}``, or ``predictions`` on ``{"predictions": [0.1, ..]}``);
for a single row a one-item list is unwrapped and anything else (a probability vector) is the
row's value. A batch output must have as many rows as the input: a mismatch is an error.

:func:`capture_rows` raises :class:`~vigil.errors.InputError` (a ``ValueError``) for a record it
cannot use; callers count it as a bad record. A record preprocessor with SageMaker's contract
(``preprocess_handler(inference_record[, logger])``) gets an :class:`InferenceRecord` (see
:func:`load_preprocessor`).

Modules: :mod:`~vigil.io.capture.payloads` (decoding one payload),
:mod:`~vigil.io.capture.decoder` (records into rows), :mod:`~vigil.io.capture.records` (lines
and times), :mod:`~vigil.io.capture.inference_record` and :mod:`~vigil.io.capture.preprocessor`
(SageMaker's preprocessor contract).

>>> line = ('{"captureData": {"endpointInput": {"mode": "INPUT", "data": "1,2.5", '
...         '"encoding": "CSV"}, "endpointOutput": {"mode": "OUTPUT", "data": "0.3", '
...         '"encoding": "CSV"}}, "eventMetadata": {"eventId": "e1"}, "eventVersion": "0"}')
>>> capture_rows(line, "both")
[{'_c0': '1', '_c1': '2.5', '_o0': '0.3'}]
>>> decoder = CaptureDecoder("both", inference_attribute="predictions[*].label")
>>> record = {"captureData": {
...     "endpointInput": {"data": '{"instances": [[1, 2], [3, 4]]}', "encoding": "JSON"},
...     "endpointOutput": {"data": '{"predictions": [{"label": 0}, {"label": 1}]}',
...                        "encoding": "JSON"}}}
>>> decoder.rows(record)
[{'_c0': 1, '_c1': 2, 'prediction': 0}, {'_c0': 3, '_c1': 4, 'prediction': 1}]
"""

from __future__ import annotations

from vigil.io.capture.decoder import (
    CONTENTS,
    INPUT_BATCH_KEYS,
    OUTPUT_BATCH_KEYS,
    OUTPUT_KEYS,
    CaptureDecoder,
    Row,
)
from vigil.io.capture.inference_record import (
    CapturedContent,
    EventData,
    EventMetadata,
    InferenceRecord,
)
from vigil.io.capture.payloads import csv_lines, decode_payload
from vigil.io.capture.preprocessor import (
    PREPROCESSOR_LOGGER,
    Preprocessor,
    PreprocessorError,
    load_preprocessor,
    preprocessed_rows,
)
from vigil.io.capture.records import capture_rows, parse_record, parse_time

__all__ = [
    "CONTENTS",
    "INPUT_BATCH_KEYS",
    "OUTPUT_BATCH_KEYS",
    "OUTPUT_KEYS",
    "PREPROCESSOR_LOGGER",
    "CaptureDecoder",
    "CapturedContent",
    "EventData",
    "EventMetadata",
    "InferenceRecord",
    "Preprocessor",
    "PreprocessorError",
    "Row",
    "capture_rows",
    "csv_lines",
    "decode_payload",
    "load_preprocessor",
    "parse_record",
    "parse_time",
    "preprocessed_rows",
]
