"""CaptureWriter: SageMaker layout, file names, minute roll, sampling, modes, encodings,
full-buffer policies, fsspec destinations, recovery of a dead writer's files."""

from __future__ import annotations

import base64
import math
import os
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fsspec
import orjson
import pytest

import vigil.capture
from vigil.capture import CaptureWriter, recover
from vigil.errors import ConfigError
from vigil.formats import CaptureRecord

UTC = timezone.utc
T0 = datetime(2024, 3, 5, 7, 8, 9, 123000, tzinfo=UTC).timestamp()
NAME = re.compile(
    r"^(\d{2})-(\d{2})-(\d{3})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"\.jsonl$"
)


def files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.jsonl"))


def records(root: Path) -> list[CaptureRecord]:
    out = []
    for path in files(root):
        for i, line in enumerate(path.read_text().splitlines()):
            out.append(CaptureRecord.loads(line, source=f"{path}:{i + 1}"))
    return out


def wait_for(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_public_names() -> None:
    assert set(vigil.capture.__all__) == {
        "CaptureMiddleware", "CaptureStats", "CaptureWriter", "WSGICaptureMiddleware",
        "close_all", "flush_all", "install_sigterm_flush", "recover", "Window", "read_window",
        # serving telemetry (issue 11)
        "HttpSink", "MetricSink", "ServingTelemetry", "TelemetryMiddleware", "TelemetryStats",
        "WSGITelemetryMiddleware", "prometheus_text", "store_sink",
    }


def test_layout_file_name_and_record(tmp_path: Path) -> None:
    with CaptureWriter("churn", destination=tmp_path, clock=lambda: T0) as writer:
        assert writer.capture("1,2,3", "0.5", inference_id="58", custom_attributes="c=1",
                              event_id="e-1")
    [path] = files(tmp_path)
    rel = path.relative_to(tmp_path)
    assert rel.parts[:-1] == ("churn", "AllTraffic", "2024", "03", "05", "07")
    m = NAME.match(rel.parts[-1])
    assert m and m.groups() == ("08", "09", "123")
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".jsonl"]
    line = path.read_bytes()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert orjson.loads(line) == {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                              "data": "1,2,3", "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                               "data": "0.5", "encoding": "CSV"}},
        "eventMetadata": {"eventId": "e-1", "inferenceId": "58",
                          "inferenceTime": "2024-03-05T07:08:09Z", "customAttributes": ["c=1"]},
        "eventVersion": "0"}
    assert list(orjson.loads(line)) == ["captureData", "eventMetadata", "eventVersion"]
    assert writer.stats.written == 1 and writer.stats.files == 1


@pytest.mark.parametrize("sample", [
    "data_capture_csv_encoding_from_notebook_output.jsonl",
    "data_capture_with_inferenceId_from_notebook_output.jsonl",
    "data_capture_json_encoding.jsonl",
])
def test_lines_match_real_sagemaker_files_byte_for_byte(
    tmp_path: Path, sagemaker_dir: Path, sample: str
) -> None:
    """Capturing what SageMaker captured gives the very same lines."""
    real = [line for line in (sagemaker_dir / sample).read_text().splitlines() if line]
    with CaptureWriter("ep", destination=tmp_path,
                       json_content_types=("application/json",)) as writer:
        for line in real:
            rec = CaptureRecord.loads(line)
            meta = rec.event_metadata
            writer.capture(
                rec.capture_data.endpoint_input.data.encode(),
                rec.capture_data.endpoint_output.data.encode(),
                content_type=rec.capture_data.endpoint_input.observed_content_type,
                accept=rec.capture_data.endpoint_output.observed_content_type,
                inference_id=meta.inference_id,
                event_id=meta.event_id,
                inference_time=datetime.strptime(meta.inference_time, "%Y-%m-%dT%H:%M:%SZ"),
            )
    written = sorted(line for p in files(tmp_path) for line in p.read_text().splitlines())
    assert written == sorted(real)


