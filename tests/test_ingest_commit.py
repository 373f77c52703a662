"""Group commit of HTTP capture ingestion: requests that arrive together share one file and
one fsync per hour, every acknowledged record is in a published file, and the caches on the
hot path (tokens, endpoints) see a change made by another server at once."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from live_server import LiveServer
from vigil.app.bootstrap import open_database
from vigil.capture.window import read_window
from vigil.capture.writer.group_commit import GroupCommitter
from vigil.server.auth import create_token
from vigil.server.routes_ingest import COMMITTER
from vigil.store.settings import Settings

NDJSON = {"content-type": "application/x-ndjson"}


def _line(event_id: str, minute: int = 0, hour: int = 10) -> str:
    return (
        '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
        f'"data":"1,{minute}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":"{event_id}",'
        f'"inferenceTime":"2024-05-01T{hour:02d}:{minute:02d}:00Z"}},"eventVersion":"0"}}'
    )


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every descriptor os.fsync is called on, in this process (the real fsync still runs)."""
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def _published(root: Path) -> dict[str, int]:
    """eventId -> how many times it is in a published (non-hidden) capture file; every line
    of every published file must be whole JSON."""
    seen: dict[str, int] = {}
    for path in root.rglob("*.jsonl"):
        assert not path.name.startswith("."), path
        for line in path.read_bytes().splitlines():
            event = orjson.loads(line)["eventMetadata"]["eventId"]
            seen[event] = seen.get(event, 0) + 1
    return seen


def test_requests_queued_together_share_one_file_and_fsync_per_hour(
    tmp_path: Path, fsyncs: list[int]
):
    committer = GroupCommitter()

    async def burst() -> list[int]:
        # twelve requests in one go: the first starts a commit, which takes all of them
        return await asyncio.gather(
            *(
                committer.store(
                    tmp_path, {"2024/05/01/10": (_line(f"a{i}") + "\n").encode()}
                    | ({"2024/05/01/11": (_line(f"b{i}", hour=11) + "\n").encode()}
                       if i % 2 else {})
                )
                for i in range(12)
            )
        )

    files = asyncio.run(burst())
    committer.close()
    assert files == [1 + i % 2 for i in range(12)]  # each request: the hours it touched
    assert len(fsyncs) == 2  # one group: one fsync per hour folder, not one per request
    assert sorted(p.parent.name for p in tmp_path.rglob("*.jsonl")) == ["10", "11"]
    assert _published(tmp_path) == {
        **{f"a{i}": 1 for i in range(12)},
        **{f"b{i}": 1 for i in range(1, 12, 2)},
    }
    assert not list(tmp_path.rglob(".*"))  # no in-progress file left behind


