"""Input correctness (issue 9, item 9): UTC filing of inference times, 422 on out-of-range
dates and rates, the CLI's exit 2 on one line, BOM, --delimiter/--encoding, ``vigil apply``
paths and --dry-run, alarm actions naming missing topics, baselines without constraints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from live_server import ADMIN_WRITER_READER, LiveServer
from vigil.capture.window import read_window
from vigil.capture.writer import CaptureWriter
from vigil.errors import ConfigError, InputError
from vigil.schedule import parse_offset, parse_schedule
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
NDJSON = {"content-type": "application/x-ndjson"}


def _line(event: str, when: str) -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv", "mode": "INPUT",
                    "data": "1.0,2.0", "encoding": "CSV",
                }
            },
            "eventMetadata": {"eventId": event, "inferenceTime": when},
            "eventVersion": "0",
        }
    )  # fmt: skip


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(data_dir=tmp_path / "data", max_body_bytes=1 << 20)
    running = LiveServer(settings, ADMIN_WRITER_READER)
    yield running
    running.stop()


def _in_data_dir(srv: LiveServer, baseline: Path) -> str:
    """A copy of ``baseline`` where API paths may point (under the data directory)."""
    target = Path(srv.settings.baselines_root) / "incoming" / baseline.name
    shutil.copytree(baseline, target)
    return str(target)


def _hours(root: Path) -> dict[str, int]:
    """Records per hour folder ``yyyy/mm/dd/hh`` under ``root``."""
    counts: dict[str, int] = {}
    for f in root.rglob("*.jsonl"):
        hour = "/".join(f.relative_to(root).parts[:4])
        counts[hour] = counts.get(hour, 0) + len(f.read_text().splitlines())
    return counts


# -- inference times filed by their UTC hour -------------------------------------------------


def test_an_offset_inference_time_is_filed_and_read_in_its_utc_hour(srv: LiveServer):
    api = srv.client("writer")
    assert api.post("/endpoints", json={"name": "ep"}).status_code == 201
    body = "\n".join(
        [
            _line("z", "2024-05-01T14:10:00Z"),  # same first 13 characters as the next
            _line("offset", "2024-05-01T14:30:00+05:00"),  # 09:30 UTC
            _line("naive", "2024-05-01T09:45:00"),  # no offset: UTC
        ]
    )
    assert api.post("/endpoints/ep/captures", content=body, headers=NDJSON).status_code == 200
    plain = {"records": [{"input": "1.0,2.0", "content_type": "text/csv", "event_id": "plain",
                          "inference_time": "2024-05-01T11:15:00+02:00"}]}  # fmt: skip
    assert api.post("/endpoints/ep/captures", json=plain).status_code == 200
    root = Path(srv.settings.capture_root) / "ep" / "AllTraffic"
    assert _hours(root) == {"2024/05/01/09": 3, "2024/05/01/14": 1}
    window = read_window(
        srv.settings.capture_root, "ep", "2024-05-01T09:00:00Z", "2024-05-01T10:00:00Z"
    )
    assert sorted(window.event_ids.to_pylist()) == ["naive", "offset", "plain"]


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:30:00+05:00", "9999-12-31T23:30:00-05:00",
     "1969-12-31T23:59:59Z"],
)  # fmt: skip
def test_out_of_range_inference_times_are_422_naming_the_field(srv: LiveServer, when: str):
    api = srv.client("writer")
    api.post("/endpoints", json={"name": "ep"})
    r = api.post("/endpoints/ep/captures", content=_line("e", when), headers=NDJSON)
    assert r.status_code == 422, r.text
    assert "line 1: eventMetadata.inferenceTime" in r.json()["error"]["message"]
    assert "out of range" in r.json()["error"]["message"]
    plain = {"records": [{"input": "1", "content_type": "text/csv", "inference_time": when}]}
    r = api.post("/endpoints/ep/captures", json=plain)
    assert r.status_code == 422, r.text
    assert "records[0].inference_time" in r.json()["error"]["message"]


def test_sdk_files_an_aware_inference_time_under_its_utc_hour_and_refuses_year_1(tmp_path):
    from datetime import timedelta

    with CaptureWriter("ep", destination=tmp_path, recover_on_start=False) as w:
        when = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=5)))
        assert w.capture("1,2", "0.5", inference_time=when)
        with pytest.raises(InputError, match="inference_time"):
            w.capture("1,2", "0.5", inference_time=datetime(1, 1, 1))
    assert _hours(tmp_path / "ep" / "AllTraffic") == {"2024/05/01/09": 1}


# -- out-of-range rates and offsets -----------------------------------------------------------


def test_rates_and_offsets_are_bounded():
    for text in ("rate(999999999999 days)", "rate(3651 days)", "rate(5256001 minutes)"):
        with pytest.raises(ConfigError, match="at most"):
            parse_schedule(text)
    assert parse_schedule("rate(3650 days)").next_after(datetime(2024, 1, 1)).year == 2029
    for text in ("-P99999999999999D", "PT999999999999999999H", "P3651D"):
        with pytest.raises(ConfigError, match="at most 3650 days"):
            parse_offset(text)


def test_a_huge_rate_over_the_api_is_422_naming_expression(srv: LiveServer):
    api = srv.client("writer")
    body = {"name": "s", "endpoint": "ep", "baseline": "b", "expression": "rate(999999999999 days)"}
    r = api.post("/schedules", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith("expression")
    r = api.post("/schedules", json={**body, "expression": "rate(1 hour)",
                                      "window_start_offset": "-P99999999999D"})  # fmt: skip
    assert r.status_code == 422, r.text
    assert "window_start_offset" in r.json()["error"]["message"]


# -- alarms naming missing topics; baselines without constraints.json -------------------------


ALARM = {
    "name": "a", "namespace": "ns", "metric_name": "m", "statistic": "Maximum", "period": 60,
    "evaluation_periods": 1, "threshold": 0.0, "comparison_operator": "GreaterThanThreshold",
}  # fmt: skip


def test_an_alarm_naming_a_missing_topic_is_refused(srv: LiveServer):
    api = srv.client("admin")
    r = api.post("/alarms", json={**ALARM, "ok_actions": ["nosuch"]})
    assert r.status_code == 422, r.text
    assert "ok_actions[0] 'nosuch'" in r.json()["error"]["message"]
    assert api.get("/alarms").json()["alarms"] == []
    assert api.post("/topics", json={"name": "team"}).status_code in (200, 201)
    assert api.post("/alarms", json={**ALARM, "alarm_actions": ["team"]}).status_code == 201


def test_a_schedule_whose_default_alarms_name_a_missing_topic_is_refused(
    srv: LiveServer, sagemaker_baseline: Path
):
    api = srv.client("admin")
    api.post("/endpoints", json={"name": "ep"})
    path = _in_data_dir(srv, sagemaker_baseline)
    assert api.post("/baselines", json={"name": "b", "path": path}).is_success
    body = {"name": "s", "endpoint": "ep", "baseline": "b", "expression": "rate(1 hour)",
            "config": {"default_alarm_actions": ["nosuch"]}}  # fmt: skip
    r = api.post("/schedules", json=body)
    assert r.status_code == 422, r.text
    assert "default_alarm_actions" in r.json()["error"]["message"]
    assert "'nosuch'" in r.json()["error"]["message"]


def test_a_baseline_directory_without_constraints_is_an_error(
    srv: LiveServer, tmp_path: Path, sagemaker_baseline: Path
):
    (sagemaker_baseline / "constraints.json").unlink()
    body = {"name": "b", "path": _in_data_dir(srv, sagemaker_baseline)}
    r = srv.client("admin").post("/baselines", json=body)
    assert r.status_code == 422, r.text
    assert "constraints.json: missing" in r.json()["error"]["message"]
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    done = _vigil(tmp_path, "analyze", str(data), "-b", str(sagemaker_baseline), "-o", "out")
    assert done.returncode == 2 and "constraints.json: missing" in done.stderr
    assert len(done.stderr.splitlines()) == 1


# -- the CLI: exit 2 and one line for every bad input, output or option ------------------------


def _vigil(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``vigil ARGS`` run in ``cwd`` (relative PYTHONPATH entries made absolute first)."""
    path = os.pathsep.join(
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    )
    return subprocess.run(
        [*VIGIL, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "60", "PYTHONPATH": path},
    )  # fmt: skip