def test_hour_folder_is_the_inference_hour(tmp_path: Path) -> None:
    paris = timezone(timedelta(hours=2))
    with CaptureWriter("ep", destination=tmp_path, clock=lambda: T0) as writer:
        writer.capture("1", "1", inference_time=datetime(2023, 12, 31, 23, 59, 59))  # naive: UTC
        writer.capture("2", "2", inference_time=datetime(2024, 1, 1, 2, 0, 1, tzinfo=paris))
        writer.capture("3", "3")  # the clock
    found = {}
    for path in files(tmp_path):
        hour = "/".join(path.relative_to(tmp_path / "ep" / "AllTraffic").parts[:4])
        for line in path.read_text().splitlines():
            found[CaptureRecord.loads(line).capture_data.endpoint_input.data] = (
                hour, orjson.loads(line)["eventMetadata"]["inferenceTime"], path.name[:5])
    assert found == {
        "1": ("2023/12/31/23", "2023-12-31T23:59:59Z", "59-59"),
        "2": ("2024/01/01/00", "2024-01-01T00:00:01Z", "00-01"),
        "3": ("2024/03/05/07", "2024-03-05T07:08:09Z", "08-09"),
    }


def test_files_roll_when_the_minute_changes(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 3, 5, 10, 0, 5, tzinfo=UTC).timestamp())
    writer = CaptureWriter("ep", destination=tmp_path, clock=clock, flush_interval=0.05)
    writer.capture("a", "1")
    clock.t += 54.5  # 10:00:59.5
    writer.capture("b", "2")
    clock.t += 0.6  # 10:01:00.1: the clock's minute moves on
    writer.capture("c", "3")
    # minute 00 is over: its file is published; minute 01's file is still in progress
    assert wait_for(lambda: len(files(tmp_path)) == 1)
    [done] = files(tmp_path)
    assert done.name.startswith("00-05-000-")
    assert [r.capture_data.endpoint_input.data for r in records(tmp_path)] == ["a", "b"]
    parts = list(tmp_path.rglob(".*.jsonl.part"))
    assert len(parts) == 1 and parts[0].name.startswith(".01-00-100-")
    writer.close()
    assert [p.name[:9] for p in files(tmp_path)] == ["00-05-000", "01-00-100"]
    assert not list(tmp_path.rglob("*.part"))
    by_file = [[r.capture_data.endpoint_input.data for r in records_of(p)]
               for p in files(tmp_path)]
    assert by_file == [["a", "b"], ["c"]]


def records_of(path: Path) -> list[CaptureRecord]:
    return [CaptureRecord.loads(line) for line in path.read_text().splitlines()]


def test_flush_publishes_and_later_records_start_a_new_file(tmp_path: Path) -> None:
    with CaptureWriter("ep", destination=tmp_path, clock=lambda: T0) as writer:
        writer.capture("1", "1")
        assert writer.flush(timeout=5)
        assert len(files(tmp_path)) == 1 and writer.stats.written == 1
        writer.capture("2", "2")
    assert len(files(tmp_path)) == 2
    assert sorted(r.capture_data.endpoint_input.data for r in records(tmp_path)) == ["1", "2"]


def test_sampling_share_within_binomial_tolerance(tmp_path: Path) -> None:
    """30% of 10,000 calls: expected 3,000, sd sqrt(n p (1-p)) = 45.8; allowed +-4.5 sd."""
    n, p = 10_000, 0.30
    with CaptureWriter("ep", destination=tmp_path, sampling_percentage=30, seed=11) as writer:
        results = [writer.capture("1", "1") for _ in range(n)]
    kept = sum(results)
    assert abs(kept - n * p) <= 4.5 * math.sqrt(n * p * (1 - p))
    assert writer.stats.captured == kept == writer.stats.written == len(records(tmp_path))
    assert writer.stats.sampled_out == n - kept
    with CaptureWriter("ep", destination=tmp_path / "again", sampling_percentage=30,
                       seed=11) as again:
        assert [again.capture("1", "1") for _ in range(n)] == results  # seeded: reproducible
    with CaptureWriter("ep", destination=tmp_path / "none", sampling_percentage=0) as none:
        assert not any(none.capture("1", "1") for _ in range(100))
    assert none.stats.sampled_out == 100 and not files(tmp_path / "none")


