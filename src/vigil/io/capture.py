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

:func:`capture_rows` raises ``ValueError`` for a record it cannot use; callers count it as a bad
record. A record preprocessor with SageMaker's contract (``preprocess_handler(inference_record[,
logger])``) gets an :class:`InferenceRecord` (see :func:`load_preprocessor`).

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

import base64
import binascii
import csv
import hashlib
import importlib.util
import inspect
import io
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
import orjson

from vigil.errors import ConfigError

CONTENTS = ("input", "output", "both")
INPUT_BATCH_KEYS = ("instances", "inputs", "features", "data")
OUTPUT_BATCH_KEYS = ("predictions", "outputs", "results")
OUTPUT_KEYS = ("endpointOutput", "batchTransformOutput")
PREPROCESSOR_LOGGER = "vigil.capture.preprocessor"

Row = dict[str, Any]


# -- payloads -----------------------------------------------------------------------------------


def decode_payload(content: Mapping[str, Any]) -> tuple[str, Any]:
    """``("CSV", text)`` or ``("JSON", object)`` for one captured payload.

    >>> decode_payload({"data": "eyJhIjogMX0=", "encoding": "BASE64",
    ...                 "observedContentType": "application/json"})
    ('JSON', {'a': 1})
    """
    data = content.get("data")
    encoding = content.get("encoding")
    if not isinstance(data, str):
        raise ValueError("'data' must be a string")
    if encoding == "CSV":
        return "CSV", data
    if encoding == "JSON":
        return "JSON", _load_json(data)
    if encoding != "BASE64":
        raise ValueError(f"encoding {encoding!r} is not one of CSV, JSON, BASE64")
    ctype = str(content.get("observedContentType") or "").lower()
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"BASE64 payload is not tabular: invalid base64 ({exc})") from None
    kind = "CSV" if "csv" in ctype else "JSON" if "json" in ctype else None
    if kind is None:
        raise ValueError(
            f"BASE64 payload of content type {ctype or 'unknown'!r} is not tabular "
            "(expected a CSV or JSON content type)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("BASE64 payload is not tabular: not UTF-8 text") from None
    return kind, (text if kind == "CSV" else _load_json(text))


def _load_json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:  # JSON lines: one item per line
            try:
                return [orjson.loads(line) for line in lines]
            except orjson.JSONDecodeError:
                pass
        raise ValueError(f"JSON payload does not parse ({exc})") from None


def csv_lines(text: str) -> list[list[str | None]]:
    """The rows of a CSV payload; values stripped, empty values null.

    >>> csv_lines("1, 2,,x\\n\\n3,4,5,6\\n")
    [['1', '2', None, 'x'], ['3', '4', '5', '6']]
    """
    if not text.strip():
        raise ValueError("empty CSV payload")
    rows = []
    for values in csv.reader(io.StringIO(text)):
        if values:
            rows.append([v.strip() or None for v in values])
    return rows


def _positional(values: Sequence[Any], prefix: str, names: Sequence[str] | None = None) -> Row:
    if names is None:
        return {f"{prefix}{i}": v for i, v in enumerate(values)}
    if len(values) != len(names):
        raise ValueError(f"expected {len(names)} values (feature_names), found {len(values)}")
    return dict(zip(names, values))


def _batch_items(obj: Any, keys: Sequence[str]) -> list[Any] | None:
    """The items of a batch: a list, or an object whose only key is a batch key."""
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict) and len(obj) == 1:
        [(key, value)] = obj.items()
        if key in keys and isinstance(value, list):
            return value
    return None


def _item_row(item: Any, prefix: str, names: Sequence[str] | None) -> Row:
    if isinstance(item, dict):
        return item
    if isinstance(item, list):
        return _positional(item, prefix, names)
    return _positional([item], prefix, names)


def _compile(name: str, expression: str | None) -> Any:
    if expression is None or expression.strip().isdigit():  # a CSV column index
        return None
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise ConfigError(f"{name} {expression!r} is not a JMESPath expression: {exc}") from None