def _one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("vigil: error: ") and "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "ok.csv").write_text("a,b\n1,x\n2,y\n3,z\n")
    (tmp_path / "latin.csv").write_bytes("a,b\n1,caf\xe9\n2,y\n".encode("latin-1"))
    (tmp_path / "afile").write_text("not a directory")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["baseline", "latin.csv", "-o", "o"], ["latin.csv", "not utf-8", "--encoding"]),
        (["baseline", "ok.csv", "-o", "afile/sub"], ["--output afile/sub", "cannot write"]),
        (["baseline", "ok.csv", "-o", "o", "--feature-drift", "a=psi:abc"], ["a=psi:abc"]),
        (["baseline", "ok.csv", "-o", "o", "--feature-drift", "a=psi:-1"], [">= 0"]),
        (["baseline", "ok.csv", "-o", "o", "--feature-drift", "a=psi:nan"], [">= 0"]),
        (["baseline", "ok.csv", "-o", "o", "--feature-drift", "a=psi:"], ["a=psi:"]),
        (["baseline", "ok.csv", "-o", "o", "--capture-content", "xyz"], ["--capture-content"]),
        (["baseline", "ok.csv", "-o", "o", "--delimiter", ";;"], ["--delimiter"]),
        (["baseline", "ok.csv", "-o", "o", "--encoding", "nosuch"], ["--encoding 'nosuch'"]),
        (["apply", "-f", "missing.yaml", "--data-dir", "d"], ["missing.yaml"]),
    ],
)
def test_bad_inputs_outputs_and_options_exit_2_on_one_line(
    files: Path, args: list[str], words: list[str]
):
    _one_line_error(_vigil(files, *args), *words)


