"""What a monitoring execution runs with: settings, database, metric store, worker id."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.settings import Settings

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """What executions need: settings, database, metric store and this worker's id."""

    settings: Settings
    db: Database
    metrics: MetricStore
    owner: str
