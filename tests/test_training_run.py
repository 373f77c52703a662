"""``vigil run`` and ``vigil.training_job`` on a local data directory: real subprocesses,
figures checked against what the child measures of itself (getrusage, /proc)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import vigil
from vigil.app.bootstrap import open_database
from vigil.app.training_queries import curve, get_job
from vigil.store.metrics import MetricStore
from vigil.store.models import Event
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]

TRAIN = r"""
import resource, sys, time
for i in range(4):
    print(f"epoch {i} val_loss: {0.5 / (i + 1):.3e}", flush=True)
    print(f"[{i}]\ttrain-rmse:1.2\tvalidation-rmse:{2.0 - i}", file=sys.stderr, flush=True)
print("val_loss: 1.2.3", flush=True)
block = bytearray(200 << 20)
for k in range(0, len(block), 4096):
    block[k] = 1
rss = int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) * 1024
t = time.process_time()
while time.process_time() - t < 0.4:
    pass
time.sleep(0.6)
u = resource.getrusage(resource.RUSAGE_SELF)
print(f"SELF {u.ru_utime + u.ru_stime} {rss}", file=sys.stderr, flush=True)
sys.exit(int(sys.argv[1]))
"""


def _run(tmp_path: Path, code: int) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    cmd = [*VIGIL, "run", "--data-dir", str(tmp_path / "d"), "--job", "churn-train",
           "--metric-definition", "validation:loss=val_loss: ([-+0-9.eE]+)",
           "--metric-definition", r"validation:rmse=.*\[[0-9]+\].*#011validation-rmse:(\S+)",
           "--hyperparameter", "lr=0.1", "--", sys.executable, str(script), str(code)]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_run_streams_parses_measures_and_stores_the_log(tmp_path: Path) -> None:
    done = _run(tmp_path, 0)
    assert done.returncode == 0, done.stderr
    first = ["epoch 0 val_loss: 5.000e-01", "epoch 1 val_loss: 2.500e-01"]
    assert done.stdout.splitlines()[:2] == first
    assert "validation:loss: matched 5 lines, 1 unparsable" in done.stderr
    assert "validation:rmse: matched 4 lines, 0 unparsable" in done.stderr
    self_cpu, self_rss = map(float, done.stderr.split("SELF ")[1].split()[:2])
    db = open_database(Settings(data_dir=tmp_path / "d"))
    job = get_job(db, "churn-train")
    assert job["status"] == "Completed" and job["exit_code"] == 0
    assert job["hyperparameters"] == {"lr": "0.1"}
    assert job["cpu_seconds"] >= self_cpu * 0.95  # the tree holds at least the child itself
    assert job["peak_rss_bytes"] >= self_rss * 0.9
    points = curve(db, "churn-train", "validation:loss")
    assert [p["value"] for p in points] == [float(f"{0.5 / (i + 1):.3e}") for i in range(4)]
    log = Path(job["log_path"]).read_text()
    assert "epoch 3 val_loss" in log and "validation-rmse:-1.0" in log
    rows = MetricStore(db).list_metrics(namespace="/aws/sagemaker/TrainingJobs")
    assert {(n, dict(d)["TrainingJobName"]) for _, n, d in rows} == {
        ("validation:loss", "churn-train"), ("validation:rmse", "churn-train")}


def test_a_failing_program_fails_the_job_with_its_exit_status_and_stderr(tmp_path: Path) -> None:
    done = _run(tmp_path, 3)
    assert done.returncode == 3
    db = open_database(Settings(data_dir=tmp_path / "d"))
    job = get_job(db, "churn-train")
    assert job["status"] == "Failed" and job["failure_reason"].startswith("exit status 3: ")
    assert "SELF" in job["failure_reason"]
    with db.session() as s:
        details = [e.detail for e in s.query(Event).filter_by(kind="training_job_state_change")]
    assert [d["TrainingJobStatus"] for d in details] == ["InProgress", "Failed"]
    assert details[-1]["FailureReason"] == job["failure_reason"]
    assert {m["MetricName"] for m in details[-1]["FinalMetricDataList"]} == {
        "validation:loss", "validation:rmse"}


def test_a_regex_that_does_not_compile_stops_before_the_program_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cmd = [*VIGIL, "run", "--data-dir", str(tmp_path / "d"), "--job", "j",
           "--metric-definition", "loss=loss=(", "--", "touch", str(marker)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and not marker.exists()
    assert done.stderr.count("\n") == 1 and "'loss'" in done.stderr


def test_sdk_marks_failed_and_stopped_and_batches(tmp_path: Path) -> None:
    d = tmp_path / "d"
    with (
        pytest.raises(ValueError, match="boom"),
        vigil.training_job("sdk", data_dir=d, flush_every=1000) as job,
    ):
        for s in range(5):
            job.log_metric("train:loss", 1.0 / (s + 1))
        raise ValueError("boom")
    assert job.status == "Failed"
    assert job.document["failure_reason"] == "ValueError: boom"
    assert [p["step"] for p in curve(open_database(Settings(data_dir=d)), job.run_id,
                                     "train:loss")] == [0, 1, 2, 3, 4]  # fmt: skip
    with pytest.raises(KeyboardInterrupt), vigil.training_job("sdk", data_dir=d) as stopped:
        raise KeyboardInterrupt
    assert stopped.status == "Stopped"
    out = subprocess.run([*VIGIL, "jobs", "list", "--data-dir", str(d), "--output", "json"],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert [j["status"] for j in json.loads(out.stdout)["jobs"]] == ["Stopped", "Failed"]
