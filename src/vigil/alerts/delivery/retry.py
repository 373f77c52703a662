"""SNS delivery retry policies: four phases of retries after the first attempt.

1. immediate phase: ``num_no_delay_retries`` retries with no delay;
2. pre-backoff phase: ``num_min_delay_retries`` retries ``min_delay_target`` apart;
3. backoff phase: the remaining retries, their delays rising from ``min_delay_target`` to
   ``max_delay_target`` along ``backoff_function``;
4. post-backoff phase: ``num_max_delay_retries`` retries ``max_delay_target`` apart.

``num_retries`` counts all of them, so the backoff phase holds ``num_retries`` minus the
three others. AWS documents the four backoff functions only as a chart (delay rising from the
minimum to the maximum over the backoff phase); Vigil defines them exactly. With ``n``
backoff retries, retry ``i`` (1..n) waits ``min + (max - min) * f(i)`` where ``f(n) = 1``:

- ``linear``: equal steps, ``f(i) = i / n``;
- ``arithmetic``: steps growing 1, 2, 3, ..., ``f(i) = i(i+1) / n(n+1)``;
- ``exponential``: steps doubling 1, 2, 4, ..., ``f(i) = (2^i - 1) / (2^n - 1)``;
- ``geometric``: each delay a constant ratio times the previous one,
  ``delay(i) = min * (max / min) ** (i / n)``.

Defaults, as SNS's (``reference/alerting.md`` §3, AWS "Amazon SNS message delivery
retries"):

- HTTP (webhook, Slack, PagerDuty, Alertmanager): 3 retries 20 s apart (min = max = 20 s,
  linear); any HTTP policy is refused if its total retry time exceeds 3,600 s.
- email: SNS's SMTP policy: 0 immediate, 2 retries 10 s apart, 10 exponential-backoff
  retries from 10 s to 600 s, 38 retries 600 s apart: 50 retries after the first attempt,
  over 6.7 hours (24,094 s).

>>> HTTP_DEFAULT.delays()
[20.0, 20.0, 20.0]
>>> RetryPolicy(num_retries=4, min_delay_target=1, max_delay_target=8,
...             backoff_function="exponential").delays()
[1.467, 2.4, 4.267, 8.0]
>>> EMAIL_DEFAULT.num_retries, round(EMAIL_DEFAULT.total_delay() / 3600, 2)
(50, 6.69)
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from vigil.errors import ConfigError

BackoffFunction = Literal["linear", "arithmetic", "geometric", "exponential"]
BACKOFF_FUNCTIONS: tuple[str, ...] = ("linear", "arithmetic", "geometric", "exponential")
HTTP_MAX_TOTAL_SECONDS = 3600.0

_CAMEL = {
    "numRetries": "num_retries",
    "numNoDelayRetries": "num_no_delay_retries",
    "numMinDelayRetries": "num_min_delay_retries",
    "numMaxDelayRetries": "num_max_delay_retries",
    "minDelayTarget": "min_delay_target",
    "maxDelayTarget": "max_delay_target",
    "backoffFunction": "backoff_function",
    "maxTotalSeconds": "max_total_seconds",
}


@dataclass(frozen=True)
class RetryPolicy:
    """An SNS ``healthyRetryPolicy``; :meth:`delays` lists the wait before each retry.

    >>> p = RetryPolicy(num_retries=6, num_no_delay_retries=1, num_min_delay_retries=1,
    ...                 num_max_delay_retries=1, min_delay_target=2, max_delay_target=10)
    >>> p.delays()  # 1 immediate, 1 at min, 3 linear backoff, 1 at max
    [0.0, 2.0, 4.667, 7.333, 10.0, 10.0]
    >>> p.next_delay(0), p.next_delay(6)
    (0.0, None)
    """

    num_retries: int = 3
    num_no_delay_retries: int = 0
    num_min_delay_retries: int = 0
    num_max_delay_retries: int = 0
    min_delay_target: float = 20.0
    max_delay_target: float = 20.0
    backoff_function: BackoffFunction = "linear"
    max_total_seconds: float | None = HTTP_MAX_TOTAL_SECONDS
    jitter: float = 0.0

    def __post_init__(self) -> None:
        counts = {
            "num_retries": self.num_retries,
            "num_no_delay_retries": self.num_no_delay_retries,
            "num_min_delay_retries": self.num_min_delay_retries,
            "num_max_delay_retries": self.num_max_delay_retries,
        }
        for name, value in counts.items():
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"retry policy {name}: expected an integer >= 0, got {value!r}")
        if self.backoff_retries < 0:
            raise ConfigError(
                f"retry policy num_retries: {self.num_retries} is less than the sum of the "
                f"immediate, min-delay and max-delay retries "
                f"({self.num_retries - self.backoff_retries})"
            )
        if not 0 < self.min_delay_target <= self.max_delay_target:
            raise ConfigError(
                "retry policy: expected 0 < min_delay_target <= max_delay_target, got "
                f"{self.min_delay_target} and {self.max_delay_target}"
            )
        if self.backoff_function not in BACKOFF_FUNCTIONS:
            raise ConfigError(
                f"retry policy backoff_function: expected one of {', '.join(BACKOFF_FUNCTIONS)}, "
                f"got {self.backoff_function!r}"
            )
        if not 0 <= self.jitter < 1:
            raise ConfigError(f"retry policy jitter: expected 0 <= jitter < 1, got {self.jitter}")
        total = self.total_delay()
        if self.max_total_seconds is not None and total > self.max_total_seconds:
            raise ConfigError(
                f"retry policy: total retry time {total:g} s exceeds the limit of "
                f"{self.max_total_seconds:g} s"
            )

    @property
    def backoff_retries(self) -> int:
        """How many retries the backoff phase holds."""
        return (
            self.num_retries
            - self.num_no_delay_retries
            - self.num_min_delay_retries
            - self.num_max_delay_retries
        )

    def delays(self) -> list[float]:
        """The wait in seconds before each retry, in order (rounded to milliseconds)."""
        lo, hi, n = float(self.min_delay_target), float(self.max_delay_target), self.backoff_retries
        out = [0.0] * self.num_no_delay_retries + [lo] * self.num_min_delay_retries
        out += [round(_backoff(self.backoff_function, lo, hi, i, n), 3) for i in range(1, n + 1)]
        out += [hi] * self.num_max_delay_retries
        return out

    def total_delay(self) -> float:
        """Seconds from the first failed attempt to the last retry (without jitter)."""
        return round(sum(self.delays()), 3)

    def next_delay(self, retries_done: int, rng: random.Random | None = None) -> float | None:
        """The wait before retry number ``retries_done + 1``, or None when none is left.

        With ``jitter`` > 0 the delay is scaled by a random factor in ``[1 - jitter, 1]``.
        """
        delays = self.delays()
        if retries_done >= len(delays):
            return None
        delay = delays[retries_done]
        if self.jitter:
            delay *= 1 - (rng or random).random() * self.jitter
        return delay

    def to_dict(self) -> dict[str, Any]:
        """The policy as a JSON-ready dict of its field names."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetryPolicy:
        """A policy from its fields, in snake_case or SNS's camelCase (``numRetries``...).

        >>> RetryPolicy.from_dict({"numRetries": 2, "minDelayTarget": 5,
        ...                        "maxDelayTarget": 5}).delays()
        [5.0, 5.0]
        """
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _CAMEL.get(key, key)
            if name not in cls.__dataclass_fields__:
                raise ConfigError(f"retry policy: unknown field {key!r}")
            kwargs[name] = value.lower() if name == "backoff_function" else value
        return cls(**kwargs)


def _backoff(function: str, lo: float, hi: float, i: int, n: int) -> float:
    if function == "geometric":
        return lo * (hi / lo) ** (i / n)
    if function == "arithmetic":
        frac = i * (i + 1) / (n * (n + 1))
    elif function == "exponential":
        frac = (2.0**i - 1) / (2.0**n - 1)
    else:
        frac = i / n
    return lo + (hi - lo) * frac


HTTP_DEFAULT = RetryPolicy()
EMAIL_DEFAULT = RetryPolicy(
    num_retries=50,
    num_no_delay_retries=0,
    num_min_delay_retries=2,
    num_max_delay_retries=38,
    min_delay_target=10,
    max_delay_target=600,
    backoff_function="exponential",
    max_total_seconds=None,
)


def default_policy(protocol: str) -> RetryPolicy:
    """SNS's default policy for a subscription protocol: email's for ``email``, else HTTP's.

    >>> default_policy("email") is EMAIL_DEFAULT, default_policy("webhook") is HTTP_DEFAULT
    (True, True)
    """
    return EMAIL_DEFAULT if protocol == "email" else HTTP_DEFAULT
