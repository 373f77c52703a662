"""The window of an execution: its bounds from the schedule, and its captures read.

A schedule reads, at its scheduled time, the window its offsets give (``-PT1H`` / ``-PT0H``
relative to the scheduled time), by default the previous period. The captures of that window
are read with the options of the schedule's ``config`` named in :data:`WINDOW_OPTIONS`; a
``preprocessor`` file is loaded only from the operator's code directory
(:class:`~vigil.store.code_policy.CodePolicy`), else the execution fails saying why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from vigil.capture.window import Window, read_window
from vigil.monitor.runtime import Runtime
from vigil.schedule import parse_schedule, window_for
from vigil.store.code_policy import CodePolicy
from vigil.store.models import Endpoint, Execution, Schedule

__all__ = ["WINDOW_OPTIONS", "execution_window", "named_features", "read_execution_window"]

#: the keys of a schedule's ``config`` passed on to :func:`~vigil.capture.window.read_window`
WINDOW_OPTIONS = (
    "features_attribute",
    "inference_attribute",
    "probability_attribute",
    "feature_names",
    "preprocessor",
    "content",
)


def execution_window(schedule: Schedule, scheduled_time: datetime) -> tuple[datetime, datetime]:
    """The window a schedule reads at ``scheduled_time`` (its offsets, else the previous
    period)."""
    start = schedule.window_start_offset or None
    end = schedule.window_end_offset or None
    return window_for(parse_schedule(schedule.expression), scheduled_time, start, end)


def named_features(
    config: Mapping[str, Any], headers: Sequence[str] | None, *not_features: object
) -> dict[str, Any]:
    """The reading option that names positional (CSV) inputs by a Clarify config's
    ``headers``, less the columns that are not inputs (label, prediction, score); nothing when
    there are no headers or the schedule names its features itself (``feature_names``).

    >>> named_features({}, ["group", "age", "approved"], "approved")
    {'feature_names': ['group', 'age']}
    >>> named_features({"feature_names": ["a"]}, ["group"])
    {}
    """
    if not headers or config.get("feature_names") is not None:
        return {}
    skip = {n for n in not_features if n is not None}
    return {"feature_names": [h for h in headers if h not in skip]}


def read_execution_window(
    rt: Runtime, schedule: Schedule, ex: Execution, endpoint: Endpoint, **overrides: Any
) -> Window:
    """The execution's window of captures, with the schedule's reading options (``overrides``
    replace them)."""
    options = {k: v for k, v in (schedule.config or {}).items() if k in WINDOW_OPTIONS}
    options.update(overrides)
    pre = options.get("preprocessor")
    if pre is not None and not callable(pre):  # stored code: the operator's policy decides
        options["preprocessor"] = CodePolicy.from_settings(rt.settings).preprocessor_path(str(pre))
    return read_window(
        endpoint.capture_uri or rt.settings.capture_root,
        endpoint.name,
        ex.window_start,
        ex.window_end,
        variant=endpoint.variant,
        **options,
    )
