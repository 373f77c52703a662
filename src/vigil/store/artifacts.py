"""The artifact layout: where an installation's files live under its roots.

The reports and baselines roots may be local folders or object-store URLs
(``VIGIL_REPORTS_URI=s3://bucket/reports``, ``VIGIL_BASELINES_URI``); the functions return a
:class:`~pathlib.Path` or an :class:`~vigil.locations.ObjectPath` accordingly.

- the outputs of one execution, as SageMaker writes them:
  ``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/`` (the UTC hour of the scheduled time),
  holding ``statistics.json``, ``constraints.json``, ``constraint_violations.json`` and, from
  Vigil, ``report.html`` and ``analysis.json``;
- ground truth: ``{ground truth}/yyyy/mm/dd/hh/`` by the hour a label was collected
  (``{data}/ground-truth`` unless ``VIGIL_GROUND_TRUTH_URI`` says otherwise);
- a registered baseline: ``{baselines}/{name}/`` (``{data}/baselines`` unless
  ``VIGIL_BASELINES_URI`` says otherwise).

>>> from datetime import datetime, timezone
>>> settings = Settings(data_dir=Path("/srv/vigil"))
>>> execution_output_dir(settings.reports_root, "churn", "hourly",
...                      datetime(2024, 5, 1, 3, 30, tzinfo=timezone.utc)).as_posix()
'/srv/vigil/reports/churn/hourly/2024/05/01/03'
>>> ground_truth_root(settings)
'/srv/vigil/ground-truth'
>>> baseline_dir(settings, "churn-v2").as_posix()
'/srv/vigil/baselines/churn-v2'
>>> str(baseline_dir(Settings(data_dir=Path("/srv"), baselines_root="s3://ml/b"), "churn-v2"))
's3://ml/b/churn-v2'
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from vigil.locations import Location, ObjectPath, as_location
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


def schedule_reports_dir(
    reports_root: str | Path | ObjectPath, endpoint: str, schedule: str
) -> Location:
    """``{reports}/{endpoint}/{schedule}/``: every execution's outputs of one schedule (a
    local folder, or a prefix when the reports root is a URL such as ``s3://bucket/reports``)."""
    return as_location(reports_root) / endpoint / schedule


def execution_output_dir(
    reports_root: str | Path | ObjectPath, endpoint: str, schedule: str, scheduled_time: datetime
) -> Location:
    """``{reports}/{endpoint}/{schedule}/yyyy/mm/dd/hh/``, the hour of ``scheduled_time`` in
    UTC."""
    t = scheduled_time.astimezone(timezone.utc)
    return schedule_reports_dir(reports_root, endpoint, schedule) / (
        f"{t:%Y}/{t:%m}/{t:%d}/{t:%H}"
    )


def output_dir(
    settings: Settings, schedule: _ScheduleLike, scheduled_time: datetime
) -> Location:
    """Where the execution of ``schedule`` at ``scheduled_time`` writes its outputs."""
    return execution_output_dir(
        settings.reports_root, schedule.endpoint_name, schedule.name, scheduled_time
    )


def ground_truth_root(settings: Settings) -> str:
    """Where ground-truth files live: ``{ground truth}/yyyy/mm/dd/hh/``, by default
    ``{data}/ground-truth`` (``VIGIL_GROUND_TRUTH_URI`` moves it, to a bucket too)."""
    return settings.ground_truth_root


def baseline_dir(settings: Settings, name: str) -> Location:
    """Where the baseline registered as ``name`` is kept: ``{baselines}/{name}/`` (a local
    folder, or a prefix when the baselines root is a URL)."""
    return as_location(settings.baselines_root) / name
