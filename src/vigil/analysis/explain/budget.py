"""Progress and the time budget of an explanation job.

Kernel SHAP jobs that run for hours without a word are the top complaint about Clarify, so
Vigil's rule is: measure the first chunk of records, estimate the whole job from it, and stop
at once with a :class:`TimeBudgetError` (saying the estimate and what to cut) when the estimate
passes the budget; the same error stops a job that passes the budget later anyway. Nothing
partial is written: a result is either the whole data's or an error.

>>> clock = iter([0.0, 8.0]).__next__
>>> b = Budget(total=100, seconds=60.0, clock=clock, what="kernel SHAP")
>>> b.done(10)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
vigil.analysis.explain.budget.TimeBudgetError: [time_budget] kernel SHAP: estimated 80 s for 100 record(s) (8 s for the first 10) passes the time budget of 60 s; ...
"""  # noqa: E501 (a doctest's expected line)

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.errors import VigilError

__all__ = ["Budget", "Progress", "TimeBudgetError"]

Progress = Callable[[int, int], None]  # (records done, records in all)

HINT = (
    "explain fewer records, lower methods.shap.num_samples or num_clusters, give one baseline "
    "row, or raise the budget (--time-budget)"
)


class TimeBudgetError(VigilError, TimeoutError):
    """An explanation job that would run (or ran) past its time budget."""

    code = "time_budget"


@dataclass
class Budget:
    """Counts records done, reports progress, enforces ``seconds`` (None: no limit)."""

    total: int
    seconds: float | None = None
    progress: Progress | None = None
    what: str = "explanation"
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)
    count: int = field(init=False, default=0)
    estimated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def done(self, rows: int) -> None:
        """``rows`` more records explained: report, and check the budget."""
        self.count += rows
        if self.progress is not None:
            self.progress(self.count, self.total)
        if self.seconds is None:
            return
        elapsed = self.clock() - self.started
        if self.estimated is None and self.count < self.total:
            self.estimated = elapsed * self.total / max(self.count, 1)
            if self.estimated > self.seconds:
                raise TimeBudgetError(
                    f"{self.what}: estimated {self.estimated:.3g} s for {self.total} record(s) "
                    f"({elapsed:.3g} s for the first {self.count}) passes the time budget of "
                    f"{self.seconds:g} s; {HINT}"
                )
        if elapsed > self.seconds and self.count < self.total:
            raise TimeBudgetError(
                f"{self.what}: {self.count} of {self.total} record(s) explained in "
                f"{elapsed:.3g} s, past the time budget of {self.seconds:g} s; {HINT}"
            )
