"""The artifact layout: where an installation's files live under its roots.

- the outputs of one execution, as SageMaker writes them:
  ``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/`` (the UTC hour of the scheduled time),
  holding ``statistics.json``, ``constraints.json``, ``constraint_violations.json`` and, from
  Vigil, ``report.html`` and ``analysis.json``;
- ground truth: ``{data}/ground-truth/yyyy/mm/dd/hh/`` by the hour a label was collected;
- a registered baseline: ``{baselines}/{name}/``.

>>> from datetime import datetime, timezone
>>> settings = Settings(data_dir=Path("/srv/vigil"))
>>> execution_output_dir(settings.reports_root, "churn", "hourly",
...                      datetime(2024, 5, 1, 3, 30, tzinfo=timezone.utc)).as_posix()
'/srv/vigil/reports/churn/hourly/2024/05/01/03'
>>> ground_truth_root(settings).as_posix()
'/srv/vigil/ground-truth'
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from vigil.store.settings import Settings

__all__ = [
    "GROUND_TRUTH_DIR",
    "baseline_dir",
    "execution_output_dir",
    "ground_truth_root",
    "output_dir",
    "schedule_reports_dir",
]

GROUND_TRUTH_DIR = "ground-truth"


class _ScheduleLike(Protocol):
    """What the layout needs of a schedule (a ``Schedule`` row, a spec)."""

    @property
    def endpoint_name(self) -> str: ...

    @property
    def name(self) -> str: ...


def schedule_reports_dir(reports_root: str | Path, endpoint: str, schedule: str) -> Path:
    """``{reports}/{endpoint}/{schedule}/``: every execution's outputs of one schedule."""
    return Path(reports_root) / endpoint / schedule


def execution_output_dir(
    reports_root: str | Path, endpoint: str, schedule: str, scheduled_time: datetime
) -> Path:
    """``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/``, the hour of ``scheduled_time`` in
    UTC."""
    t = scheduled_time.astimezone(timezone.utc)
    return schedule_reports_dir(reports_root, endpoint, schedule) / (
        f"{t:%Y}/{t:%m}/{t:%d}/{t:%H}"
    )


def output_dir(settings: Settings, schedule: _ScheduleLike, scheduled_time: datetime) -> Path:
    """Where the execution of ``schedule`` at ``scheduled_time`` writes its outputs."""
    return execution_output_dir(
        settings.reports_root, schedule.endpoint_name, schedule.name, scheduled_time
    )


def ground_truth_root(settings: Settings) -> Path:
    """Where ground-truth files live: ``{data}/ground-truth/yyyy/mm/dd/hh/``."""
    return Path(settings.data_dir) / GROUND_TRUTH_DIR


def baseline_dir(settings: Settings, name: str) -> Path:
    """Where the baseline registered as ``name`` is kept: ``{baselines}/{name}/``."""
    return Path(settings.baselines_root) / name
