"""Where the action engine gets the time and its worker name: an injectable :class:`Clock`
(tests never really sleep) and :class:`SystemClock`, the real one.

>>> SystemClock().now().tzinfo is not None
True
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Protocol

from vigil.store.columns import utcnow


class Clock(Protocol):
    """Where the engine gets the time and how it waits between retries."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def default_owner() -> str:
    """This worker's name: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"