# -- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureDecoder:
    """Decodes capture records (dicts) into rows; see the module docstring for the rules.

    ``content`` is ``input``, ``output`` or ``both``; the attributes are JMESPath expressions
    (``inference_attribute`` / ``probability_attribute`` may be a column index for CSV outputs).
    """

    content: str = "input"
    features_attribute: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    feature_names: tuple[str, ...] | None = None
    _compiled: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.content not in CONTENTS:
            raise ConfigError(f"content {self.content!r} is not one of {', '.join(CONTENTS)}")
        if self.feature_names is not None:
            names = tuple(str(n) for n in self.feature_names)
            if len(set(names)) != len(names) or not names:
                raise ConfigError("feature_names must be distinct names, at least one")
            if any(n.startswith("__") for n in names):
                raise ConfigError("feature_names may not start with '__' (kept for metadata)")
            object.__setattr__(self, "feature_names", names)
        for name in ("features_attribute", "inference_attribute", "probability_attribute"):
            self._compiled[name] = _compile(name, getattr(self, name))

    @property
    def uses_attributes(self) -> bool:
        """Whether the output is read through ``inference_attribute``/``probability_attribute``."""
        return self.inference_attribute is not None or self.probability_attribute is not None

    def rows(self, record: Mapping[str, Any]) -> list[Row]:
        """The rows of one parsed capture record; ``ValueError`` when it cannot be used."""
        capture = record.get("captureData")
        if not isinstance(capture, dict):
            raise ValueError("expected an object with 'captureData'")
        inp = capture.get("endpointInput")
        out = next((capture[k] for k in OUTPUT_KEYS if capture.get(k) is not None), None)
        want_in = self.content in ("input", "both")
        want_out = self.content in ("output", "both")
        if self.content == "input" and not isinstance(inp, dict):
            raise ValueError("no captureData.endpointInput")
        if self.content == "output" and not isinstance(out, dict):
            raise ValueError("no captureData.endpointOutput")
        if not isinstance(inp, dict) and not isinstance(out, dict):
            raise ValueError("neither captureData.endpointInput nor endpointOutput")
        inputs = self._input_rows(*decode_payload(inp)) if want_in and inp is not None else None
        if not want_out or out is None:
            return inputs or []
        outputs = self._output_rows(*decode_payload(out), None if inputs is None else len(inputs))
        if inputs is None:
            return outputs
        return [{**i, **o} for i, o in zip(inputs, outputs)]

    def _input_rows(self, kind: str, value: Any) -> list[Row]:
        names = self.feature_names
        if kind == "CSV":
            return [_positional(line, "_c", names) for line in csv_lines(value)]
        expression = self._compiled["features_attribute"]
        if expression is not None:
            value = expression.search(value)
            if value is None:
                raise ValueError(f"features_attribute {self.features_attribute!r} matched nothing")
            items = value if isinstance(value, list) else None
            batch = items is not None and all(isinstance(i, (dict, list)) for i in items)
        else:
            items = _batch_items(value, INPUT_BATCH_KEYS)
            explicit = items is not None and not isinstance(value, list)
            batch = items is not None and (
                explicit or all(isinstance(i, (dict, list)) for i in items)
            )
        if items is None:
            return [_item_row(value, "_c", names)]
        if batch:
            return [_item_row(item, "_c", names) for item in items]
        return [_positional(items, "_c", names)]

    def _output_rows(self, kind: str, value: Any, n_in: int | None) -> list[Row]:
        if self.uses_attributes:
            columns = {
                column: self._attribute(kind, value, name, n_in)
                for column, name in (
                    ("prediction", "inference_attribute"),
                    ("probability", "probability_attribute"),
                )
                if getattr(self, name) is not None
            }
            lengths = {len(v) for v in columns.values()}
            if len(lengths) > 1:
                raise ValueError(
                    "inference_attribute and probability_attribute gave different numbers of values"
                )
            n = lengths.pop()
            return [{c: v[i] for c, v in columns.items()} for i in range(n)]
        if kind == "CSV":
            lines = csv_lines(value)
            if n_in is None or len(lines) == n_in:
                return [_positional(line, "_o") for line in lines]
            if len(lines) == 1 and n_in > 1 and len(lines[0]) == n_in:  # "p1,p2,p3" for 3 rows
                return [{"_o0": v} for v in lines[0]]
            raise ValueError(f"{n_in} input rows but {len(lines)} output rows")
        items = _batch_items(value, OUTPUT_BATCH_KEYS)
        if items is None:
            if n_in is not None and n_in != 1:
                raise ValueError(f"{n_in} input rows but 1 output row")
            return [_item_row(value, "_o", None)]
        if n_in is None or len(items) == n_in:
            return [_item_row(item, "_o", None) for item in items]
        if n_in == 1 and not any(isinstance(i, (dict, list)) for i in items):
            return [_positional(items, "_o")]
        raise ValueError(f"{n_in} input rows but {len(items)} output rows")

    def _attribute(self, kind: str, value: Any, name: str, n_in: int | None) -> list[Any]:
        expression = getattr(self, name)
        if kind == "CSV":
            if not expression.strip().isdigit():
                raise ValueError(f"{name} {expression!r} must be a column index for a CSV output")
            index = int(expression)
            lines = csv_lines(value)
            if any(len(line) <= index for line in lines):
                raise ValueError(f"{name} {index}: the CSV output has no column {index}")
            found: Any = [line[index] for line in lines]
            batch = True
        else:
            if self._compiled[name] is None:
                raise ValueError(
                    f"{name} {expression!r} is a column index; a JSON output needs a JMESPath"
                )
            found = self._compiled[name].search(value)
            if found is None:
                raise ValueError(f"{name} {expression!r} matched nothing in the output")
            batch = isinstance(found, list) and _batch_items(value, OUTPUT_BATCH_KEYS) is not None
        if n_in is None and batch:
            return found
        if n_in is not None and n_in != 1:
            if isinstance(found, list) and len(found) == n_in:
                return found
            got = len(found) if isinstance(found, list) else 1
            raise ValueError(f"{name} {expression!r} gave {got} values for {n_in} input rows")
        if isinstance(found, list) and len(found) == 1:
            return found
        return [found]


