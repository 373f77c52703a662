"""Storage: the metadata database, exactly-once executions and the metric store.

SQLite under the data directory by default, PostgreSQL when ``VIGIL_DATABASE_URL`` names one.
"""

from __future__ import annotations

from vigil.metrics.datum import UNITS, MetricDatum, dimensions_key, series_key
from vigil.metrics.statistics import nearest_rank, parse_statistics, period_start
from vigil.store import audit  # its listeners record every configuration change
from vigil.store.columns import UTCDateTime, as_utc, utcnow
from vigil.store.db import ENV_URL, Database
from vigil.store.errors import (
    DatabaseURLError,
    ExecutionNotFoundError,
    LeaseLostError,
    NotFoundError,
)
from vigil.store.executions import (
    claim_execution,
    claim_rerun,
    finish_execution,
    get_execution,
    list_executions,
    recover_interrupted,
    renew_lease,
)
from vigil.store.metrics import MetricStore
from vigil.store.models import (
    ApiToken,
    Base,
    BaselineRecord,
    Datapoint,
    Endpoint,
    Execution,
    ExecutionStatus,
    MetricSeries,
    Schedule,
)

__all__ = [
    "ENV_URL",
    "UNITS",
    "ApiToken",
    "Base",
    "BaselineRecord",
    "Database",
    "DatabaseURLError",
    "Datapoint",
    "Endpoint",
    "Execution",
    "ExecutionNotFoundError",
    "ExecutionStatus",
    "LeaseLostError",
    "MetricDatum",
    "MetricSeries",
    "MetricStore",
    "NotFoundError",
    "Schedule",
    "UTCDateTime",
    "as_utc",
    "audit",
    "claim_execution",
    "claim_rerun",
    "dimensions_key",
    "finish_execution",
    "get_execution",
    "list_executions",
    "nearest_rank",
    "parse_statistics",
    "period_start",
    "recover_interrupted",
    "renew_lease",
    "series_key",
    "utcnow",
]
