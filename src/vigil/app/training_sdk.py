"""``vigil.training_job``: a training job from Python code, local or against a server.

>>> import tempfile, vigil
>>> with tempfile.TemporaryDirectory() as d:
...     with vigil.training_job("churn-train", hyperparameters={"lr": 0.1}, data_dir=d) as job:
...         job.log_metric("validation:loss", 0.31, step=3)
...     job.status
'Completed'

An exception leaving the block marks the job ``Failed`` with ``"<type>: <message>"`` as its
reason and is raised again; ``KeyboardInterrupt`` marks it ``Stopped``. Without ``server``
(nor ``$VIGIL_SERVER``) the job lives in the local data directory (``data_dir``, else
``$VIGIL_DATA_DIR`` or ``./vigil-data``); with one it goes through the jobs API with ``token``
(else ``$VIGIL_TOKEN``; it needs the ``ingest`` scope). Metric values are batched: sent every
``flush_every`` values or ``flush_seconds`` seconds (checked as values arrive) and on exit.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import httpx

from vigil.app import training
from vigil.app.bootstrap import open_database
from vigil.errors import ConfigError, InputError
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

__all__ = ["Backend", "LocalBackend", "RemoteBackend", "TrainingJobRun", "backend", "training_job"]


#: the most metric values ``POST /api/v1/jobs/{job}/metrics`` takes (MLflow's log-batch: 1000)
POINTS_PER_REQUEST = 1000


class Backend(Protocol):
    """Where a job reports: the local installation or a server."""

    def start(
        self, name: str, hyperparameters: Mapping[str, Any], tags: Mapping[str, Any], source: str
    ) -> str: ...

    def metrics(self, run_id: str, points: list[training.MetricPoint]) -> None: ...

    def status(self, run_id: str, status: str, **fields: Any) -> dict[str, Any]: ...

    def log_file(self, run_id: str, name: str) -> Path | None: ...

    def upload_log(self, run_id: str, path: Path) -> None: ...

    def close(self) -> None: ...


class LocalBackend:
    """The installation under a data directory, written directly."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = open_database(settings)
        self.store = MetricStore(self.db)

    def start(
        self, name: str, hyperparameters: Mapping[str, Any], tags: Mapping[str, Any], source: str
    ) -> str:
        doc = training.start_job(
            self.db, name, hyperparameters=hyperparameters, tags=tags, source=source
        )
        return str(doc["run_id"])

    def metrics(self, run_id: str, points: list[training.MetricPoint]) -> None:
        training.log_metrics(self.db, self.store, run_id, points)

    def status(self, run_id: str, status: str, **fields: Any) -> dict[str, Any]:
        return training.update_job(self.db, run_id, status=status, **fields)

    def log_file(self, run_id: str, name: str) -> Path | None:
        """The log's final place: written there as it comes."""
        return training.log_path(self.settings, name, run_id)

    def upload_log(self, run_id: str, path: Path) -> None:
        training.update_job(self.db, run_id, log_path=str(path))

    def close(self) -> None:
        self.db.dispose()


