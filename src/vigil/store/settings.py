"""Where a Vigil installation keeps its state (the embedded defaults and their overrides).

Everything lives under one data directory by default: ``vigil.db`` (SQLite: metadata and
metrics), ``capture/`` (SageMaker capture layout), ``baselines/`` and ``reports/``.
``VIGIL_DATABASE_URL`` points the database at PostgreSQL; ``VIGIL_CAPTURE_URI``,
``VIGIL_REPORTS_URI``, ``VIGIL_BASELINES_URI``, ``VIGIL_GROUND_TRUTH_URI`` and
``VIGIL_EVENTS_ARCHIVE_URI`` move captures, reports, registered baselines, ground truth and
the event archive (a local path or any fsspec URL, such as ``s3://bucket/prefix``; see
:mod:`vigil.locations`). Where files go under these roots is
:mod:`vigil.store.artifacts`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vigil.errors import ConfigError

DEFAULT_DATA_DIR = "vigil-data"


def default_workers() -> int:
    """How many worker processes run executions by default: half the CPUs (one on two
    cores, so the API keeps the other), at most four."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


@dataclass
class Settings:
    """Paths and limits of one installation."""

    data_dir: Path
    database_url: str | None = None
    capture_root: str = ""
    reports_root: str = ""
    baselines_root: str = ""  # VIGIL_BASELINES_URI; else data_dir/baselines
    ground_truth_root: str = ""  # VIGIL_GROUND_TRUTH_URI; else data_dir/ground-truth
    events_archive_root: str = ""  # VIGIL_EVENTS_ARCHIVE_URI; else data_dir (events/archive/)
    max_body_bytes: int = 16 << 20
    scheduler_interval: float = 1.0
    lease_seconds: int = 300  # VIGIL_LEASE_SECONDS: an execution's claim, renewed while it runs
    # VIGIL_WORKERS: the worker processes that run executions (0: in the scheduler's thread)
    workers: int = field(default_factory=default_workers)
    stop_grace: int = 30  # VIGIL_STOP_GRACE: seconds a stopping worker lets executions finish
    metric_retention_days: float = 455.0  # CloudWatch keeps hourly data 15 months
    alarm_interval: float = 10.0  # seconds between alarm evaluations in the server
    allow_commands: tuple[str, ...] = ()  # executables command targets may run (code policy)
    code_dir: str = ""  # the operator's code: commands, Python entry points, preprocessors
    allow_python: tuple[str, ...] = ()  # modules Python entry points may be imported from
    secret_key: str = field(default="", repr=False)  # VIGIL_SECRET_KEY; else data_dir/secret.key
    alarms_on_execution: bool = True  # also evaluate alarms as soon as an execution completes
    extra: dict[str, str] = field(default_factory=dict)
    # where paths and URLs that arrive over the API may point besides the data directory and
    # the roots above (VIGIL_ALLOWED_ROOTS, comma-separated; see vigil.store.locations)
    allowed_roots: tuple[str, ...] = ()
    log_format: str = "text"  # VIGIL_LOG_FORMAT: text | json (the server's log lines)
    log_level: str = "INFO"  # VIGIL_LOG_LEVEL
    self_metrics_interval: float = 60.0  # VIGIL_SELF_METRICS_INTERVAL (seconds; 0: off)
    # event receivers' secrets (never stored in the database): POST /api/v1/events/github,
    # /gitlab and /eventbridge; an empty one turns that receiver's own check off (bearer only)
    github_webhook_secret: str = field(default="", repr=False)  # VIGIL_GITHUB_WEBHOOK_SECRET
    gitlab_webhook_token: str = field(default="", repr=False)  # VIGIL_GITLAB_WEBHOOK_TOKEN
    eventbridge_api_key: str = field(default="", repr=False)  # VIGIL_EVENTBRIDGE_API_KEY
    eventbridge_api_key_header: str = "x-api-key"  # VIGIL_EVENTBRIDGE_API_KEY_HEADER
    # the dashboard's address as people reach it (VIGIL_PUBLIC_URL, e.g.
    # https://vigil.example.com): notifications link to their alarm, execution and report there
    public_url: str = ""

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.capture_root = self.capture_root or str(self.data_dir / "capture")
        self.reports_root = self.reports_root or str(self.data_dir / "reports")
        self.baselines_root = self.baselines_root or str(self.data_dir / "baselines")
        self.ground_truth_root = self.ground_truth_root or str(self.data_dir / "ground-truth")
        self.events_archive_root = self.events_archive_root or str(self.data_dir)

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> Settings:
        """Settings from arguments, then ``VIGIL_*`` environment variables, then defaults."""
        return cls(
            data_dir=Path(data_dir or os.environ.get("VIGIL_DATA_DIR", DEFAULT_DATA_DIR)),
            database_url=os.environ.get("VIGIL_DATABASE_URL") or None,
            capture_root=os.environ.get("VIGIL_CAPTURE_URI", ""),
            reports_root=os.environ.get("VIGIL_REPORTS_URI", ""),
            baselines_root=os.environ.get("VIGIL_BASELINES_URI", ""),
            lease_seconds=_env_int("VIGIL_LEASE_SECONDS", 300, minimum=1),
            workers=_env_int("VIGIL_WORKERS", default_workers(), minimum=0),
            stop_grace=_env_int("VIGIL_STOP_GRACE", 30, minimum=0),
            ground_truth_root=os.environ.get("VIGIL_GROUND_TRUTH_URI", ""),
            events_archive_root=os.environ.get("VIGIL_EVENTS_ARCHIVE_URI", ""),
            metric_retention_days=float(os.environ.get("VIGIL_METRIC_RETENTION_DAYS", "455")),
            allowed_roots=tuple(
                r.strip() for r in os.environ.get("VIGIL_ALLOWED_ROOTS", "").split(",") if r.strip()
            ),
            allow_commands=_env_list("VIGIL_ALLOW_COMMANDS"),
            code_dir=os.environ.get("VIGIL_CODE_DIR", ""),
            allow_python=_env_list("VIGIL_ALLOW_PYTHON"),
            secret_key=os.environ.get("VIGIL_SECRET_KEY", ""),
            log_format=os.environ.get("VIGIL_LOG_FORMAT", "text"),
            log_level=os.environ.get("VIGIL_LOG_LEVEL", "INFO"),
            self_metrics_interval=float(os.environ.get("VIGIL_SELF_METRICS_INTERVAL", "60")),
            github_webhook_secret=os.environ.get("VIGIL_GITHUB_WEBHOOK_SECRET", ""),
            gitlab_webhook_token=os.environ.get("VIGIL_GITLAB_WEBHOOK_TOKEN", ""),
            eventbridge_api_key=os.environ.get("VIGIL_EVENTBRIDGE_API_KEY", ""),
            public_url=os.environ.get("VIGIL_PUBLIC_URL", "").rstrip("/"),
            eventbridge_api_key_header=os.environ.get(
                "VIGIL_EVENTBRIDGE_API_KEY_HEADER", "x-api-key"
            ),
        )


