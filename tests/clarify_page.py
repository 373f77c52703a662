"""The endpoint page's bias and attribution charts checked against the metric store, for the
bias and explainability monitor tests: ``assert_charted(rt, endpoint, schedule, namespace,
windows, start, end)`` renders the page through the real app (signed in with a read token)
and checks a chart per stored metric of the schedule, a line per facet or feature, one point
per window, each value what the store holds for that series and hour."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vigil.metrics import contract as mc
from vigil.server.app import create_app
from vigil.server.auth import create_token

SPEC = re.compile(r'<script type="application/json" class="chart-spec">(.*?)</script>', re.S)


def assert_charted(
    rt: Any, endpoint: str, schedule: str, namespace: str, windows: int, start: datetime,
    end: datetime,
) -> None:
    client = TestClient(create_app(rt.settings, rt.db))
    token = create_token(rt.db, f"page-{uuid.uuid4().hex[:8]}", "read")
    assert client.post("/signin", data={"token": token}, follow_redirects=False).status_code == 303
    page = client.get(f"/endpoints/{endpoint}",
                      params={"from": start.isoformat(), "to": end.isoformat()})  # fmt: skip
    assert page.status_code == 200
    prefix = f"{namespace.rsplit('/', 1)[-1]}-{schedule}-"  # the page's chart ids
    mine = [s for s in map(json.loads, SPEC.findall(page.text)) if s["id"].startswith(prefix)]
    found = [(n, dict(d)) for _, n, d in rt.metrics.list_metrics(namespace=namespace)
             if d.get(mc.MONITORING_SCHEDULE) == schedule]  # fmt: skip
    assert mine and {s["y"]["label"] for s in mine} == {n for n, _ in found}, schedule
    for spec in mine:
        name = spec["y"]["label"]
        labels = {", ".join(f"{k}={v}" for k, v in sorted(d.items())
                            if k not in mc.SCHEDULE_DIMENSIONS) or name: d
                  for n, d in found if n == name}  # fmt: skip
        for line in spec["series"]:
            rows = rt.metrics.query(namespace, name, labels[line["label"]],
                                    start - timedelta(hours=1), end, 3600, ["Average"])
            assert len(line["x"]) == windows, (schedule, name, line["label"])
            assert line["x"] == [r["Timestamp"].timestamp() for r in rows]
            assert line["y"] == pytest.approx([r["Average"] for r in rows], rel=1e-9), (
                schedule, name, line["label"])
