"""Capture records into input and output rows: :class:`CaptureDecoder` and the row shapes.

The rules (batches, ``feature_names``, the JMESPath attributes) are those of the package
docstring, :mod:`vigil.io.capture`. A record that cannot be used raises
:class:`~vigil.errors.InputError` (a ``ValueError``); bad settings raise
:class:`~vigil.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jmespath
import jmespath.exceptions

from vigil.errors import ConfigError, InputError
from vigil.io.capture.payloads import csv_lines, decode_payload

CONTENTS = ("input", "output", "both")
INPUT_BATCH_KEYS = ("instances", "inputs", "features", "data")
OUTPUT_BATCH_KEYS = ("predictions", "outputs", "results")
OUTPUT_KEYS = ("endpointOutput", "batchTransformOutput")

Row = dict[str, Any]


def _positional(values: Sequence[Any], prefix: str, names: Sequence[str] | None = None) -> Row:
    if names is None:
        return {f"{prefix}{i}": v for i, v in enumerate(values)}
    if len(values) != len(names):
        raise InputError(f"expected {len(names)} values (feature_names), found {len(values)}")
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
            raise InputError("expected an object with 'captureData'")
        inp = capture.get("endpointInput")
        out = next((capture[k] for k in OUTPUT_KEYS if capture.get(k) is not None), None)
        want_in = self.content in ("input", "both")
        want_out = self.content in ("output", "both")
        if self.content == "input" and not isinstance(inp, dict):
            raise InputError("no captureData.endpointInput")
        if self.content == "output" and not isinstance(out, dict):
            raise InputError("no captureData.endpointOutput")
        if not isinstance(inp, dict) and not isinstance(out, dict):
            raise InputError("neither captureData.endpointInput nor endpointOutput")
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
                raise InputError(f"features_attribute {self.features_attribute!r} matched nothing")
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
                raise InputError(
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
            raise InputError(f"{n_in} input rows but {len(lines)} output rows")
        items = _batch_items(value, OUTPUT_BATCH_KEYS)
        if items is None:
            if n_in is not None and n_in != 1:
                raise InputError(f"{n_in} input rows but 1 output row")
            return [_item_row(value, "_o", None)]
        if n_in is None or len(items) == n_in:
            return [_item_row(item, "_o", None) for item in items]
        if n_in == 1 and not any(isinstance(i, (dict, list)) for i in items):
            return [_positional(items, "_o")]
        raise InputError(f"{n_in} input rows but {len(items)} output rows")

    def _attribute(self, kind: str, value: Any, name: str, n_in: int | None) -> list[Any]:
        expression = getattr(self, name)
        if kind == "CSV":
            if not expression.strip().isdigit():
                raise InputError(f"{name} {expression!r} must be a column index for a CSV output")
            index = int(expression)
            lines = csv_lines(value)
            if any(len(line) <= index for line in lines):
                raise InputError(f"{name} {index}: the CSV output has no column {index}")
            found: Any = [line[index] for line in lines]
            batch = True
        else:
            if self._compiled[name] is None:
                raise InputError(
                    f"{name} {expression!r} is a column index; a JSON output needs a JMESPath"
                )
            found = self._compiled[name].search(value)
            if found is None:
                raise InputError(f"{name} {expression!r} matched nothing in the output")
            batch = isinstance(found, list) and _batch_items(value, OUTPUT_BATCH_KEYS) is not None
        if n_in is None and batch:
            values: list[Any] = found
            return values
        if n_in is not None and n_in != 1:
            if isinstance(found, list) and len(found) == n_in:
                return found
            got = len(found) if isinstance(found, list) else 1
            raise InputError(f"{name} {expression!r} gave {got} values for {n_in} input rows")
        if isinstance(found, list) and len(found) == 1:
            return found
        return [found]
