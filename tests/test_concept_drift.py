"""Detectors fed window by window keep their state: many windows make one stream."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from river import drift as river_drift
from sqlalchemy import select

from vigil.monitor.detector_feed import feed
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import Event

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_windows_fed_separately_fire_where_one_stream_does(tmp_path: Path):
    rng = np.random.default_rng(5)
    errors = np.r_[rng.uniform(size=3000) < 0.1, rng.uniform(size=3000) < 0.4].astype(float)
    scores = np.r_[rng.normal(0.3, 0.1, 3000), rng.normal(0.6, 0.1, 3000)]
    times = [T0 + timedelta(seconds=i) for i in range(len(errors))]
    ids = [f"r{i}" for i in range(len(errors))]
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    db.create_all()
    store = MetricStore(db)
    found = []
    for start in range(0, len(errors), 700):  # nine executions of 700 records
        sl = slice(start, start + 700)
        for d in feed(
            db,
            store,
            endpoint="e",
            schedule="s",
            streams={"error": errors[sl], "score": scores[sl]},
            times=times[sl],
            record_ids=ids[sl],
        ):
            found.append((d.stream, d.detector, start + d.index))
    expected = []
    for stream, values, name, det in (
        ("error", errors, "HDDM_A", river_drift.binary.HDDMA()),
        ("error", errors, "ADWIN", river_drift.ADWIN()),
        ("score", scores, "PageHinkley", river_drift.PageHinkley()),
    ):
        for i, v in enumerate(values):
            det.update(v)
            if det.drift_detected:
                expected.append((stream, name, i))
    assert sorted(found) == sorted(expected)
    assert any(i >= 3000 for _, _, i in found), "the change at record 3000 was detected"
    assert not [i for s, n, i in found if n == "HDDM_A" and i < 3000], "no false alarm"
    with db.session() as s:
        events = list(s.scalars(select(Event)))
    assert len(events) == len(found)
    first = min((i for _, _, i in found))
    assert f"r{first}" in {e.detail["record_id"] for e in events}
    rows = store.query(
        "vigil/ConceptDrift",
        "concept_drift_detected",
        None,
        T0,
        T0 + timedelta(hours=3),
        10800,
        ["Sum"],
    )
    assert rows[0]["Sum"] == len(found)