@pytest.mark.parametrize(("mode", "keys"), [
    ("input", ["endpointInput"]),
    ("output", ["endpointOutput"]),
    ("both", ["endpointInput", "endpointOutput"]),
])
def test_capture_modes(tmp_path: Path, mode: str, keys: list[str]) -> None:
    with CaptureWriter("ep", destination=tmp_path, capture_mode=mode) as writer:
        assert writer.capture("1,2", "0.9")
        assert writer.capture("3,4", None) is (mode != "output")  # nothing to capture
    lines = [orjson.loads(line) for p in files(tmp_path) for line in p.read_text().splitlines()]
    assert list(lines[0]["captureData"]) == keys
    if mode != "output":
        assert list(lines[1]["captureData"]) == ["endpointInput"]


def test_encodings(tmp_path: Path) -> None:
    npy = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}\x00\xff"
    with CaptureWriter("ep", destination=tmp_path,
                       csv_content_types=("text/csv", "text/plain")) as writer:
        writer.capture(b"1,2", "0.5", inference_id="csv")
        writer.capture('{"x": [1, "\u00e9"]}', b'{"y": 0.5}', content_type="application/json",
                       inference_id="json")
        writer.capture(npy, npy[::-1], content_type="application/x-npy", inference_id="npy")
        writer.capture("a,b", "c", content_type="text/csv; charset=utf-8",
                       accept="application/json", inference_id="params")
        writer.capture(b"\xff\xfe,1", "x", content_type="text/plain", inference_id="notutf8")
        writer.capture(bytearray(b"7,8"), memoryview(b"9"), inference_id="buffers")
        with pytest.raises(TypeError, match="request_body must be bytes or str"):
            writer.capture(123, "1")  # type: ignore[arg-type]
    got = {r.event_metadata.inference_id: r.capture_data for r in records(tmp_path)}
    assert (got["csv"].endpoint_input.data, got["csv"].endpoint_input.encoding) == ("1,2", "CSV")
    assert got["json"].endpoint_input.encoding == "JSON"
    assert orjson.loads(got["json"].endpoint_input.data) == {"x": [1, "\u00e9"]}
    assert got["json"].endpoint_output.data == '{"y": 0.5}'
    assert got["npy"].endpoint_input.encoding == "BASE64"
    assert got["npy"].endpoint_input.observed_content_type == "application/x-npy"
    assert base64.b64decode(got["npy"].endpoint_input.data) == npy
    assert base64.b64decode(got["npy"].endpoint_output.data) == npy[::-1]
    assert got["params"].endpoint_input.encoding == "CSV"
    assert got["params"].endpoint_input.observed_content_type == "text/csv; charset=utf-8"
    assert (got["params"].endpoint_output.observed_content_type,
            got["params"].endpoint_output.encoding) == ("application/json", "JSON")
    assert got["notutf8"].endpoint_input.encoding == "BASE64"
    assert base64.b64decode(got["notutf8"].endpoint_input.data) == b"\xff\xfe,1"
    assert got["notutf8"].endpoint_output.encoding == "CSV"
    assert (got["buffers"].endpoint_input.data, got["buffers"].endpoint_output.data) == (
        "7,8", "9")


def test_custom_attributes_and_generated_event_ids(tmp_path: Path) -> None:
    with CaptureWriter("ep", destination=tmp_path) as writer:
        writer.capture("1", "1", custom_attributes=["a=1", "b=2"])
        writer.capture("2", "2")
    recs = sorted(records(tmp_path), key=lambda r: r.capture_data.endpoint_input.data)
    assert recs[0].event_metadata.custom_attributes == ["a=1", "b=2"]
    assert recs[1].event_metadata.custom_attributes is None
    assert recs[1].event_metadata.inference_id is None
    ids = [uuid.UUID(r.event_metadata.event_id) for r in recs]
    assert all(u.version == 4 for u in ids) and ids[0] != ids[1]


