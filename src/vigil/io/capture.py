"""Turn one SageMaker capture line into table rows.

CSV payloads give columns ``_c0``, ``_c1``, ... (several lines give several rows); JSON
payloads may be a flat object, a list of values (one row), or a batch
(``{"instances": [...]}``, ``{"inputs": [...]}``, a list of rows) that becomes several rows.
Outputs become ``_o0``, ``_o1``, ... (CSV) or their JSON keys (``predictions`` batches give one
``_o0`` value per row). BASE64 payloads are not tabular and are skipped as bad records.

>>> line = ('{"captureData": {"endpointInput": {"mode": "INPUT", "data": "1,2.5", '
...         '"encoding": "CSV"}, "endpointOutput": {"mode": "OUTPUT", "data": "0.3", '
...         '"encoding": "CSV"}}, "eventMetadata": {"eventId": "e1"}, "eventVersion": "0"}')
>>> capture_rows(line, "both")
[{'_c0': '1', '_c1': '2.5', '_o0': '0.3'}]
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

BATCH_KEYS = ("instances", "inputs", "features", "data", "predictions", "outputs")


def _csv_rows(text: str, prefix: str) -> list[dict[str, Any]]:
    rows = []
    for values in csv.reader(io.StringIO(text)):
        if values:
            rows.append({f"{prefix}{i}": v.strip() for i, v in enumerate(values)})
    return rows


def _json_rows(text: str, prefix: str) -> list[dict[str, Any]]:
    obj = orjson.loads(text)
    batch = False
    if isinstance(obj, dict):
        for key in BATCH_KEYS:
            if key in obj and isinstance(obj[key], list) and len(obj) == 1:
                obj, batch = obj[key], True
                break
        else:
            return [obj]
    if not isinstance(obj, list):
        return [{f"{prefix}0": obj}]
    if obj and all(isinstance(item, dict) for item in obj):
        return obj
    if obj and all(isinstance(item, list) for item in obj):
        return [{f"{prefix}{i}": v for i, v in enumerate(item)} for item in obj]
    if batch or prefix == "_o":  # a batch of scalars: one row each
        return [{f"{prefix}0": v} for v in obj]
    return [{f"{prefix}{i}": v for i, v in enumerate(obj)}]


def _decode(content: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    encoding = content.get("encoding")
    data = content["data"]
    if not isinstance(data, str):
        raise ValueError("'data' must be a string")
    if encoding == "CSV":
        return _csv_rows(data, prefix)
    if encoding == "JSON":
        return _json_rows(data, prefix)
    raise ValueError(f"encoding {encoding!r} is not tabular (expected CSV or JSON)")


def capture_rows(line: str | bytes, content: str = "input") -> list[dict[str, Any]]:
    """Rows of one capture line; ``content`` is ``input``, ``output`` or ``both``."""
    record = orjson.loads(line)
    if not isinstance(record, dict) or "captureData" not in record:
        raise ValueError("expected an object with 'captureData'")
    capture = record["captureData"]
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    if content in ("input", "both") and "endpointInput" in capture:
        inputs = _decode(capture["endpointInput"], "_c")
    out = capture.get("endpointOutput") or capture.get("batchTransformOutput")
    if content in ("output", "both") and out is not None:
        outputs = _decode(out, "_o")
    if not outputs:
        return inputs
    if not inputs:
        return outputs
    if len(inputs) != len(outputs):
        if len(outputs) == 1:
            return [{**row, **outputs[0]} for row in inputs]
        raise ValueError(f"{len(inputs)} input rows but {len(outputs)} output rows")
    return [{**i, **o} for i, o in zip(inputs, outputs)]
