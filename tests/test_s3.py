"""S3 everywhere, against a real S3 API: moto's standalone server on loopback (s3_fixture).

Each artifact is written to the bucket and to a local folder from the same inputs and read
back: what lands in the bucket is byte for byte what lands on disk, and what is read back from
the bucket equals what is read back from disk. The CLI takes ``s3://`` inputs, ``--baseline``
and ``--output``; a missing bucket or key is one line and exit 2; and the demo's whole loop
runs with its captures, reports, ground truth and event archive in the bucket.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from vigil.analysis.baseline import Baseline, suggest_baseline
from vigil.analysis.data_quality import analyze
from vigil.capture import read_window
from vigil.capture.ground_truth import read_ground_truth, write_ground_truth
from vigil.capture.writer import CaptureWriter
from vigil.cli import app
from vigil.io.readers import iter_tables
from vigil.locations import ObjectPath, as_location
from vigil.store.event_archive import append_events, read_archive

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


def _fs() -> Any:
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True)


def _tree(root: Path) -> dict[str, bytes]:
    """relative path -> bytes of every file under a local folder."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _objects(url: str) -> dict[str, bytes]:
    """relative key -> bytes of every object under an s3:// prefix."""
    fs = _fs()
    base = url.removeprefix("s3://").rstrip("/")
    return {k[len(base) + 1:]: fs.cat_file(k) for k in fs.find(base)}


def _csv(path: Path, seed: int, shift: float = 0.0, rows: int = 400) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(10 + shift, 2, rows)
    y = rng.normal(-3, 1, rows)
    kind = rng.choice(["a", "b", "c"], rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["x,y,kind", *(f"{a:.6f},{b:.6f},{k}" for a, b, k in zip(x, y, kind))]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, s3_bucket: str) -> dict[str, Any]:
    """Training and drifted CSVs, on disk and uploaded under ``{bucket}/inputs/``."""
    d = tmp_path_factory.mktemp("s3-inputs")
    train, later = _csv(d / "train.csv", 1), _csv(d / "later" / "window.csv", 2, shift=3.0)
    fs = _fs()
    fs.put_file(str(train), f"{s3_bucket}/inputs/train.csv")
    fs.put_file(str(later), f"{s3_bucket}/inputs/later/window.csv")
    return {"dir": d, "train": train, "later": later, "bucket": s3_bucket}


def test_inputs_resolve_objects_prefixes_and_globs(data: dict[str, Any]) -> None:
    bucket = data["bucket"]
    local = list(iter_tables(str(data["train"])))
    for url in (f"{bucket}/inputs/train.csv", f"{bucket}/inputs/t*.csv"):
        assert [t.to_pydict() for t in iter_tables(url)] == [t.to_pydict() for t in local]
    # a prefix: every data file under it, at any depth, in key order
    for prefix in (f"{bucket}/inputs", f"{bucket}/inputs/"):
        assert sum(t.num_rows for t in iter_tables(prefix)) == 800
    with pytest.raises(ValueError, match=r"s3://vigil-test/inputs/nope\.csv: no such object"):
        list(iter_tables(f"{bucket}/inputs/nope.csv"))


def test_baseline_and_analysis_round_trip_byte_for_byte(
    data: dict[str, Any], tmp_path: Path
) -> None:
    bucket = data["bucket"]
    base = suggest_baseline(str(data["train"]))
    base.save(tmp_path / "base")
    saved = base.save(f"{bucket}/rt/base")
    assert isinstance(saved, ObjectPath) and str(saved) == f"{bucket}/rt/base"
    assert _objects(f"{bucket}/rt/base") == _tree(tmp_path / "base")
    loaded = Baseline.load(f"{bucket}/rt/base")
    assert loaded.statistics.dumps() == Baseline.load(tmp_path / "base").statistics.dumps()
    assert loaded.constraints.dumps() == base.constraints.dumps()
    # the data-quality analysis's outputs (statistics, violations, analysis.json, report.html)
    result = analyze(str(data["later"]), loaded)
    assert result.has_violations  # the shifted x drifts
    result.save(tmp_path / "out")
    result.save(f"{bucket}/rt/out")
    local, remote = _tree(tmp_path / "out"), _objects(f"{bucket}/rt/out")
    assert set(remote) == set(local) >= {"statistics.json", "constraint_violations.json",
                                         "report.html"}
    assert remote == local