def _env_int(name: str, default: int, *, minimum: int) -> int:
    """A ``VIGIL_*`` whole number (unset or blank: ``default``), refused below ``minimum``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"${name}: expected a whole number of {minimum} or more, got {raw!r}")
    return value


def storage_roots_from_env(settings: Settings) -> Settings:
    """``settings`` with the file roots the environment moves (``VIGIL_CAPTURE_URI``,
    ``VIGIL_REPORTS_URI``, ``VIGIL_BASELINES_URI``, ``VIGIL_GROUND_TRUTH_URI``,
    ``VIGIL_EVENTS_ARCHIVE_URI``) set;
    the others are kept. For callers that build their settings themselves (the demo)."""
    for name, variable in _ROOT_VARIABLES.items():
        value = os.environ.get(variable, "").strip()
        if value:
            setattr(settings, name, value)
    return settings


_ROOT_VARIABLES = {
    "capture_root": "VIGIL_CAPTURE_URI",
    "reports_root": "VIGIL_REPORTS_URI",
    "baselines_root": "VIGIL_BASELINES_URI",
    "ground_truth_root": "VIGIL_GROUND_TRUTH_URI",
    "events_archive_root": "VIGIL_EVENTS_ARCHIVE_URI",
}


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated ``VIGIL_*`` variable as a tuple, blanks dropped."""
    return tuple(s.strip() for s in os.environ.get(name, "").split(",") if s.strip())