_DECODERS = {content: CaptureDecoder(content) for content in CONTENTS}


def parse_record(line: str | bytes) -> dict[str, Any]:
    """One capture line as a dict; ``ValueError`` when it is not a JSON object."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object with 'captureData'")
    return record


def capture_rows(line: str | bytes, content: str = "input") -> list[Row]:
    """Rows of one capture line; ``content`` is ``input``, ``output`` or ``both``."""
    decoder = _DECODERS.get(content) or CaptureDecoder(content)
    return decoder.rows(parse_record(line))


def parse_time(text: Any) -> datetime:
    """An ISO-8601 ``inferenceTime`` as an aware UTC datetime (no offset means UTC).

    >>> parse_time("2022-04-18T00:21:48Z")
    datetime.datetime(2022, 4, 18, 0, 21, 48, tzinfo=datetime.timezone.utc)
    """
    if not isinstance(text, str):
        raise ValueError(f"inferenceTime {text!r} is not an ISO-8601 time")
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"inferenceTime {text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


# -- the preprocessor contract ------------------------------------------------------------------


@dataclass(frozen=True)
class CapturedContent:
    """``inference_record.endpoint_input`` / ``endpoint_output``, as SageMaker passes them."""

    data: str | None = None
    encoding: str | None = None
    observed_content_type: str | None = None
    mode: str | None = None

    @classmethod
    def of(cls, content: Any) -> CapturedContent | None:
        if not isinstance(content, dict):
            return None
        return cls(
            content.get("data"),
            content.get("encoding"),
            content.get("observedContentType"),
            content.get("mode"),
        )

    @property
    def observedContentType(self) -> str | None:
        return self.observed_content_type


@dataclass(frozen=True)
class EventMetadata:
    """``inference_record.event_metadata``; ``custom_attribute`` is the name AWS samples use."""

    event_id: str | None = None
    inference_id: str | None = None
    inference_time: str | None = None
    custom_attributes: list[str] | None = None

    @property
    def custom_attribute(self) -> list[str] | None:
        return self.custom_attributes

    @property
    def eventId(self) -> str | None:
        return self.event_id

    @property
    def inferenceId(self) -> str | None:
        return self.inference_id

    @property
    def inferenceTime(self) -> str | None:
        return self.inference_time

    @property
    def customAttributes(self) -> list[str] | None:
        return self.custom_attributes


@dataclass(frozen=True)
class EventData:
    """``inference_record.event_data``: the ``captureData`` object (both spellings work)."""

    endpoint_input: CapturedContent | None = None
    endpoint_output: CapturedContent | None = None
    batch_transform_output: CapturedContent | None = None

    @property
    def endpointInput(self) -> CapturedContent | None:
        return self.endpoint_input

    @property
    def endpointOutput(self) -> CapturedContent | None:
        return self.endpoint_output or self.batch_transform_output

    @property
    def batchTransformOutput(self) -> CapturedContent | None:
        return self.batch_transform_output


@dataclass(frozen=True)
class InferenceRecord:
    """What ``preprocess_handler(inference_record)`` receives: one capture record.

    Mirrors SageMaker's record: ``endpoint_input`` / ``endpoint_output`` (``.data``,
    ``.encoding``, ``.observed_content_type``, ``.mode``; the data raw, as captured),
    ``event_metadata`` (``.event_id``, ``.inference_id``, ``.inference_time``,
    ``.custom_attribute``), ``event_version`` and ``event_data``; plus ``inference_id``,
    ``inference_time``, ``event_id`` shortcuts and ``record``, the parsed line.

    >>> r = InferenceRecord.of({"captureData": {"endpointInput": {"data": "1,2",
    ...     "encoding": "CSV"}}, "eventMetadata": {"eventId": "e1"}, "eventVersion": "0"})
    >>> r.endpoint_input.data, r.event_metadata.event_id, r.endpoint_output
    ('1,2', 'e1', None)
    """

    event_data: EventData
    event_metadata: EventMetadata
    event_version: str | None
    record: dict[str, Any]

    @classmethod
    def of(cls, record: dict[str, Any]) -> InferenceRecord:
        capture = record.get("captureData")
        capture = capture if isinstance(capture, dict) else {}
        meta = record.get("eventMetadata")
        meta = meta if isinstance(meta, dict) else {}
        return cls(
            EventData(
                CapturedContent.of(capture.get("endpointInput")),
                CapturedContent.of(capture.get("endpointOutput")),
                CapturedContent.of(capture.get("batchTransformOutput")),
            ),
            EventMetadata(
                meta.get("eventId"),
                meta.get("inferenceId"),
                meta.get("inferenceTime"),
                meta.get("customAttributes"),
            ),
            record.get("eventVersion"),
            record,
        )

    @property
    def endpoint_input(self) -> CapturedContent | None:
        return self.event_data.endpoint_input

    @property
    def endpoint_output(self) -> CapturedContent | None:
        return self.event_data.endpoint_output or self.event_data.batch_transform_output

    @property
    def batch_transform_output(self) -> CapturedContent | None:
        return self.event_data.batch_transform_output

    @property
    def event_id(self) -> str | None:
        return self.event_metadata.event_id

    @property
    def inference_id(self) -> str | None:
        return self.event_metadata.inference_id

    @property
    def inference_time(self) -> str | None:
        return self.event_metadata.inference_time

    def __str__(self) -> str:
        return orjson.dumps(self.record).decode()


Preprocessor = Callable[[InferenceRecord], Any]


def _takes_logger(handler: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    return sum(p.kind in kinds for p in params) >= 2


def load_preprocessor(spec: Callable[..., Any] | str | os.PathLike[str]) -> Preprocessor:
    """A one-argument preprocessor from a callable or a ``.py`` file's ``preprocess_handler``.

    A handler taking two parameters also gets a :mod:`logging` logger
    (``vigil.capture.preprocessor``), as SageMaker passes one.

    >>> seen = []
    >>> handle = load_preprocessor(lambda record, logger: seen.append(logger.name) or [])
    >>> handle(InferenceRecord.of({"captureData": {}})), seen
    ([], ['vigil.capture.preprocessor'])
    """
    if callable(spec):
        handler: Callable[..., Any] = spec
    else:
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"preprocessor {path}: no such file")
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        module_spec = importlib.util.spec_from_file_location(f"vigil_preprocessor_{digest}", path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"preprocessor {path}: not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(f"preprocessor {path}: cannot load it: {exc!r}") from None
        handler = getattr(module, "preprocess_handler", None)  # type: ignore[assignment]
        if not callable(handler):
            raise ConfigError(f"preprocessor {path}: defines no preprocess_handler function")
    if _takes_logger(handler):
        logger = logging.getLogger(PREPROCESSOR_LOGGER)
        return lambda record: handler(record, logger)
    return handler


def preprocessed_rows(result: Any) -> list[Row]:
    """A handler's result as rows: a dict is one row, a list of dicts several, ``[]`` none.

    >>> preprocessed_rows({0: "1", "b": 2}), preprocessed_rows([])
    ([{'0': '1', 'b': 2}], [])
    """
    if isinstance(result, dict):
        return [{str(k): v for k, v in result.items()}]
    if isinstance(result, (list, tuple)):
        rows = []
        for item in result:
            if not isinstance(item, dict):
                raise ValueError(
                    f"preprocessor returned a list holding {type(item).__name__}; "
                    "expected flat dicts"
                )
            rows.append({str(k): v for k, v in item.items()})
        return rows
    raise ValueError(
        f"preprocessor returned {type(result).__name__}; expected a dict, a list of dicts or []"
    )