class RemoteBackend:
    """A Vigil server's jobs API (``/api/v1/jobs``) with a bearer token."""

    MAX_LOG = 15 << 20  # under the server's default body limit: the log's tail beyond it

    def __init__(self, server: str, token: str, *, timeout: float = 30.0) -> None:
        self.client = httpx.Client(
            base_url=server.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            raise InputError(f"{method} {path}: HTTP {response.status_code}: {message}")
        body: dict[str, Any] = response.json()
        return body

    def start(
        self, name: str, hyperparameters: Mapping[str, Any], tags: Mapping[str, Any], source: str
    ) -> str:
        body = {"name": name, "hyperparameters": dict(hyperparameters), "tags": dict(tags)}
        return str(self._call("POST", "/jobs", json={**body, "source": source})["run_id"])

    def metrics(self, run_id: str, points: list[training.MetricPoint]) -> None:
        data = [
            {
                "name": p.name,
                "value": p.value,
                "step": p.step,
                **({"timestamp": p.timestamp.isoformat()} if p.timestamp else {}),
            }
            for p in points
        ]
        for i in range(0, len(data), POINTS_PER_REQUEST):  # what the jobs API takes at once
            self._call("POST", f"/jobs/{run_id}/metrics",
                       json={"metrics": data[i : i + POINTS_PER_REQUEST]})

    def status(self, run_id: str, status: str, **fields: Any) -> dict[str, Any]:
        body = {
            k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in fields.items()
            if v is not None and k != "log_path"
        }
        return self._call("POST", f"/jobs/{run_id}/status", json={"status": status, **body})

    def log_file(self, run_id: str, name: str) -> Path | None:
        return None  # written to a temporary file, uploaded at the end

    def upload_log(self, run_id: str, path: Path) -> None:
        size = path.stat().st_size
        with open(path, "rb") as f:
            f.seek(max(0, size - self.MAX_LOG))
            data = f.read()
        self._call("PUT", f"/jobs/{run_id}/log", content=data)

    def close(self) -> None:
        self.client.close()


def backend(
    server: str | None = None, token: str | None = None, data_dir: str | Path | None = None
) -> Backend:
    """The backend the arguments (then ``$VIGIL_SERVER``, ``$VIGIL_TOKEN``) name."""
    server = server or (None if data_dir else os.environ.get("VIGIL_SERVER"))
    if server:
        token = token or os.environ.get("VIGIL_TOKEN")
        if not token:
            raise ConfigError(f"server {server}: a token is needed (token= or $VIGIL_TOKEN)")
        return RemoteBackend(server, token)
    return LocalBackend(Settings.from_env(data_dir))


class TrainingJobRun:
    """One run of a training job; a context manager that ends it (see the module doc)."""

    def __init__(
        self,
        name: str,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        backend: Backend,
        source: str = "sdk",
        flush_every: int = 100,
        flush_seconds: float = 5.0,
    ) -> None:
        if flush_every < 1 or flush_seconds < 0:
            raise ConfigError("flush_every: expected 1 or more; flush_seconds: 0 or more")
        self.name = name
        self.backend = backend
        self.flush_every, self.flush_seconds = flush_every, flush_seconds
        self.run_id = backend.start(name, hyperparameters or {}, tags or {}, source)
        self.status = "InProgress"
        self.document: dict[str, Any] = {}
        self._pending: list[training.MetricPoint] = []
        self._steps: dict[str, int] = {}
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def log_metric(
        self, name: str, value: float, step: int | None = None, timestamp: datetime | None = None
    ) -> None:
        """Record one value; ``step`` defaults to how many values of ``name`` came before."""
        with self._lock:
            if step is None:
                step = self._steps.get(name, 0)
            self._steps[name] = max(self._steps.get(name, 0), step + 1)
            self._pending.append(training.MetricPoint(name, float(value), step, timestamp))
            due = len(self._pending) >= self.flush_every or (
                time.monotonic() - self._last_flush >= self.flush_seconds
            )
        if due:
            self.flush()

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record several values at one step."""
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def flush(self) -> None:
        """Send the values not sent yet."""
        with self._lock:
            points, self._pending = self._pending, []
            self._last_flush = time.monotonic()
        if points:
            self.backend.metrics(self.run_id, points)

    def end(self, status: str, **fields: Any) -> dict[str, Any]:
        """Flush and move the run to ``status`` (Completed, Failed, Stopped...)."""
        self.flush()
        self.document = self.backend.status(self.run_id, status, **fields)
        self.status = str(self.document.get("status", status))
        return self.document

    def __enter__(self) -> TrainingJobRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                self.end("Completed")
            elif isinstance(exc, KeyboardInterrupt):
                self.end("Stopped")
            elif isinstance(exc, SystemExit) and exc.code in (0, None):
                self.end("Completed")
            else:
                self.end("Failed", failure_reason=f"{type(exc).__name__}: {exc}")
        finally:
            self.backend.close()


def training_job(
    name: str,
    *,
    hyperparameters: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    server: str | None = None,
    token: str | None = None,
    data_dir: str | Path | None = None,
    flush_every: int = 100,
    flush_seconds: float = 5.0,
) -> TrainingJobRun:
    """Start a run of training job ``name``; use it as ``with ... as job:`` (module doc)."""
    return TrainingJobRun(
        name,
        hyperparameters=hyperparameters,
        tags=tags,
        backend=backend(server, token, data_dir),
        flush_every=flush_every,
        flush_seconds=flush_seconds,
    )
