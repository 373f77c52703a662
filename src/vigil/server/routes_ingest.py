"""HTTP ingestion: capture records and ground-truth records, in batches.

Captures are stored in SageMaker's layout under the capture root, one new file per request
and hour (written to a temporary name, then renamed: a reader never sees a partial file).
Ground truth goes to ``{ground truth}/yyyy/mm/dd/hh/`` (``{data}/ground-truth`` unless
``VIGIL_GROUND_TRUTH_URI`` moves it) by the hour it was collected.
Both need the ``ingest`` scope (which ``write`` and ``admin`` imply).
"""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.capture.ground_truth import write_ground_truth
from vigil.capture.inference_time import utc_inference_time
from vigil.capture.location import join_location
from vigil.capture.writer.hour_file import write_hour_lines
from vigil.errors import InputError
from vigil.formats.capture import CaptureRecord, GroundTruthRecord
from vigil.server.errors import ApiError
from vigil.server.schemas_common import IsoTime, Stored, errors
from vigil.server.state import INGEST, ServerState, get_state
from vigil.store.artifacts import ground_truth_root
from vigil.store.models import Endpoint

router = APIRouter(responses=errors(401, 403, 413, 422))
MAX_RECORDS = 100_000


class PlainCapture(BaseModel):
    """A capture given as plain fields instead of a SageMaker line."""

    input: Any = None
    output: Any = None
    content_type: str = "application/json"
    accept: str | None = None
    inference_id: str | None = None
    event_id: str | None = None
    inference_time: IsoTime | None = None
    custom_attributes: list[str] | None = None


class PlainCaptures(BaseModel):
    records: list[PlainCapture] = Field(min_length=1, max_length=MAX_RECORDS)


