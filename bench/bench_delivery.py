"""Webhook notifications per second through Vigil's outbox, beside a plain ``httpx.post`` loop.

Receiver: a keep-alive HTTP/1.1 server on 127.0.0.1 in its own process (stdlib asyncio),
answering 200 and counting requests and distinct ``X-Vigil-Message-Id`` values.

Vigil: ``N`` messages enqueued for one signed-webhook subscription in a fresh SQLite outbox
(enqueue time reported apart), then ``Outbox.deliver_due`` until the outbox is empty: claims
in batches, signs (HMAC-SHA256) and POSTs them on a thread pool over one keep-alive
``httpx.Client``, records each outcome in SQLite. The figure counts everything from the first
claim to the last recorded outcome. Peer: the same JSON bodies sent with ``httpx.post`` in a
loop (a new connection per request, nothing stored), the way a script would do it; and a
second peer with one keep-alive ``httpx.Client`` in one thread (no storage).

Reproduce: ``.venv/bin/python bench/bench_delivery.py`` (writes section "delivery" of
bench/RESULTS.md; ``--messages N``, ``--peer-messages N``, ``--workers N``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from results import write_section  # noqa: E402
from vigil.alerts.delivery import (  # noqa: E402
    Message,
    Outbox,
    SQLOutboxStore,
    Subscription,
    WebhookChannel,
)
from vigil.alerts.delivery.base import dumps  # noqa: E402
from vigil.alerts.delivery.webhook import webhook_body  # noqa: E402
from vigil.store.db import Database  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_delivery.py"


# -- the receiver (runs in a child process) --------------------------------------------------


def serve(port: int) -> None:
    """A minimal keep-alive HTTP/1.1 server: 200 to every POST, stats on GET /stats."""
    total = 0
    ids: set[bytes] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal total
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                msg_id = None
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    lname = name.strip().lower()
                    if lname == b"content-length":
                        length = int(value)
                    elif lname == b"x-vigil-message-id":
                        msg_id = value.strip()
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /stats"):
                    body = f"{total} {len(ids)}".encode()
                else:
                    total += 1
                    if msg_id is not None:
                        ids.add(msg_id)
                    body = b"ok"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/stats", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the loopback receiver did not start")


def stats(url: str) -> tuple[int, int]:
    total, distinct = httpx.get(url + "/stats").text.split()
    return int(total), int(distinct)


# -- the runs ---------------------------------------------------------------------------------


def make_messages(n: int) -> list[Message]:
    t0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    return [
        Message(topic="model-alarms", subject=f"ALARM: drift {i}",
                body=f"feature_baseline_drift_f{i % 25:02d} above 0.2",
                attributes={"severity": "critical", "endpoint": f"ep-{i % 4}"},
                payload={"alarm": f"drift-{i % 25}", "state": "ALARM", "value": 0.3},
                created_at=t0 + dt.timedelta(seconds=i))
        for i in range(n)
    ]


def run_vigil(url: str, messages: list[Message], workers: int) -> tuple[float, float, int]:
    """Returns (enqueue seconds, delivery seconds, delivered count)."""
    sub = Subscription(id="bench-hook", protocol="webhook", topic="model-alarms",
                       config={"url": url + "/hook", "secret": "bench-secret"})
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'vigil.db'}")
        store = SQLOutboxStore(db)
        store.create_tables()
        client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=workers,
                                                              max_keepalive_connections=workers))
        outbox = Outbox(store, {"webhook": WebhookChannel(client)}, workers=workers,
                        batch_size=max(256, workers * 8))
        t = time.perf_counter()
        for m in messages:
            outbox.enqueue(m, [sub])
        enqueue = time.perf_counter() - t
        t = time.perf_counter()
        counts = outbox.deliver_due()
        deliver = time.perf_counter() - t
        outbox.close()
        client.close()
        left = len(store.list("pending"))
        db.dispose()
    if left or counts.delivered != len(messages):
        raise RuntimeError(f"vigil run incomplete: {counts}, {left} pending")
    return enqueue, deliver, counts.delivered


def _bodies(messages: list[Message]) -> list[tuple[bytes, dict[str, str]]]:
    ts = str(int(time.time()))
    return [(dumps(webhook_body(m, ts)), {"Content-Type": "application/json",
                                          "X-Vigil-Message-Id": m.id}) for m in messages]


def run_httpx_post(url: str, messages: list[Message]) -> float:
    bodies = _bodies(messages)
    t = time.perf_counter()
    for body, headers in bodies:
        httpx.post(url + "/hook", content=body, headers=headers).raise_for_status()
    return time.perf_counter() - t


def run_httpx_client(url: str, messages: list[Message]) -> float:
    bodies = _bodies(messages)
    with httpx.Client() as client:
        t = time.perf_counter()
        for body, headers in bodies:
            client.post(url + "/hook", content=body, headers=headers).raise_for_status()
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--peer-messages", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=min(8, 2 * (os.cpu_count() or 1)))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    proc, url = start_receiver()
    try:
        messages = make_messages(args.messages)
        load = os.getloadavg()[0]
        enqueue, deliver, delivered = run_vigil(url, messages, args.workers)
        total, distinct = stats(url)
        peer_msgs = make_messages(args.peer_messages)
        post_s = run_httpx_post(url, peer_msgs)
        client_s = run_httpx_client(url, peer_msgs)
    finally:
        proc.terminate()
        proc.wait(5)

    n, p = args.messages, args.peer_messages
    rows = [
        ("Vigil outbox (SQLite, signed, thread pool of "
         f"{args.workers}, keep-alive)", n, deliver),
        ("peer: `httpx.post` loop (new connection each)", p, post_s),
        ("peer: one keep-alive `httpx.Client`, one thread", p, client_s),
    ]
    text = "\n".join([
        "## Delivery: webhook notifications per second (loopback receiver)",
        "",
        f"Reproduce: `{COMMAND}` (`--messages {n} --peer-messages {p} --workers "
        f"{args.workers}`).",
        "",
        "| run | notifications | seconds | per second |",
        "|---|---:|---:|---:|",
        *[f"| {label} | {count:,} | {secs:.2f} | {count / secs:,.0f} |"
          for label, count, secs in rows],
        "",
        f"Vigil delivered {delivered:,} of {n:,} (receiver saw {total:,} requests, {distinct:,} "
        f"distinct message ids); enqueueing them one `enqueue` call (one transaction) each "
        f"took {enqueue:.2f} s ({n / enqueue:,.0f}/s), not counted above. The Vigil figure "
        "includes claiming, HMAC signing and recording every outcome in SQLite; the peers "
        "store nothing. Target: 1,000 notifications per second.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, httpx {httpx.__version__}, "
        f"load average {load:.1f} at start.",
    ])
    print(text)
    if not args.no_write:
        write_section("delivery", text)


if __name__ == "__main__":
    main()