def test_the_next_file_of_a_folder_is_made_off_the_event_loop_and_never_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """After a group, the fsync worker has made the next file of each folder it wrote: the
    next group there creates no file on the event loop. A spare whose folder was removed is
    not used; spares of folders no longer written, and all of them at close, are removed."""
    import shutil

    committer = GroupCommitter()
    loop_creates: list[str] = []
    real_open = os.open

    def watching(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if threading.current_thread() is threading.main_thread() and flags & os.O_CREAT:
            loop_creates.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", watching)
    h10, h11 = "2024/05/01/10", "2024/05/01/11"

    def store(hours: dict[str, str]) -> int:
        lines = {h: (_line(e) + "\n").encode() for h, e in hours.items()}
        return asyncio.run(committer.store(tmp_path, lines))

    def hidden(folder: str) -> list[Path]:
        return list((tmp_path / folder).glob(".*.part"))

    store({h10: "a"})  # the first file of the folder: made on the loop
    assert len(loop_creates) == 1 and len(hidden(h10)) == 1  # and a spare for the next one
    store({h10: "b"})
    store({h10: "c"})
    assert len(loop_creates) == 1  # both took the spare the worker had made
    store({h11: "d"})  # another folder: h10's spare removed, h11 gets one
    assert hidden(h10) == [] and len(hidden(h11)) == 1
    shutil.rmtree(tmp_path / h11)  # retention removes the folder holding a spare
    store({h11: "e"})
    # the dead spare was not used: a new file was made (twice tried: the folder, known to
    # exist, was gone and was made again)
    assert len(loop_creates) == 4 and loop_creates[2] == loop_creates[3]
    committer.close()
    assert not list(tmp_path.rglob(".*"))  # no spare left behind
    assert _published(tmp_path) == {"a": 1, "b": 1, "c": 1, "e": 1}  # d went with its folder
    assert len(list((tmp_path / h10).glob("*.jsonl"))) == 3


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(Settings(data_dir=tmp_path / "data"), {"writer": "write"})
    yield server
    server.stop()


def test_concurrent_requests_through_a_server_share_commits_and_every_ack_is_on_disk(
    srv: LiveServer, fsyncs: list[int]
):
    writer = srv.client("writer")
    assert writer.post("/endpoints", json={"name": "ep"}).status_code == 201
    requests, per_request = 48, 25
    acked: list[str] = []
    lock = threading.Lock()
    token = srv.tokens["writer"]

    def client(k: int) -> None:
        with httpx.Client(
            base_url=srv.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as c:
            for j in range(k, requests, 8):
                ids = [f"r{j}-{n}" for n in range(per_request)]
                body = "\n".join(_line(i, n % 60) for n, i in enumerate(ids))
                r = c.post("/endpoints/ep/captures", content=body, headers=NDJSON)
                assert r.status_code == 200, r.text
                assert r.json() == {"stored": per_request, "files": 1}
                with lock:
                    acked.extend(ids)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    committer = srv.app.state.vigil.extras[COMMITTER]
    assert len(acked) == requests * per_request
    assert committer.requests == requests
    # eight clients at once: groups form, so fewer commits (and fsyncs) than requests
    assert committer.commits < requests and len(fsyncs) < requests
    root = Path(srv.settings.capture_root) / "ep" / "AllTraffic"
    assert _published(root) == dict.fromkeys(acked, 1)
    window = read_window(srv.settings.capture_root, "ep", "2024-05-01T10:00:00Z",
                         "2024-05-01T11:00:00Z")
    assert window.num_rows == len(acked)


def test_a_bad_line_refuses_the_request_and_stores_none_of_it(srv: LiveServer):
    writer = srv.client("writer")
    writer.post("/endpoints", json={"name": "ep"}).raise_for_status()
    body = "\n".join([_line("ok"), '{"captureData": {}, "eventMetadata": {"eventId": 7}}'])
    r = writer.post("/endpoints/ep/captures", content=body, headers=NDJSON)
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "line 2: eventMetadata.eventId: expected a string"
    # a number no double holds: refused like orjson refuses it, anywhere in the line
    huge = _line("big")[:-1] + ',"extra":1e999}'
    r = writer.post("/endpoints/ep/captures", content=huge, headers=NDJSON)
    assert r.status_code == 422 and "line 1: not valid JSON" in r.json()["error"]["message"]
    assert not list(Path(srv.settings.capture_root).rglob("*.jsonl"))


def test_an_endpoint_deleted_or_token_revoked_on_one_server_is_refused_by_another(
    tmp_path: Path,
):
    settings = Settings(data_dir=tmp_path / "data")
    a = LiveServer(settings)
    b = LiveServer(settings, db=open_database(settings))  # another process's view
    try:
        admin = a.client(create_token(a.db, "admin", "admin"))
        on_b = b.client(create_token(a.db, "ci", "ingest"))
        assert admin.post("/endpoints", json={"name": "ep"}).status_code == 201
        assert admin.post("/endpoints", json={"name": "other"}).status_code == 201
        for _ in range(2):  # the second answered from b's caches
            sent = on_b.post("/endpoints/ep/captures", content=_line("x"), headers=NDJSON)
            assert sent.status_code == 200, sent.text
        assert admin.delete("/endpoints/ep").status_code in (200, 204)
        gone = on_b.post("/endpoints/ep/captures", content=_line("y"), headers=NDJSON)
        assert gone.status_code == 404, gone.text
        assert on_b.post(
            "/endpoints/other/captures", content=_line("z"), headers=NDJSON
        ).status_code == 200
        assert admin.delete("/tokens/ci").status_code == 200
        refused = on_b.post("/endpoints/other/captures", content=_line("w"), headers=NDJSON)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == {
            "code": "unauthorized", "message": "unknown or revoked token"
        }
    finally:
        a.stop()
        b.stop()


_BASE = '{"captureData":{"endpointInput":{"data":"1,2","encoding":"CSV"}},"eventMetadata":'


@pytest.mark.parametrize(
    "line",
    [
        _BASE + '{"eventId":"x"},"f":' + number + "}"
        for number in ("1e999", "1E+400", "1" * 250 + "e80", "1" * 400, "1e-400",
                       "1" * 210 + "e-50", "-1e308", "0." + "0" * 400 + "1e5", "[1,2,]")
    ]
    + [
        _BASE + '{"eventId":"x","eventId":7}}',  # the last duplicate counts, as in orjson
        _BASE + '{"eventId":7,"eventId":"x"}}',
        '{"captureData":{"endpointInput":{"data":"1","encoding":"csv"}},"eventMetadata":{"eventId":"x"}}',
        '{"captureData":{"endpointInput":null},"eventMetadata":{"eventId":"x","inferenceTime":null}}',
        '{"captureData":[],"eventMetadata":{"eventId":"x"}}',
        _BASE + '{"eventId":"x","inferenceTime":5}}',
        _BASE + '{"eventId":"x"}} trailing',
        '["not", "an", "object"]',
        _BASE + '{"eventId":"\\ud800"}}',
    ],
)  # fmt: skip
def test_the_fast_line_check_gives_the_reference_checks_verdict(line: str):
    """The typed decoder on the hot path accepts exactly the lines the reference check
    (orjson and explicit field checks) accepts, and refuses with its message."""
    from vigil.server.capture_lines import check_line as _check_line
    from vigil.server.errors import ApiError
    from vigil.server.routes_ingest import _parse_captures

    try:
        _check_line(line.encode(), 1)
        expected = None
    except ApiError as exc:
        expected = exc.message
    try:
        count, _ = _parse_captures(line.encode(), "application/x-ndjson")
        got = None
        assert count == 1
    except ApiError as exc:
        got = exc.message
    assert got == expected


def _verdict(body: bytes, fast: bool) -> object:
    from vigil.server.errors import ApiError
    from vigil.server.routes_ingest import _parse_captures

    try:
        return _parse_captures(body, "application/x-ndjson", fast=fast)
    except ApiError as exc:
        return (exc.status, exc.message)


_PIECES = [
    _line("a"),
    _line("b", 30),
    _line("c", 5, hour=11),  # another hour
    _line("d").replace("00:00Z", "00:00.123456789Z"),
    _line("e").replace(":00Z", ":00+05:00"),  # an offset moves the hour
    _line("f").replace("10:00:00Z", "10:61:00Z"),  # not a time
    _line("g").replace("2024-05-01", "2024-02-30"),
    _line("h").replace("2024", "1969"),  # out of range
    _line("i").replace('"eventId":"i"', '"eventId":7'),
    _line("j") + "," + _line("k"),  # two objects on one line
    _line("l").split(',"eventMetadata"')[0],  # an object cut in two lines, a key at the cut
    '"eventMetadata"' + _line("l").split(',"eventMetadata"')[1],
    '{"captureData":{},"eventMetadata":{"eventId":"x\nstill x"}}',  # a newline in a string
    "   " + _line("m") + "  ",
    "",
    '["not an object"]',
    _line("n").replace('"eventVersion":"0"', '"eventVersion":"0","extra":1'),
]


def test_the_one_decode_path_gives_the_line_by_line_verdict():
    """A JSON-lines body is checked in one typed decode when it is plain; every body, plain
    or not, gets the same answer as checking its lines one by one (stored lines by hour, or
    the same 422 naming the same line)."""
    import random

    from vigil.server.capture_lines import body_times as _body_times

    rng = random.Random(13)
    plain = 0
    for _ in range(3000):
        lines = rng.choices(_PIECES, k=rng.randint(1, 6))
        body = "\n".join(lines).encode() + (b"\n" if rng.random() < 0.8 else b"")
        plain += _body_times(body if body.endswith(b"\n") else body + b"\n") is not None
        assert _verdict(body, True) == _verdict(body, False), body
    assert plain > 100  # the one-decode path itself was held to the reference


def test_a_plain_body_of_one_hour_is_stored_as_it_came():
    from vigil.server.routes_ingest import _parse_captures

    body = ("\n".join(_line(f"e{i}", i % 60) for i in range(100)) + "\n").encode()
    count, by_hour = _parse_captures(body, "application/x-ndjson")
    assert count == 100 and by_hour == {"2024/05/01/10": body}
    assert by_hour["2024/05/01/10"] is body  # no copy, no split, no join


def test_a_bad_plain_records_body_gets_one_line_naming_the_field(srv: LiveServer):
    """``{"records": [...]}`` bodies that do not fit get the API's usual 422: the first field
    and what was expected on one line, every problem listed, no pydantic help links."""
    writer = srv.client("writer")
    assert writer.post("/endpoints", json={"name": "ep"}).status_code == 201
    cases = {
        b"not json": "body: Invalid JSON",
        b'{"records": 5}': "records: Input should be a valid array",
        b'{"records": []}': "records: List should have at least 1 item",
        b'{"records": [{"inference_time": "soon"}]}': "records.0.inference_time: ",
        b'{"records": [{"custom_attributes": [1]}]}': "records.0.custom_attributes.0: ",
    }
    for body, start in cases.items():
        r = writer.post("/endpoints/ep/captures", content=body,
                        headers={"content-type": "application/json"})
        assert r.status_code == 422, body
        error = r.json()["error"]
        message = error["message"]
        assert message.startswith(start), (body, message)
        assert message.endswith('(expected {"records": [...]} or JSON lines)')
        assert "\n" not in message and "pydantic" not in message
        assert error["details"]["problems"][0]["field"] == start.split(":")[0]
    assert not list((srv.settings.data_dir / "capture").rglob("*.jsonl"))  # nothing stored
