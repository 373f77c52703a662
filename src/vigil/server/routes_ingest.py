"""HTTP ingestion: capture records and ground-truth records, in batches.

Captures are stored in SageMaker's layout under the capture root. A request is answered once
its records are durable; requests that arrive together are stored together, one new file and
one ``fsync`` per hour for the whole group (:mod:`vigil.capture.writer.group_commit`: a hidden
``.part`` name, then a rename, so a reader never sees a partial file). On an object store each
request's records of an hour are one whole object.
Ground truth goes to ``{ground truth}/yyyy/mm/dd/hh/`` (``{data}/ground-truth`` unless
``VIGIL_GROUND_TRUTH_URI`` moves it) by the hour it was collected.
Both need the ``ingest`` scope (which ``write`` and ``admin`` imply).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from vigil.capture.ground_truth import write_ground_truth
from vigil.capture.inference_time import utc_inference_time
from vigil.capture.location import join_location, local_path
from vigil.capture.writer.group_commit import GroupCommitter
from vigil.capture.writer.hour_file import write_hour_lines
from vigil.errors import InputError
from vigil.formats.capture import CaptureRecord, GroundTruthRecord
from vigil.server.capture_lines import body_times, line_time
from vigil.server.errors import ApiError, validation_problems
from vigil.server.schemas_common import IsoTime, Stored, errors
from vigil.server.state import INGEST, ServerState, get_state
from vigil.store.artifacts import ground_truth_root
from vigil.store.change_stamp import StampedCache
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


INLINE_BYTES = 256 << 10
"""Bodies up to this size are checked on the event loop (cheaper than a thread hop); larger
ones in a worker thread."""


@router.post(
    "/endpoints/{name}/captures",
    response_model=Stored,
    responses=errors(404),
    dependencies=[INGEST],
)
async def ingest_captures(name: str, request: Request) -> Response:
    """Store capture records: a JSON-lines body of SageMaker capture lines
    (``application/x-ndjson`` / ``application/jsonl``), or ``{"records": [{...}]}`` plain
    records (``application/json``). Answers once they are durable: requests arriving together
    share one file and one ``fsync`` per hour (group commit)."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    stored = await store_captures(get_state(request), name, body, ctype)
    return Response(orjson.dumps(stored), media_type="application/json")


async def store_captures(
    state: ServerState, name: str, body: bytes, ctype: str, at: int | None = None
) -> dict[str, int]:
    """Check and store a capture body for endpoint ``name``; ``{"stored", "files"}`` once the
    records are durable. Raises :class:`ApiError` (404, 413, 422) naming what is wrong.
    ``at``: the database's change stamp read at the request's start, if it was."""
    where = await _endpoint(state, name, at)
    if where is None:
        raise ApiError(404, "not_found", f"no endpoint named {name!r}")
    if len(body) <= INLINE_BYTES:
        count, by_hour = _parse_captures(body, ctype)
    else:  # a large body: parse off the event loop
        count, by_hour = await run_in_threadpool(_parse_captures, body, ctype)
    root, local = where
    if local is not None:
        files = await _committer(state).store(local, by_hour)
    else:  # object stores: one whole object per request and hour
        files = len(await run_in_threadpool(_write_objects, root, by_hour))
    return {"stored": count, "files": files}


def _committer(state: ServerState) -> GroupCommitter:
    """The server's group committer (made by ``create_app``; made here for a bare state)."""
    committer = state.extras.get(COMMITTER)
    if committer is None:
        committer = state.extras[COMMITTER] = GroupCommitter()
    return committer


COMMITTER = "ingest.committer"
_ENDPOINTS = "ingest.endpoints"


async def _endpoint(
    state: ServerState, name: str, at: int | None = None
) -> tuple[str, Path | None] | None:
    """Where an endpoint's captures go (its capture location, and that as a local path or
    None), or None when there is no such endpoint: from a cache that holds while the database
    stands still (an endpoint deleted or changed anywhere is seen at once)."""
    cache = state.extras.get(_ENDPOINTS)
    if cache is None:
        cache = state.extras[_ENDPOINTS] = StampedCache(state.tokens.stamp)
    hit, found = cache.peek(name, at)
    if hit:
        return found
    return await run_in_threadpool(cache.get, name, lambda: _load_endpoint(state, name))


def _load_endpoint(state: ServerState, name: str) -> tuple[str, Path | None] | None:
    with state.db.session() as s:
        endpoint = s.get(Endpoint, name)
        if endpoint is None:
            return None
        variant, capture_uri = endpoint.variant, endpoint.capture_uri
    root = join_location(capture_uri or state.settings.capture_root, name, variant)
    return root, local_path(root)


def _parse_captures(body: bytes, ctype: str, fast: bool = True) -> tuple[int, dict[str, bytes]]:
    """Check a body's records; return their count and their lines (bytes, newline-ended)
    by hour folder ``yyyy/mm/dd/hh``. ``fast=False`` checks JSON lines one by one even when
    the body is plain (the reference the tests hold the one-decode path to)."""
    now = datetime.now(timezone.utc)
    if "ndjson" in ctype or "jsonl" in ctype:
        if body[-1:] == b"}":  # the last line's newline left out
            body += b"\n"
        times = body_times(body) if fast else None
        if times is None:
            count, by_hour = _each_line(body, now)
        else:  # a plain body, checked in one decode
            count, found = len(times), _by_time(body, times, now)
            _check_count(count)
            if isinstance(found, str):
                return count, {found: body}  # one hour: the body is the file, as it is
            by_hour = found
    else:
        count, by_hour = _plain_records(body, now)
    _check_count(count)
    return count, {h: b"\n".join(lines) + b"\n" for h, lines in sorted(by_hour.items())}