def _content(value: Any, content_type: str, mode: str) -> dict[str, Any]:
    if isinstance(value, bytes):
        text, encoding = base64.b64encode(value).decode(), "BASE64"
    elif "csv" in content_type:
        text, encoding = value if isinstance(value, str) else ",".join(map(str, value)), "CSV"
    elif "json" in content_type:
        text, encoding = value if isinstance(value, str) else orjson.dumps(value).decode(), "JSON"
    else:
        raw = value.encode() if isinstance(value, str) else orjson.dumps(value)
        text, encoding = base64.b64encode(raw).decode(), "BASE64"
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def _from_plain(p: PlainCapture, now: datetime, number: int) -> CaptureRecord:
    t = _utc(p.inference_time or now, f"records[{number}].inference_time")
    data: dict[str, Any] = {}
    if p.input is not None:
        data["endpointInput"] = _content(p.input, p.content_type, "INPUT")
    if p.output is not None:
        data["endpointOutput"] = _content(p.output, p.accept or p.content_type, "OUTPUT")
    meta: dict[str, Any] = {
        "eventId": p.event_id or str(uuid.uuid4()),
        "inferenceTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if p.inference_id is not None:
        meta["inferenceId"] = p.inference_id
    if p.custom_attributes:
        meta["customAttributes"] = p.custom_attributes
    return CaptureRecord.model_validate(
        {"captureData": data, "eventMetadata": meta, "eventVersion": "0"}
    )


def _write_hourly(root: str, lines_by_hour: dict[datetime, list[str]]) -> list[str]:
    return [write_hour_lines(root, h, lines) for h, lines in sorted(lines_by_hour.items())]


def _utc(value: str | datetime, field: str) -> datetime:
    """An inference time in UTC (offsets honoured, none means UTC); 422 naming ``field``
    when it is not a time or lies out of range."""
    try:
        return utc_inference_time(value, field)
    except InputError as exc:
        raise ApiError(422, "validation_error", exc.message) from None


def _hour(text: str | None, now: datetime, field: str = "inferenceTime") -> datetime:
    """The UTC hour a record is filed under: the hour of its inference time in UTC, which is
    where the window readers look for it."""
    t = _utc(text, field) if text else now
    return t.replace(minute=0, second=0, microsecond=0)


def _check_line(line: bytes, number: int) -> tuple[dict[str, Any], str | None]:
    """Validate one SageMaker capture line cheaply (the hot path of ingestion); return the
    parsed record and its inferenceTime. Raises ApiError naming the line and field."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, "validation_error", f"line {number}: not valid JSON ({exc})") from None
    capture = record.get("captureData") if isinstance(record, dict) else None
    meta = record.get("eventMetadata") if isinstance(record, dict) else None
    if not isinstance(capture, dict) or not isinstance(meta, dict):
        raise ApiError(
            422,
            "validation_error",
            f"line {number}: expected an object with captureData and eventMetadata",
        )
    if not isinstance(meta.get("eventId"), str):
        raise ApiError(
            422, "validation_error", f"line {number}: eventMetadata.eventId: expected a string"
        )
    for key in ("endpointInput", "endpointOutput", "batchTransformOutput"):
        part = capture.get(key)
        if part is None:
            continue
        if (
            not isinstance(part, dict)
            or not isinstance(part.get("data"), str)
            or part.get("encoding") not in ("CSV", "JSON", "BASE64")
        ):
            raise ApiError(
                422,
                "validation_error",
                f"line {number}: captureData.{key}: "
                "expected data (a string) and encoding CSV, JSON or BASE64",
            )
    when = meta.get("inferenceTime")
    if when is not None and not isinstance(when, str):
        raise ApiError(
            422,
            "validation_error",
            f"line {number}: eventMetadata.inferenceTime: expected an ISO-8601 string",
        )
    return record, when


@router.post(
    "/endpoints/{name}/captures",
    response_model=Stored,
    responses=errors(404),
    dependencies=[INGEST],
)
async def ingest_captures(
    name: str, request: Request, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Store capture records: a JSON-lines body of SageMaker capture lines
    (``application/x-ndjson`` / ``application/jsonl``), or ``{"records": [{...}]}`` plain
    records (``application/json``)."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    # parsing, the database and fsync block: keep them off the event loop
    return await run_in_threadpool(_store_captures, state, name, body, ctype)


def _store_captures(state: ServerState, name: str, body: bytes, ctype: str) -> dict[str, Any]:
    with state.db.session() as s:
        endpoint = s.get(Endpoint, name)
        if endpoint is None:
            raise ApiError(404, "not_found", f"no endpoint named {name!r}")
        variant, capture_uri = endpoint.variant, endpoint.capture_uri
    now = datetime.now(timezone.utc)
    by_hour: dict[datetime, list[str]] = defaultdict(list)
    hours: dict[str, datetime] = {}
    count = 0
    if "ndjson" in ctype or "jsonl" in ctype:
        for i, raw in enumerate(body.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            _, when = _check_line(line, i)
            key = when or ""
            if key not in hours:  # the whole text: an offset may move the hour
                hours[key] = _hour(when, now, f"line {i}: eventMetadata.inferenceTime")
            by_hour[hours[key]].append(line.decode())
            count += 1
    else:
        try:
            plain = PlainCaptures.model_validate_json(body)
        except ValueError as exc:
            raise ApiError(
                422, "validation_error", f'expected {{"records": [...]}} or JSON lines: {exc}'
            ) from None
        for n, p in enumerate(plain.records):
            record = _from_plain(p, now, n)
            by_hour[_hour(record.event_metadata.inference_time, now)].append(record.to_line())
            count += 1
    if count > MAX_RECORDS:
        raise ApiError(413, "payload_too_large", f"at most {MAX_RECORDS} records per request")
    root = join_location(capture_uri or state.settings.capture_root, name, variant)
    files = _write_hourly(root, by_hour)
    return {"stored": count, "files": len(files)}


class PlainLabel(BaseModel):
    event_id: str
    label: Any


class PlainLabels(BaseModel):
    records: list[PlainLabel] = Field(min_length=1, max_length=MAX_RECORDS)


@router.post("/ground-truth", response_model=Stored, dependencies=[INGEST])
async def ingest_ground_truth(
    request: Request, state: ServerState = Depends(get_state)
) -> dict[str, Any]:
    """Store ground-truth records (SageMaker lines, or ``{"records": [{"event_id", "label"}]}``)
    under the hour they were collected."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    pairs: list[tuple[str, Any]] = []
    if "ndjson" in ctype or "jsonl" in ctype:
        for i, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                try:
                    record = GroundTruthRecord.loads(line, source=f"line {i}")
                except ValueError as exc:
                    raise ApiError(422, "validation_error", str(exc)) from None
                data: str | bytes = record.ground_truth_data.data
                if record.ground_truth_data.encoding == "BASE64":
                    data = base64.b64decode(data)
                pairs.append((record.event_metadata.event_id, data))
    else:
        try:
            plain = PlainLabels.model_validate_json(body)
        except ValueError as exc:
            raise ApiError(
                422, "validation_error", f'expected {{"records": [...]}}: {exc}'
            ) from None
        pairs = [(p.event_id, p.label) for p in plain.records]
    await run_in_threadpool(write_ground_truth, ground_truth_root(state.settings), pairs)
    return {"stored": len(pairs), "files": 1}
