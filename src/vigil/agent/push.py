"""Datapoints to the server: request bodies of ``POST /api/v1/metrics`` (one namespace each,
as the route takes them) and the verdict on each send.

A send is ``sent`` (2xx), ``retry`` (the server is unreachable: connection refused, a
timeout, any transport error, a 5xx or 429 Too Many Requests) or ``refused`` (any other
4xx: a bad token, a body the server will never take; retrying it would never end).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from urllib.parse import urlsplit

import httpx
import orjson

from vigil.errors import InputError
from vigil.metrics.datum import MetricDatum

PATH = "/api/v1/metrics"
MAX_PER_BODY = 5_000


class Verdict(str, enum.Enum):
    """What became of one send."""

    sent = "sent"
    retry = "retry"
    refused = "refused"


@dataclass(frozen=True)
class Outcome:
    """A send's verdict and, when not sent, why (the HTTP status and body, or the error)."""

    verdict: Verdict
    reason: str = ""


def _datum(d: MetricDatum) -> dict[str, object]:
    out: dict[str, object] = {
        "name": d.name,
        "dimensions": dict(d.dimensions),
        "timestamp": d.timestamp.isoformat(),
        "unit": d.unit,
    }
    if d.value is not None:
        out["value"] = d.value
    else:
        out.update(sample_count=d.sample_count, sum=d.sum, minimum=d.minimum, maximum=d.maximum)
    return out


def encode(data: Iterable[MetricDatum], max_per_body: int = MAX_PER_BODY) -> Iterator[bytes]:
    """Request bodies for ``data``: one per namespace (in first-seen order), at most
    ``max_per_body`` datapoints each.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 5, 1, tzinfo=timezone.utc)
    >>> list(encode([MetricDatum("vigil/Host", "MemoryUsed", {"Host": "h"}, t, 5.0, unit="Bytes")]))
    ... # doctest: +NORMALIZE_WHITESPACE
    [b'{"namespace":"vigil/Host","data":[{"name":"MemoryUsed","dimensions":{"Host":"h"},\
"timestamp":"2024-05-01T00:00:00+00:00","unit":"Bytes","value":5.0}]}']
    """
    items = list(data)
    order = {ns: i for i, ns in reversed(list(enumerate(d.namespace for d in items)))}
    items.sort(key=lambda d: order[d.namespace])  # stable: each namespace keeps its order
    for namespace, group in groupby(items, key=lambda d: d.namespace):
        chunk = [_datum(d) for d in group]
        for start in range(0, len(chunk), max_per_body):
            body = {"namespace": namespace, "data": chunk[start : start + max_per_body]}
            yield orjson.dumps(body)


def server_root(url: str) -> str:
    """The server's root URL from ``--server`` (``http(s)://host[:port]``, ``/api/v1`` allowed).

    >>> server_root("http://127.0.0.1:8080/api/v1/"), server_root("https://vigil.internal")
    ('http://127.0.0.1:8080', 'https://vigil.internal')
    >>> server_root("vigil:8080")
    Traceback (most recent call last):
    ...
    vigil.errors.InputError: [input_error] server 'vigil:8080': expected an http:// or \
https:// URL such as http://127.0.0.1:8080
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"server {url!r}: expected an http:// or https:// URL such as http://127.0.0.1:8080"
        )
    path = parts.path.rstrip("/").removesuffix("/api/v1")
    return f"{parts.scheme}://{parts.netloc}{path}"


class Pusher:
    """Sends bodies to one server with one ingest token."""

    def __init__(self, server: str, token: str, *, timeout: float = 10.0) -> None:
        if not token:
            raise InputError("token: expected an API token with the ingest scope (--token)")
        self.url = server_root(server) + PATH
        self.client = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout,
        )

    def send(self, body: bytes) -> Outcome:
        """POST one body; never raises for the server's or the network's failures."""
        try:
            response = self.client.post(self.url, content=body)
        except httpx.TransportError as exc:
            return Outcome(Verdict.retry, f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(Verdict.sent)
        reason = f"HTTP {status}: {response.text[:500]}"
        if status == 429 or status >= 500:
            return Outcome(Verdict.retry, reason)
        return Outcome(Verdict.refused, reason)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