def stall(writer: CaptureWriter) -> threading.Event:
    """Make the writer's thread stop inside its next write until the returned gate opens."""
    gate = threading.Event()
    add = writer._sink.add

    def slow_add(*args, **kwargs):
        gate.wait(10)
        return add(*args, **kwargs)

    writer._sink.add = slow_add  # type: ignore[method-assign]
    return gate


def test_full_buffer_drop_counts_every_record(tmp_path: Path) -> None:
    writer = CaptureWriter("ep", destination=tmp_path, buffer_size=4, when_full="drop",
                           flush_interval=60)
    gate = stall(writer)
    assert writer.capture("0", "0") and writer.capture("1", "1")  # half full: the thread wakes
    assert wait_for(lambda: writer.stats.buffered == 0)  # ... takes both, then stalls
    assert all(writer.capture(str(i), str(i)) for i in range(2, 6))  # fills the buffer
    assert [writer.capture("x", "x") for _ in range(3)] == [False] * 3
    assert writer.stats.dropped == 3
    assert ("capture_records_dropped", 3) in writer.metrics()
    gate.set()
    writer.close()
    s = writer.stats
    assert (s.captured, s.written, s.dropped, s.failed) == (6, 6, 3, 0)
    assert sorted(r.capture_data.endpoint_input.data for r in records(tmp_path)) == [
        str(i) for i in range(6)]
    assert dict(writer.metrics())["capture_records_written"] == 6


def test_full_buffer_block_waits_then_gives_up_or_gets_room(tmp_path: Path) -> None:
    writer = CaptureWriter("ep", destination=tmp_path, buffer_size=4, when_full="block",
                           block_timeout=0.3, flush_interval=60)
    gate = stall(writer)
    writer.capture("0", "0")
    writer.capture("1", "1")
    assert wait_for(lambda: writer.stats.buffered == 0)
    for i in range(2, 6):
        writer.capture(str(i), str(i))
    start = time.monotonic()
    assert writer.capture("late", "late") is False  # waited the whole timeout
    assert time.monotonic() - start >= 0.29
    assert writer.stats.dropped == 1
    # a caller blocked on a full buffer goes on as soon as the thread makes room
    writer.block_timeout = 30
    result: list[bool] = []
    blocked = threading.Thread(target=lambda: result.append(writer.capture("6", "6")))
    blocked.start()
    time.sleep(0.1)
    assert blocked.is_alive() and not result
    gate.set()
    blocked.join(10)
    assert result == [True]
    writer.close()
    assert (writer.stats.written, writer.stats.dropped) == (7, 1)
    assert len(records(tmp_path)) == 7


def test_capture_after_close_is_dropped_and_counted(tmp_path: Path) -> None:
    writer = CaptureWriter("ep", destination=tmp_path)
    writer.close()
    writer.close()  # idempotent
    assert writer.closed
    assert writer.capture("1", "1") is False
    assert writer.stats.dropped == 1


def test_threads_capture_concurrently(tmp_path: Path) -> None:
    with CaptureWriter("ep", destination=tmp_path, buffer_size=500) as writer:
        def work(k: int) -> None:
            for i in range(2500):
                assert writer.capture(f"{k},{i}", "1")

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    recs = records(tmp_path)
    assert len(recs) == 10_000 == writer.stats.written
    assert len({r.event_metadata.event_id for r in recs}) == 10_000
    assert len({r.capture_data.endpoint_input.data for r in recs}) == 10_000


