"""Concept drift across executions: streaming detectors fed record by record, state kept.

A model-quality execution feeds each detector the records of its window in inference-time
order: the per-record error stream (0/1 errors for classification, absolute error for
regression) and the score (or prediction) stream (:mod:`vigil.monitor.drift_streams`). Each
detector's state is stored per (schedule, stream, detector) after the window, so a stream
spanning many windows is one stream. A detection becomes a datapoint of
:data:`~vigil.metrics.contract.CONCEPT_DRIFT_DETECTED` at the record's time and an ``Event``
(kind ``concept_drift``) naming the record.

The default detectors are ADWIN and HDDM_A on the error stream and PageHinkley on the score
stream; DDM is available but raises false alarms on low error rates (one short run of errors
after its 30-record warm start), so it is not a default. ``config.detectors`` on a schedule
picks others, e.g. ``{"error": ["DDM", "EDDM"], "score": ["KSWIN"]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

import vigil.checks.detectors as detectors_module
from vigil.checks.detectors import DriftDetector
from vigil.checks.detectors import __all__ as DETECTOR_NAMES
from vigil.errors import ConfigError
from vigil.monitor.emission import concept_drift_datum
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import DetectorState, Event

__all__ = ["DEFAULT_DETECTORS", "Detection", "as_utc_list", "feed"]

DEFAULT_DETECTORS: dict[str, tuple[str, ...]] = {
    "error": ("ADWIN", "HDDM_A"),
    "score": ("PageHinkley",),
}


@dataclass(frozen=True)
class Detection:
    """One drift found by one detector at one record."""

    stream: str
    detector: str
    index: int
    time: datetime
    record_id: str | None


def _new(name: str) -> DriftDetector:
    if name not in DETECTOR_NAMES or name == "DriftDetector":
        raise ConfigError(
            f"detector {name!r}: expected one of "
            f"{', '.join(n for n in DETECTOR_NAMES if n != 'DriftDetector')}"
        )
    detector: DriftDetector = getattr(detectors_module, name)()
    return detector


def feed(
    db: Database,
    metrics: MetricStore,
    *,
    endpoint: str,
    schedule: str,
    streams: Mapping[str, np.ndarray],
    times: Sequence[datetime],
    record_ids: Sequence[str | None],
    detectors: Mapping[str, Sequence[str]] | None = None,
) -> list[Detection]:
    """Feed each stream to its detectors (restoring and saving their state); record every
    detection as a metric and an event, and return them."""
    chosen = detectors or DEFAULT_DETECTORS
    found: list[Detection] = []
    with db.session() as s:
        for stream, names in chosen.items():
            values = streams.get(stream)
            if values is None:
                continue
            for name in names:
                row = s.get(DetectorState, (schedule, stream, name))
                detector = (
                    DriftDetector.from_state(row.state)
                    if row is not None and row.state
                    else _new(name)
                )
                for i, v in enumerate(np.asarray(values, dtype=float)):
                    if not np.isfinite(v):
                        continue
                    detector.update(float(v))
                    if detector.drift_detected:
                        found.append(Detection(stream, name, i, times[i], record_ids[i]))
                if row is None:
                    row = DetectorState(schedule_name=schedule, stream=stream, detector=name)
                    s.add(row)
                row.state = detector.to_state()
                row.last_time = times[-1] if len(times) else None
        for d in found:
            s.add(
                Event(
                    kind="concept_drift",
                    endpoint_name=endpoint,
                    schedule_name=schedule,
                    time=d.time,
                    detail={
                        "stream": d.stream,
                        "detector": d.detector,
                        "record_id": d.record_id,
                        "index_in_window": d.index,
                    },
                )
            )
    metrics.put(
        [concept_drift_datum(endpoint, schedule, d.detector, d.stream, d.time) for d in found]
    )
    return found


def as_utc_list(values: Any) -> list[datetime]:
    """Arrow timestamps (or datetimes) as aware UTC datetimes."""
    out = []
    for v in values:
        out.append(v if v.tzinfo else v.replace(tzinfo=timezone.utc))
    return out
