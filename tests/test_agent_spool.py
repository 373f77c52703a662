"""The spool (real files, a real lock) and the agent's delivery over real HTTP on 127.0.0.1:
a receiver answering what the test tells it (5xx, 429, 4xx, 200) and nothing listening."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from live_server import free_port
from vigil.agent.loop import Agent
from vigil.agent.push import Pusher, Verdict, encode
from vigil.agent.spool import Spool, SpoolBusyError, datapoints_in
from vigil.metrics.datum import MetricDatum

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


class Receiver(BaseHTTPRequestHandler):
    """Answers each POST with the next status of :attr:`statuses` (200 once they run out)
    and keeps the bodies it answered 200 to."""

    statuses: list[int] = []
    accepted: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    auth: list[str] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Receiver.seen.append(body)
        Receiver.auth.append(self.headers.get("Authorization", ""))
        status = Receiver.statuses.pop(0) if Receiver.statuses else 200
        if status == 200:
            Receiver.accepted.append(body)
        payload = b'{"stored": 1}' if status == 200 else b'{"error": "no"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.statuses, Receiver.accepted, Receiver.seen, Receiver.auth = [], [], [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Source:
    """A stand-in for the host: each collection is 3 host and 2 process datapoints, numbered."""

    def __init__(self) -> None:
        self.n = 0
        self.made: list[MetricDatum] = []
        self.collections: list[list[MetricDatum]] = []

    def __call__(self) -> list[MetricDatum]:
        self.n += 1
        at = T0 + timedelta(seconds=self.n)
        data = [
            MetricDatum("vigil/Host", f"M{i}", {"Host": "h"}, at, float(self.n)) for i in range(3)
        ]
        data += [
            MetricDatum("vigil/Process", "ProcessCount", {"Host": "h", "Process": p}, at, 1.0)
            for p in ("a", "b")
        ]
        self.made += data
        self.collections.append(data)
        return data


def _points(bodies: list[dict[str, Any]]) -> list[tuple[str, str, str, float]]:
    return [
        (b["namespace"], d["name"], d["timestamp"], d["value"]) for b in bodies for d in b["data"]
    ]


def _made(source: Source) -> list[tuple[str, str, str, float]]:
    """Every datapoint made, in the order the agent sends: collection by collection."""
    return _points([json.loads(b) for data in source.collections for b in encode(data)])


def test_spool_order_survives_reopen_and_the_lock_is_exclusive(tmp_path: Path) -> None:
    with Spool(tmp_path / "s") as spool:
        for i in range(5):
            spool.put(b'{"namespace":"n","data":[%d]}' % i)
        with pytest.raises(SpoolBusyError, match="another agent is using it"):
            Spool(tmp_path / "s")
        (tmp_path / "s" / ".tmp-000000000099.json").write_bytes(b"half a bat")
    again = Spool(tmp_path / "s")
    names = [p.name for p in again.pending()]
    assert names == sorted(names) and len(names) == 5
    assert [json.loads(again.read(p))["data"] for p in again.pending()] == [[i] for i in range(5)]
    assert not list((tmp_path / "s").glob(".tmp-*"))  # a torn temporary is removed
    again.remove(again.pending()[0])
    assert int(again.put(b"{}").stem) == 6  # numbering continues after the last written
    again.close()


def test_spool_cap_drops_the_oldest_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"namespace": "n", "data": [{"v": i} for i in range(10)]}).encode()
    with caplog.at_level(logging.WARNING), Spool(tmp_path, max_bytes=3 * len(body)) as spool:
        paths = [spool.put(body) for _ in range(5)]
        assert spool.pending() == paths[2:]
        assert (spool.dropped_batches, spool.dropped_datapoints) == (2, 20)
        assert spool.size <= 3 * len(body)
    warnings = [
        r.getMessage() for r in caplog.records if "dropped its oldest batch" in r.getMessage()
    ]
    assert len(warnings) == 2 and "2 batches, 20 datapoints dropped so far" in warnings[1]


def test_outage_then_recovery_delivers_everything_in_order(receiver: str, tmp_path: Path) -> None:
    source = Source()
    spool = Spool(tmp_path / "spool")
    agent = Agent(source, Pusher(receiver, "secret").send, spool, interval=1)
    agent.cycle()  # up: straight through
    Receiver.statuses = [503, 502, 500, 429, 503]  # down for a while
    for _ in range(3):
        agent.cycle()
    assert len(spool) == 6  # 3 collections x 2 namespaces, none lost
    agent.cycle()  # appended, and the flush stops at the first failure (429)
    assert len(spool) == 8
    assert not agent.flush()  # 503: still down
    assert agent.flush()  # up again: all of it goes, oldest first
    assert len(spool) == 0
    assert _points(Receiver.accepted) == _made(source)  # everything, in the order collected
    assert set(Receiver.auth) == {"Bearer secret"}
    assert agent.tally.sent == agent.tally.collected == len(source.made)


def test_nothing_listening_then_a_new_agent_sends_what_the_old_one_left(
    receiver: str, tmp_path: Path
) -> None:
    source = Source()
    down = f"http://127.0.0.1:{free_port()}"
    first = Agent(source, Pusher(down, "t", timeout=2).send, Spool(tmp_path), interval=1)
    for _ in range(4):
        first.cycle()
    assert len(first.spool) == 8 and first.tally.spooled == first.tally.collected
    first.spool.close()  # the agent ends (a crash releases the lock the same way)
    second = Agent(source, Pusher(receiver, "t").send, Spool(tmp_path), interval=1)
    assert second.flush()
    second.cycle()
    assert _points(Receiver.accepted) == _made(source)


def test_a_refused_batch_goes_to_dead_and_is_not_retried(receiver: str, tmp_path: Path) -> None:
    source = Source()
    spool = Spool(tmp_path)
    agent = Agent(source, Pusher(receiver, "t").send, spool, interval=1)
    Receiver.statuses = [400, 200, 503]  # host body refused, process body taken; then down
    agent.cycle()
    agent.cycle()  # host body spooled (503), the process body after it
    Receiver.statuses = [422]  # the spooled host body is refused for good on the flush
    agent.flush()
    dead = sorted(spool.dead_dir.glob("*.json"))
    assert len(dead) == 2 and len(spool) == 0
    reasons = sorted(p.read_text() for p in spool.dead_dir.glob("*.reason"))
    assert reasons[0].startswith("HTTP 400") and reasons[1].startswith("HTTP 422")
    assert sum(datapoints_in(p.read_bytes()) for p in dead) == agent.tally.refused == 6
    sent_before = len(Receiver.seen)
    agent.flush()
    assert len(Receiver.seen) == sent_before  # nothing is sent again


def test_pusher_verdicts(receiver: str) -> None:
    pusher = Pusher(receiver + "/api/v1", "t")
    Receiver.statuses = [200, 500, 429, 401, 413]
    verdicts = [pusher.send(b'{"namespace":"n","data":[]}').verdict for _ in range(5)]
    assert verdicts == [
        Verdict.sent,
        Verdict.retry,
        Verdict.retry,
        Verdict.refused,
        Verdict.refused,
    ]
    refused = Pusher(f"http://127.0.0.1:{free_port()}", "t", timeout=1).send(b"{}")
    assert refused.verdict is Verdict.retry and "ConnectError" in refused.reason


def test_encode_splits_by_namespace_and_size() -> None:
    source = Source()
    for _ in range(4):
        source()
    bodies = [json.loads(b) for b in encode(source.made, max_per_body=5)]
    assert [(b["namespace"], len(b["data"])) for b in bodies] == [
        ("vigil/Host", 5), ("vigil/Host", 5), ("vigil/Host", 2),
        ("vigil/Process", 5), ("vigil/Process", 3),
    ]  # fmt: skip
    assert sorted(_points(bodies)) == sorted(
        (d.namespace, d.name, d.timestamp.isoformat(), d.value) for d in source.made
    )