def _check_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise ApiError(413, "payload_too_large", f"at most {MAX_RECORDS} records per request")


def _each_line(body: bytes, now: datetime) -> tuple[int, dict[str, list[bytes]]]:
    """Check JSON lines one at a time (blank lines skipped, each line stripped); 422 naming
    the first line that is wrong."""
    folders = _Folders(now)
    by_hour: dict[str, list[bytes]] = defaultdict(list)
    count = 0
    for i, raw in enumerate(body.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        when = line_time(line, i)
        by_hour[folders.of(when, i)].append(line)
        count += 1
    return count, by_hour


def _by_time(body: bytes, times: list[str | None], now: datetime) -> str | dict[str, list[bytes]]:
    """The lines of a plain body by hour folder, given each line's inferenceTime; just the
    folder when they all fall in one hour. Each distinct time is looked at once."""
    folders = _Folders(now)
    hour_of: dict[str | None, str] = {}
    for when in dict.fromkeys(times):  # in order of first appearance
        try:
            hour_of[when] = folders.of(when)
        except ApiError:  # again, naming its first line (only now looked for)
            folders.of(when, times.index(when) + 1)
            raise
    hours = set(hour_of.values())
    if len(hours) == 1:
        return hours.pop()
    by_hour: dict[str, list[bytes]] = defaultdict(list)
    for when, line in zip(times, body.split(b"\n"), strict=False):
        by_hour[hour_of[when]].append(line)
    return by_hour


def _plain_records(body: bytes, now: datetime) -> tuple[int, dict[str, list[bytes]]]:
    """``{"records": [...]}`` as SageMaker lines by hour folder."""
    try:
        plain = PlainCaptures.model_validate_json(body)
    except ValidationError as exc:  # as the API's other 422s: the first field, then all
        problems = validation_problems(exc.errors(include_url=False), root="body")
        first = problems[0]
        raise ApiError(
            422,
            "validation_error",
            f'{first["field"]}: {first["message"]} (expected {{"records": [...]}} or JSON lines)',
            problems=problems,
        ) from None
    by_hour: dict[str, list[bytes]] = defaultdict(list)
    for n, p in enumerate(plain.records):
        record = _from_plain(p, now, n)
        hour = _hour(record.event_metadata.inference_time, now)
        by_hour[_folder(hour)].append(record.to_line().encode())
    return len(plain.records), by_hour


def _folder(hour: datetime) -> str:
    return f"{hour:%Y}/{hour:%m}/{hour:%d}/{hour:%H}"


_PLAIN_UTC = re.compile(r"(\d{4}-\d\d-\d\dT\d\d):[0-5]\d:[0-5]\d(?:\.\d{1,9})?Z")
"""An inference time as SageMaker writes it (UTC, ``Z``): its hour is its first 13
characters, so the times of one hour share one full parse."""


_SEEN_TEXTS: dict[str, str] = {}  # inferenceTime text -> hour folder, for every request
_SEEN_HOURS: dict[str, str] = {}  # first 13 characters of a plain UTC time -> hour folder
_SEEN_MAX = 4096  # past this many, a cache starts afresh


class _Folders:
    """The hour folder of each line's inferenceTime: a full parse (and range check) once for
    each hour of plain UTC times (:data:`_PLAIN_UTC`) and once for each other text, shared by
    all requests (a text always names the same hour; only a missing one means ``now``)."""

    __slots__ = ("_missing", "now")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._missing: str | None = None

    def of(self, when: str | None, number: int = 0) -> str:
        """The folder of ``when``; ApiError 422 naming line ``number`` (with 0, no line)
        when it is not a time in range."""
        if not when:
            if self._missing is None:
                self._missing = _folder(_hour(None, self.now))
            return self._missing
        folder = _SEEN_TEXTS.get(when)
        if folder is not None:
            return folder
        plain = _PLAIN_UTC.fullmatch(when)
        try:
            if plain is None:  # the whole text: an offset may move the hour
                folder = _folder(_hour(when, self.now))
            else:
                folder = _SEEN_HOURS.get(plain.group(1))
                if folder is None:
                    folder = _folder(_hour(when, self.now))
                    _remember(_SEEN_HOURS, plain.group(1), folder)
        except ApiError:
            field = f"line {number}: eventMetadata.inferenceTime" if number else "inferenceTime"
            _hour(when, self.now, field)  # raises, naming the field
            raise
        _remember(_SEEN_TEXTS, when, folder)
        return folder


def _remember(cache: dict[str, str], key: str, folder: str) -> None:
    if len(cache) >= _SEEN_MAX:
        cache.clear()
    cache[key] = folder


def _write_objects(root: str, by_hour: dict[str, bytes]) -> list[str]:
    """Each hour's lines as one whole object under ``root`` (an fsspec URL)."""
    written = []
    for folder, data in by_hour.items():
        hour = datetime.strptime(folder, "%Y/%m/%d/%H").replace(tzinfo=timezone.utc)
        written.append(write_hour_lines(root, hour, data.decode().splitlines()))
    return written


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
