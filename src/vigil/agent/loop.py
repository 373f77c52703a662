"""``vigil agent``'s loop: collect every interval, push, keep on disk what cannot be pushed.

While the spool is empty a collection's bodies go straight to the server; the first one the
server cannot take (unreachable, 5xx, 429) and every one after it go to the spool, so order
is kept. While the spool holds batches, new ones are appended to it and the spool is sent
oldest first until a send fails or the flush's time budget (half the interval) is spent:
a long outage drains over a few collections without delaying them. Delivery is at least
once: a batch whose response was lost (the server stored it, then the connection broke)
is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vigil.agent.push import Outcome, Verdict, encode
from vigil.agent.spool import Spool, datapoints_in
from vigil.errors import InputError
from vigil.metrics.datum import MetricDatum

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """What the agent did so far (datapoints, not requests)."""

    collections: int = 0
    collected: int = 0
    sent: int = 0  # straight away or from the spool
    spooled: int = 0
    refused: int = 0  # buried in the spool's dead/

    def as_dict(self, spool: Spool) -> dict[str, int]:
        """The tally with the spool's state."""
        return {
            "collections": self.collections,
            "collected": self.collected,
            "sent": self.sent,
            "spooled": self.spooled,
            "refused": self.refused,
            "pending_batches": len(spool),
            "dropped_batches": spool.dropped_batches,
            "dropped_datapoints": spool.dropped_datapoints,
        }


class Agent:
    """Collects with ``collect`` every ``interval`` seconds and delivers through ``send``."""

    def __init__(
        self,
        collect: Callable[[], Sequence[MetricDatum]],
        send: Callable[[bytes], Outcome],
        spool: Spool,
        interval: float = 10.0,
    ) -> None:
        if interval <= 0:
            raise InputError(f"interval: expected a positive number of seconds, got {interval}")
        self.collect = collect
        self.send = send
        self.spool = spool
        self.interval = interval
        self.tally = Tally()
        self._server_down = False

    def _noted(self, outcome: Outcome) -> None:
        if outcome.verdict is Verdict.retry and not self._server_down:
            self._server_down = True
            log.warning("server unreachable (%s): keeping batches in %s", outcome.reason,
                        self.spool.directory)  # fmt: skip
        elif outcome.verdict is Verdict.sent and self._server_down:
            self._server_down = False
            log.warning("server reachable again: %d batch(es) spooled", len(self.spool))

    def _refused(self, reason: str, points: int, where: str) -> None:
        self.tally.refused += points
        log.error("server refused a batch of %d datapoints (%s): moved to %s", points, reason,
                  where)  # fmt: skip

    def deliver(self, bodies: Sequence[bytes]) -> None:
        """Send ``bodies`` (in order, after anything spooled), spooling what cannot go now."""
        queue = list(bodies)
        if len(self.spool) == 0:
            while queue:
                outcome = self.send(queue[0])
                self._noted(outcome)
                if outcome.verdict is Verdict.retry:
                    break
                body = queue.pop(0)
                if outcome.verdict is Verdict.sent:
                    self.tally.sent += datapoints_in(body)
                else:
                    dead = self.spool.bury_body(body, outcome.reason)
                    self._refused(outcome.reason, datapoints_in(body), str(dead))
        for body in queue:
            self.spool.put(body)
            self.tally.spooled += datapoints_in(body)
        if queue and len(self.spool) > len(queue):
            self.flush(self.interval / 2)

    def flush(self, budget: float | None = None) -> bool:
        """Send spooled batches oldest first until one cannot go or ``budget`` seconds pass;
        whether the spool is empty now."""
        deadline = None if budget is None else time.monotonic() + budget
        for path in self.spool.pending():
            if deadline is not None and time.monotonic() > deadline:
                return False
            body = self.spool.read(path)
            outcome = self.send(body)
            self._noted(outcome)
            if outcome.verdict is Verdict.retry:
                return False
            if outcome.verdict is Verdict.sent:
                self.tally.sent += datapoints_in(body)
                self.spool.remove(path)
            else:
                dead = self.spool.bury(path, outcome.reason)
                self._refused(outcome.reason, datapoints_in(body), str(dead))
        return True

    def cycle(self) -> int:
        """One collection delivered (or spooled); the number of datapoints collected."""
        data = self.collect()
        self.tally.collections += 1
        self.tally.collected += len(data)
        self.deliver(list(encode(data)))
        return len(data)

    def run(self, stop: threading.Event, cycles: int | None = None) -> Tally:
        """Collect every interval (drift-free: on a fixed grid from the start) until ``stop``
        is set or ``cycles`` collections are done; a failing collection is logged and the
        loop goes on."""
        self.flush(self.interval / 2)  # what an earlier agent left
        start = time.monotonic()
        done = 0
        while not stop.is_set() and (cycles is None or done < cycles):
            done += 1
            if stop.wait(max(0.0, start + done * self.interval - time.monotonic())):
                break
            try:
                self.cycle()
            except Exception:  # a collector bug must not stop the agent
                log.exception("collection %d failed", self.tally.collections + 1)
        return self.tally