def test_fsspec_memory_destination_writes_complete_objects() -> None:
    root = f"memory://vigil-test-{uuid.uuid4().hex}"
    clock = Clock(datetime(2024, 3, 5, 7, 59, 58, tzinfo=UTC).timestamp())
    with CaptureWriter("ep", "blue", root, clock=clock) as writer:
        writer.capture("1", "1")
        clock.t += 3  # next hour
        writer.capture("2", "2", content_type="application/x-npy")
        assert writer.flush(timeout=5)
        writer.capture("3", "3")
    fs = fsspec.filesystem("memory")
    base = root.removeprefix("memory://")
    found = sorted(fs.find(base))
    assert len(found) == 3 == writer.stats.files
    rel = [p.split("/ep/blue/", 1)[1] for p in found]
    assert [r.rsplit("/", 1)[0] for r in rel] == ["2024/03/05/07", "2024/03/05/08",
                                                  "2024/03/05/08"]
    assert all(NAME.match(r.rsplit("/", 1)[1]) for r in rel)
    datas = []
    for path in found:
        for line in fs.cat_file(path).decode().splitlines():
            datas.append(CaptureRecord.loads(line).capture_data.endpoint_input)
    assert datas[0].data == "1"  # hour 07 sorts first; the two objects of hour 08 in any order
    assert sorted(d.data for d in datas[1:]) == ["3", base64.b64encode(b"2").decode()]
    assert writer.stats.written == 3


def test_file_url_is_a_local_destination(tmp_path: Path) -> None:
    with CaptureWriter("ep", destination=f"file://{tmp_path}", clock=lambda: T0) as writer:
        writer.capture("1", "1")
    [path] = files(tmp_path)
    assert path.parent == tmp_path / "ep" / "AllTraffic" / "2024" / "03" / "05" / "07"


def test_recover_publishes_a_dead_writers_file_without_its_torn_line(tmp_path: Path) -> None:
    hour = tmp_path / "ep" / "AllTraffic" / "2024" / "03" / "05" / "07"
    hour.mkdir(parents=True)
    good = orjson.dumps({"captureData": {}, "eventMetadata": {"eventId": "a"},
                         "eventVersion": "0"}) + b"\n"
    (hour / ".08-09-123-x.jsonl.part").write_bytes(good * 2 + good[:25])  # killed mid-write
    (hour / ".08-10-000-y.jsonl.part").write_bytes(good[:10])  # nothing whole: removed
    with CaptureWriter("ep", destination=tmp_path, clock=lambda: T0) as live:
        live.capture("1", "1")
        assert wait_for(lambda: live.stats.written == 1)  # recovery runs before any write
        assert (hour / "08-09-123-x.jsonl").exists()
        [part] = tmp_path.rglob("*.part")
        assert part.name.startswith(".08-09-123-") and part.name != ".08-09-123-x.jsonl.part"
        assert recover(tmp_path) == []  # the live writer's file is locked: left alone
        assert len(list(tmp_path.rglob("*.part"))) == 1
    assert (hour / "08-09-123-x.jsonl").read_bytes() == good * 2
    assert not (hour / "08-10-000-y.jsonl").exists()
    assert len(records(tmp_path)) == 3


def test_forked_child_writes_its_own_records(tmp_path: Path) -> None:
    with CaptureWriter("ep", destination=tmp_path) as writer:
        writer.capture("parent-before", "1")
        pid = os.fork()
        if pid == 0:  # the child: its own thread and ids, not the parent's buffer
            code = 0
            try:
                writer.capture("child", "1")
                writer.close()
                code = 0 if writer.stats.written == 1 else 3
            finally:
                os._exit(code)
        writer.capture("parent-after", "1")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    recs = records(tmp_path)
    assert sorted(r.capture_data.endpoint_input.data for r in recs) == [
        "child", "parent-after", "parent-before"]
    assert len({r.event_metadata.event_id for r in recs}) == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"capture_mode": "Input"}, "capture_mode"),
    ({"sampling_percentage": 120}, "sampling_percentage"),
    ({"when_full": "wait"}, "when_full"),
    ({"flush_interval": 0}, "flush_interval"),
    ({"buffer_size": 0}, "buffer_size"),
])
def test_bad_settings_are_config_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"\[config_error\] {message}"):
        CaptureWriter("ep", destination=tmp_path, **kwargs)
    with pytest.raises(ConfigError, match="endpoint"):
        CaptureWriter("a/b", destination=tmp_path)
