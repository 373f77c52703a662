"""Issue 9 follow-ups: composite alarms and empty rule patterns survive ``vigil apply`` and
``vigil export``; the ``Stopping`` status is one the executions API filters on; the model-quality
side of ``vigil baseline``/``analyze`` reads ``--delimiter`` and ``--encoding``."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from live_server import ADMIN_WRITER_READER, LiveServer
from vigil.metrics.contract import EXECUTION_STATUSES
from vigil.store.executions import list_executions
from vigil.store.models import ExecutionStatus
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]

CONFIG = """\
version: 1
topics:
  - name: t
alarms:
  - name: a
    namespace: ns
    metric_name: m
    statistic: Maximum
    period: 60
    evaluation_periods: 1
    threshold: 0
    comparison_operator: GreaterThanThreshold
    alarm_actions: [t]
  - name: c
    alarm_rule: ALARM("a")
    alarm_actions: [t]
workflows:
  - name: w
    steps:
      - name: s
        target: {type: http, url: "https://example.com/hook"}
rules:
  - name: r
    pattern: {}
    targets:
      - type: workflow
        workflow: w
"""


def _vigil(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    )
    return subprocess.run(
        [*VIGIL, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip


def test_composite_alarm_and_empty_pattern_round_trip_through_apply_and_export(tmp_path: Path):
    (tmp_path / "vigil.yaml").write_text(CONFIG)
    done = _vigil(tmp_path, "apply", "-f", "vigil.yaml", "--data-dir", "d")
    assert done.returncode == 0, done.stderr
    assert "+ alarm c" in done.stdout and "+ rule r" in done.stdout
    done = _vigil(tmp_path, "export", "-o", "exported.yaml", "--data-dir", "d")
    assert done.returncode == 0, done.stderr
    exported = (tmp_path / "exported.yaml").read_text()
    assert 'alarm_rule: ALARM("a")' in exported and "pattern: {}" in exported
    done = _vigil(tmp_path, "apply", "-f", "exported.yaml", "--data-dir", "d")
    assert done.returncode == 0, done.stderr
    assert "created 0, updated 0, unchanged 5" in done.stdout
    alarms = json.loads(_vigil(tmp_path, "alarm", "list", "--output", "json", "--data-dir", "d")
                        .stdout)["alarms"]  # fmt: skip
    composite = {a["name"]: a for a in alarms}["c"]
    assert composite["kind"] == "composite"
    assert composite["definition"]["alarm_rule"] == 'ALARM("a")'


# -- Stopping: in the metric contract, so the executions API filters on it -------------------


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    running = LiveServer(Settings(data_dir=tmp_path / "data"), ADMIN_WRITER_READER)
    yield running
    running.stop()


def test_every_execution_status_of_the_contract_can_be_filtered_on(srv: LiveServer):
    assert set(EXECUTION_STATUSES) == {s.value for s in ExecutionStatus}
    assert not ExecutionStatus.STOPPING.terminal
    assert list_executions(srv.db, status="Stopping") == []
    for status in EXECUTION_STATUSES:
        r = srv.client("reader").get("/executions", params={"status": status})
        assert r.status_code == 200, (status, r.text)
        assert r.json()["executions"] == []


# -- model quality: --delimiter and --encoding -----------------------------------------------


def test_model_quality_reads_a_semicolon_separated_latin1_file(tmp_path: Path):
    rng = random.Random(1)
    rows = ["étiquette;prédiction;score"]
    for _ in range(200):
        label = rng.randint(0, 1)
        score = min(1.0, label * 0.6 + rng.random() * 0.4)
        rows.append(f"{label};{int(score >= 0.5)};{score:.3f}")
    (tmp_path / "mq.csv").write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    common = ["--problem-type", "binary", "--ground-truth-attribute", "étiquette",
              "--inference-attribute", "prédiction", "--probability-attribute", "score",
              "--delimiter", ";", "--encoding", "latin-1"]  # fmt: skip
    done = _vigil(tmp_path, "baseline", "mq.csv", "-o", "mqb", *common)
    assert done.returncode == 0, done.stderr
    assert "BinaryClassification, 200 rows" in done.stdout
    assert (tmp_path / "mqb" / "cbpe.json").is_file()
    done = _vigil(tmp_path, "analyze", "mq.csv", "-b", "mqb", "-o", "mqa", *common)
    assert done.returncode == 0, done.stderr
    assert "no violations" in done.stdout
    stats = json.loads((tmp_path / "mqa" / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 200