def test_captures_written_to_the_bucket_read_back_as_from_disk(
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    records = [(f"{i},{i * 2}", f"0.{i}", T0 + timedelta(minutes=7 * i)) for i in range(20)]
    for destination in (str(tmp_path / "capture"), f"{s3_bucket}/capture"):
        with CaptureWriter("churn", destination=destination) as writer:
            for i, (body, answer, when) in enumerate(records):
                assert writer.capture(body, answer, inference_id=str(i), event_id=f"e{i}",
                                      inference_time=when)
    local = read_window(tmp_path / "capture", "churn", T0, T0 + timedelta(hours=3))
    remote = read_window(f"{s3_bucket}/capture", "churn", T0, T0 + timedelta(hours=3))
    assert remote.records_in_window == local.records_in_window == 20
    assert remote.table.to_pydict() == local.table.to_pydict()
    assert remote.event_ids.to_pylist() == [f"e{i}" for i in range(20)]
    # the same lines in the same hour folders (file names carry a fresh UUID)
    def lines(tree: dict[str, bytes]) -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        for key, blob in tree.items():
            out.setdefault(key.rsplit("/", 1)[0], []).extend(blob.splitlines())
        return {k: sorted(v) for k, v in out.items()}

    assert lines(_objects(f"{s3_bucket}/capture")) == lines(_tree(tmp_path / "capture"))


def test_ground_truth_and_event_archive_round_trip(
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    labels = {f"e{i}": i % 2 for i in range(30)}
    when = T0 + timedelta(minutes=55)
    written = write_ground_truth(f"{s3_bucket}/gt", labels, collected_at=when)
    assert str(written).startswith(f"{s3_bucket}/gt/2024/05/01/10/55-00-000-")
    write_ground_truth(tmp_path / "gt", labels, collected_at=when)
    assert list(_objects(f"{s3_bucket}/gt").values()) == list(_tree(tmp_path / "gt").values())
    window = (T0, T0 + timedelta(hours=1))
    assert (read_ground_truth(f"{s3_bucket}/gt", *window).to_pydict()
            == read_ground_truth(tmp_path / "gt", *window).to_pydict())
    events = [{"id": f"ev{i}", "detail": {"n": i}} for i in range(5)]
    for root in (f"{s3_bucket}/archive", tmp_path):
        assert append_events(root, events[:3], when) == 3
        assert append_events(root, events[3:], when + timedelta(seconds=1)) == 2
    assert list(read_archive(f"{s3_bucket}/archive", when)) == list(read_archive(tmp_path, when))
    assert [e["id"] for e in read_archive(f"{s3_bucket}/archive", when)] == [
        e["id"] for e in events
    ]
    assert list(read_archive(f"{s3_bucket}/archive", when + timedelta(days=1))) == []


def test_empty_and_missing_objects(s3_bucket: str) -> None:
    empty = as_location(f"{s3_bucket}/misc/empty.jsonl")
    assert isinstance(empty, ObjectPath)
    empty.write_bytes(b"")  # S3 refuses a ranged GET of an empty object: read plainly
    assert empty.read_bytes() == b"" and empty.is_file() and empty.parent.is_dir()
    missing = empty.with_name("missing.json")
    assert not missing.exists()
    with pytest.raises(FileNotFoundError, match=r"\[object_not_found\] s3://vigil-test/misc/"):
        missing.read_bytes()


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_cli_reads_and_writes_the_bucket(data: dict[str, Any], tmp_path: Path) -> None:
    bucket = data["bucket"]
    local, remote = tmp_path / "cli", f"{bucket}/cli"
    done = _cli("baseline", str(data["train"]), "--output", str(local / "base"))
    assert done.exit_code == 0, done.output
    done = _cli("baseline", f"{bucket}/inputs/train.csv", "--output", f"{remote}/base")
    assert done.exit_code == 0, done.output
    assert f"written to {remote}/base/statistics.json" in done.output
    assert _objects(f"{remote}/base") == _tree(local / "base")
    done = _cli("analyze", str(data["later"]), "--baseline", str(local / "base"),
                "--output", str(local / "out"))
    assert done.exit_code == 1, done.output  # violations
    done = _cli("analyze", f"{bucket}/inputs/later/*.csv", "--baseline", f"{remote}/base",
                "--output", f"{remote}/out")
    assert done.exit_code == 1, done.output
    assert f"report: {remote}/out/report.html" in done.output
    assert _objects(f"{remote}/out") == _tree(local / "out")


def test_cli_bias_writes_analysis_json_to_the_bucket(s3_bucket: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = [f"{rng.integers(0, 2)},{rng.integers(18, 70)},{rng.integers(0, 2)}" for _ in range(200)]
    (tmp_path / "bias.csv").write_text("label,age,sex\n" + "\n".join(rows) + "\n")
    config = {"dataset_type": "text/csv", "label": "label", "label_values_or_threshold": [1],
              "facet": [{"name_or_index": "sex", "value_or_threshold": [1]}],
              "methods": {"pre_training_bias": {"methods": ["CI", "DPL"]}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    fs = _fs()
    fs.put_file(str(tmp_path / "config.json"), f"{s3_bucket}/bias/config.json")
    fs.put_file(str(tmp_path / "bias.csv"), f"{s3_bucket}/bias/data/bias.csv")
    done = _cli("bias", str(tmp_path / "bias.csv"), "-c", str(tmp_path / "config.json"),
                "-o", str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    done = _cli("bias", f"{s3_bucket}/bias/data/bias.csv", "-c", f"{s3_bucket}/bias/config.json",
                "-o", f"{s3_bucket}/bias/out")
    assert done.exit_code == 0, done.output
    assert _objects(f"{s3_bucket}/bias/out") == _tree(tmp_path / "out")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["baseline", "s3://no-such-bucket/train.csv", "-o", "{tmp}/b"],
         r"s3://no-such-bucket/train\.csv: no such object, prefix or bucket"),
        (["baseline", "{bucket}/inputs/missing.csv", "-o", "{tmp}/b"],
         r"s3://vigil-test/inputs/missing\.csv: no such object, prefix or bucket"),
        (["analyze", "{train}", "--baseline", "{bucket}/no/baseline", "-o", "{tmp}/o"],
         r"s3://vigil-test/no/baseline: baseline directory not found"),
        (["baseline", "{train}", "-o", "s3://no-such-bucket/base"],
         r"\[object_not_found\] s3://no-such-bucket/base/statistics\.json: "
         r"no such object or bucket"),
    ],
)
def test_missing_bucket_or_key_is_one_line_and_exit_2(
    data: dict[str, Any], tmp_path: Path, args: list[str], expected: str
) -> None:
    subs = {"{tmp}": str(tmp_path), "{bucket}": data["bucket"], "{train}": str(data["train"])}
    argv = []
    for a in args:
        for k, v in subs.items():
            a = a.replace(k, v)
        argv.append(a)
    done = _cli(*argv)
    assert done.exit_code == 2, done.output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(expected, lines[0]), done.stderr
    assert "Traceback" not in done.output


def test_demo_loop_keeps_its_files_in_the_bucket(s3_bucket: str, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prefix = f"{s3_bucket}/demo"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
        ),
        "VIGIL_CAPTURE_URI": f"{prefix}/capture",
        "VIGIL_REPORTS_URI": f"{prefix}/reports",
        "VIGIL_BASELINES_URI": f"{prefix}/baselines",
        "VIGIL_GROUND_TRUTH_URI": f"{prefix}/ground-truth",
        "VIGIL_EVENTS_ARCHIVE_URI": prefix,
    }
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "demo", "--exit", "--output", str(tmp_path / "out"),
         "--port", str(port)],
        capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.count("CompletedWithViolations") == 3
    assert f"reports in the bucket: {prefix}/reports/cancer-model/hourly/" in out
    fs = _fs()
    keys = fs.find(prefix.removeprefix("s3://"))
    # captures: each simulated hour holds exactly the 60 requests sent in it
    per_hour: dict[str, int] = {}
    for k in keys:
        if "/capture/cancer-model/AllTraffic/" in k and k.endswith(".jsonl"):
            hour = "/".join(k.split("/")[-5:-1])
            per_hour[hour] = per_hour.get(hour, 0) + len(fs.cat_file(k).splitlines())
    assert sorted(per_hour.values()) == [60] * 7, per_hour
    # reports of both schedules, ground truth and the event archive
    reports = [k for k in keys if "/reports/cancer-model/hourly/" in k]
    assert sum(k.endswith("constraint_violations.json") for k in reports) == 7
    assert sum(k.endswith("report.html") for k in reports) == 7
    quality = [k for k in keys if "/reports/cancer-model/" in k and "/hourly/" not in k]
    assert sum(k.endswith("/statistics.json") for k in quality) == 7, quality
    truth = [k for k in keys if "/ground-truth/" in k]
    assert sum(len(fs.cat_file(k).splitlines()) for k in truth) == 7 * 60
    archived = [k for k in keys if "/events/archive/" in k]
    assert archived and any(b"pipeline" in fs.cat_file(k) for k in archived)
    # the registered baselines, which every execution read from the bucket
    kept = {k.split("/baselines/", 1)[1] for k in keys if "/baselines/" in k}
    assert {"cancer-train/statistics.json", "cancer-train/constraints.json"} <= kept, kept
    # nothing of that went to the data directory
    data_dir = tmp_path / "out" / "data"
    assert not any((data_dir / d).exists()
                   for d in ("capture", "reports", "ground-truth", "baselines"))
    assert not (data_dir / "events").exists()
    # the executions' outputs read back from the bucket: the drifting hours 4 to 6 violate
    found = sorted(k for k in reports if k.endswith("constraint_violations.json"))
    docs = [json.loads(as_location(f"s3://{k}").read_text()) for k in found]
    assert [bool(d["violations"]) for d in docs] == [False] * 3 + [True] * 3 + [False]


def test_server_ingests_into_and_serves_outputs_from_the_bucket(
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    from live_server import LiveServer
    from vigil.store.settings import Settings

    prefix = f"{s3_bucket}/srv"
    settings = Settings(data_dir=tmp_path / "data", capture_root=f"{prefix}/capture",
                        reports_root=f"{prefix}/reports", ground_truth_root=f"{prefix}/gt",
                        baselines_root=f"{prefix}/baselines")
    rng = np.random.default_rng(3)
    train = tmp_path / "data" / "train.csv"
    train.parent.mkdir(parents=True)
    train.write_text("".join(f"{a:.4f},{b:.4f}\n" for a, b in rng.normal(0, 1, (300, 2))))
    suggest_baseline(str(train), header=False).save(tmp_path / "data" / "base")
    with LiveServer(settings, {"admin": "admin"}) as srv:
        c = srv.client("admin")
        assert c.post("/endpoints", json={"name": "churn"}).status_code == 201
        made = c.post("/baselines", json={"name": "b", "endpoint": "churn",
                                          "path": str(tmp_path / "data" / "base")})
        assert made.status_code == 201 and made.json()["uri"] == f"{prefix}/baselines/b", made.text
        assert _objects(f"{prefix}/baselines/b") == _tree(tmp_path / "data" / "base")
        assert c.post("/schedules", json={"name": "hourly", "endpoint": "churn", "baseline": "b",
                                          "expression": "cron(0 * ? * * *)"}).is_success
        records = [{"input": [float(a) + 4, float(b)], "content_type": "text/csv",
                    "inference_time": (T0 + timedelta(minutes=i)).isoformat(),
                    "inference_id": f"i{i}"} for i, (a, b) in enumerate(rng.normal(0, 1, (50, 2)))]
        assert c.post("/endpoints/churn/captures", json={"records": records}).json()["stored"] == 50
        labels = {"records": [{"event_id": f"i{i}", "label": i % 2} for i in range(50)]}
        assert c.post("/ground-truth", json=labels).json() == {"stored": 50, "files": 1}
        ran = c.post("/schedules/hourly/run", json={
            "window_start": T0.isoformat(), "window_end": (T0 + timedelta(hours=1)).isoformat()})
        ex = ran.json()
        assert ex["status"] == "CompletedWithViolations" and ex["records_read"] == 50, ex
        assert {"statistics.json", "constraint_violations.json", "report.html"} <= set(
            ex["outputs"])
        stored = _objects(f"{prefix}/reports/churn/hourly/2024/05/01/11")  # the scheduled hour
        for name in ("constraint_violations.json", "report.html"):
            served = c.get(f"/executions/{ex['id']}/outputs/{name}")
            assert served.status_code == 200 and served.content == stored[name]
        assert c.get(f"/executions/{ex['id']}/outputs/anomalies.json").status_code == 404
    gt = read_ground_truth(f"{prefix}/gt", datetime.now(timezone.utc) - timedelta(hours=1),
                           datetime.now(timezone.utc) + timedelta(hours=1))
    assert sorted(gt.column("event_id").to_pylist()) == sorted(f"i{i}" for i in range(50))
    assert not (tmp_path / "data" / "capture").exists()
    assert not (tmp_path / "data" / "reports").exists()
    assert not (tmp_path / "data" / "baselines").exists()


def test_apply_registers_baselines_kept_in_the_bucket(data: dict[str, Any], tmp_path: Path) -> None:
    bucket = data["bucket"]
    suggest_baseline(str(data["train"])).save(f"{bucket}/registry/sagemaker")
    (tmp_path / "vigil.yaml").write_text(f"""version: 1
endpoints:
  - name: churn
baselines:
  - name: from-files
    endpoint: churn
    path: {bucket}/registry/sagemaker
  - name: from-data
    endpoint: churn
    path: {bucket}/inputs/train.csv
""")
    done = _cli("apply", "-f", str(tmp_path / "vigil.yaml"), "--data-dir", str(tmp_path / "d"))
    assert done.exit_code == 0, done.output
    kept = tmp_path / "d" / "baselines"
    assert _tree(kept / "from-files") == _objects(f"{bucket}/registry/sagemaker")
    # built from the object as from the local file
    local = tmp_path / "local-base"
    suggest_baseline(str(data["train"])).save(local)
    assert _tree(kept / "from-data") == _tree(local)


def test_baselines_uri_keeps_registered_baselines_in_the_bucket(
    data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With VIGIL_BASELINES_URI, `vigil apply` builds and copies baselines into the bucket
    (what a `vigil worker` on another machine reads), not into the data directory."""
    bucket = data["bucket"]
    root = f"{bucket}/shared-baselines"
    monkeypatch.setenv("VIGIL_BASELINES_URI", root)
    (tmp_path / "vigil.yaml").write_text(f"""version: 1
endpoints:
  - name: churn
baselines:
  - name: built
    endpoint: churn
    path: {data["train"]}
""")
    done = _cli("apply", "-f", str(tmp_path / "vigil.yaml"), "--data-dir", str(tmp_path / "d"))
    assert done.exit_code == 0, done.output
    assert not (tmp_path / "d" / "baselines").exists()
    local = tmp_path / "local-base"
    suggest_baseline(str(data["train"])).save(local)
    assert _objects(f"{root}/built") == _tree(local)
    from vigil.store import BaselineRecord, Database

    db = Database(f"sqlite:///{tmp_path / 'd' / 'vigil.db'}")
    with db.session() as s:
        record = s.get(BaselineRecord, "built")
        assert record is not None and record.uri == f"{root}/built"
    # what an execution (on any machine) loads from the record
    assert Baseline.load(record.uri).statistics.to_dict() == Baseline.load(
        local).statistics.to_dict()


def test_a_fetch_scope_removes_what_it_fetched_once_no_scope_holds_it(
    data: dict[str, Any], tmp_path: Path
) -> None:
    """A long-lived server's cache of fetched inputs does not grow: registering a baseline
    built from a bucket leaves no copy behind; a copy two scopes hold stays until both end;
    outside any scope (the CLI) a copy stays for the process."""
    from vigil.app.catalog import register_baseline
    from vigil.app.config.catalog import BaselineSpec
    from vigil.io.remote import cached_copies, fetch_inputs, fetch_scope
    from vigil.store import Database
    from vigil.store.settings import Settings

    bucket = data["bucket"]
    fs = _fs()
    fs.put_file(str(data["train"]), f"{bucket}/scoped/train.csv")
    url = f"{bucket}/scoped/train.csv"

    def copies() -> list[Path]:
        return [p for p in cached_copies() if "scoped" in p.parts]

    assert copies() == []
    with fetch_scope():
        first = fetch_inputs(url, (".csv",))
        assert first[0].read_bytes() == data["train"].read_bytes()
        with fetch_scope():  # the same object in a second scope: one copy, kept for both
            assert fetch_inputs(url, (".csv",)) == first
        assert first[0].is_file() and copies() == first
    assert copies() == [] and not first[0].exists()
    assert not first[0].parent.exists()  # its folders go with it
    # a new version of the object is a new copy (never the old one's file)
    with fetch_scope():
        old = fetch_inputs(url, (".csv",))[0]
        fs.put_file(str(data["later"]), url)
        new = fetch_inputs(url, (".csv",))[0]
        assert new != old and new.read_bytes() == data["later"].read_bytes()
        assert old.read_bytes() == data["train"].read_bytes()
    assert copies() == []
    # the server's registration of a baseline built from the bucket
    settings = Settings(data_dir=tmp_path / "d")
    db = Database(f"sqlite:///{tmp_path / 'd.db'}")
    db.create_all()
    register_baseline(settings, db, BaselineSpec(name="scoped", path=url))
    assert (tmp_path / "d" / "baselines" / "scoped" / "statistics.json").is_file()
    assert copies() == []
    # outside a scope (a CLI process) the copy stays until the process exits
    kept = fetch_inputs(url, (".csv",))
    assert copies() == kept