def test_export_to_an_unwritable_output_exits_2(files: Path):
    # export reads an installation: where there is none it refuses and creates nothing
    missing = _vigil(files, "export", "-o", "afile/vigil.yaml", "--data-dir", "d")
    _one_line_error(missing, "no Vigil installation in data directory d")
    assert not (files / "d").exists()
    assert _vigil(files, "token", "create", "--name", "x", "--data-dir", "d").returncode == 0
    _one_line_error(
        _vigil(files, "export", "-o", "afile/vigil.yaml", "--data-dir", "d"),
        "--output afile/vigil.yaml",
    )


def test_analyze_with_an_unwritable_output_or_non_utf8_input_exits_2(files: Path):
    assert _vigil(files, "baseline", "ok.csv", "-o", "b").returncode == 0
    _one_line_error(_vigil(files, "analyze", "ok.csv", "-b", "b", "-o", "afile/x"), "--output")
    _one_line_error(_vigil(files, "analyze", "latin.csv", "-b", "b", "-o", "o"), "--encoding")


def _names(directory: Path) -> list[str]:
    stats = json.loads((directory / "statistics.json").read_text())
    return [f["name"] for f in stats["features"]]


def test_bom_is_stripped_and_delimiter_and_encoding_are_read(files: Path):
    (files / "bom.csv").write_bytes(b"\xef\xbb\xbfa,b\n1,x\n2,y\n")
    assert _vigil(files, "baseline", "bom.csv", "-o", "bom").returncode == 0
    assert _names(files / "bom") == ["a", "b"]
    for name, sep, option in (("semi", ";", "semicolon"), ("space", " ", "space"),
                              ("tab", "\t", "tab"), ("semi2", ";", ";")):  # fmt: skip
        path = files / f"{name}.csv"
        path.write_text(f"a{sep}b\n1{sep}x\n2{sep}y\n")
        done = _vigil(files, "baseline", path.name, "-o", name, "--delimiter", option)
        assert done.returncode == 0, done.stderr
        assert _names(files / name) == ["a", "b"]
    done = _vigil(files, "baseline", "latin.csv", "-o", "lat", "--encoding", "latin-1")
    assert done.returncode == 0, done.stderr
    stats = (files / "lat" / "statistics.json").read_text(encoding="utf-8")
    assert "café" in stats
    done = _vigil(files, "analyze", "semi.csv", "-b", "semi", "-o", "an", "--delimiter", ";")
    assert done.returncode == 0, done.stderr


# -- vigil apply: paths resolved once; --dry-run validates as apply does -----------------------


def _demo_like(tmp_path: Path) -> Path:
    folder = tmp_path / "demo-output"
    (folder / "train").mkdir(parents=True)
    shutil.copy(tmp_path / "ok.csv", folder / "train" / "train.csv")
    (folder / "vigil.yaml").write_text(
        "version: 1\nendpoints:\n  - name: ep\nbaselines:\n  - name: b\n    endpoint: ep\n"
        "    path: train/train.csv\nschedules:\n  - name: s\n    endpoint: ep\n"
        "    baseline: b\n    expression: rate(1 hour)\n"
    )
    return folder


def test_apply_resolves_relative_paths_against_the_file_once(files: Path):
    _demo_like(files)
    done = _vigil(files, "apply", "-f", "demo-output/vigil.yaml", "--data-dir", "d")
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("  - name: s2\n    endpoint: nosuch\n    baseline: b\n    expression: rate(1 hour)\n",
         ["endpoint 'nosuch'"]),
        ("  - name: s2\n    endpoint: ep\n    baseline: b\n    expression: rate(1 hour)\n"
         "    config:\n      default_alarm_actions: [nosuch]\n",
         ["default_alarm_actions", "nosuch"]),
    ],
)  # fmt: skip
def test_dry_run_refuses_what_apply_refuses(files: Path, extra: str, words: list[str]):
    folder = _demo_like(files)
    yaml = folder / "vigil.yaml"
    yaml.write_text(yaml.read_text() + extra)
    for dry in (["--dry-run"], []):
        done = _vigil(files, "apply", "-f", str(yaml), "--data-dir", "d", *dry)
        _one_line_error(done, *words)


def test_apply_refuses_an_alarm_naming_a_missing_topic(files: Path):
    folder = _demo_like(files)
    yaml = folder / "vigil.yaml"
    yaml.write_text(
        yaml.read_text()
        + "alarms:\n  - name: a\n    namespace: ns\n    metric_name: m\n    statistic: Maximum\n"
        "    period: 60\n    evaluation_periods: 1\n    threshold: 0\n"
        "    comparison_operator: GreaterThanThreshold\n    alarm_actions: [nosuch]\n"
    )
    for dry in (["--dry-run"], []):
        _one_line_error(
            _vigil(files, "apply", "-f", str(yaml), "--data-dir", "d", *dry),
            "alarm_actions[0] 'nosuch'",
        )
    yaml.write_text(yaml.read_text() + "topics:\n  - name: nosuch\n")
    assert _vigil(files, "apply", "-f", str(yaml), "--data-dir", "d").returncode == 0
