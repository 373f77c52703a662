"""The ``vigil`` command as users run it: files written, summaries, exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

VIGIL = [sys.executable, "-m", "vigil.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(4)
    n = 3000
    train = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n).round(2),
            "items": rng.integers(1, 10, n),
            "channel": rng.choice(["web", "app", "store"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    same = train.sample(frac=0.5, random_state=1)
    shifted = same.assign(amount=same["amount"] * 1.6)
    paths = {
        "train": tmp_path / "train.parquet",
        "same": tmp_path / "same.csv",
        "shifted": tmp_path / "shifted.csv",
    }
    train.to_parquet(paths["train"])
    same.to_csv(paths["same"], index=False)
    text = shifted.to_csv(index=False).splitlines()
    text[5:5] = ["1.0,2", "x,y,z,w,v"]  # two malformed rows: lines 6 and 7 of the file
    paths["shifted"].write_text("\n".join(text) + "\n")
    return paths


def test_baseline_then_analyze_exit_codes_and_outputs(data: dict[str, Path], tmp_path: Path):
    base = tmp_path / "base"
    r = run("baseline", str(data["train"]), "--output", str(base))
    assert r.returncode == 0, r.stderr
    assert "3,000 rows" in r.stdout
    stats = json.loads((base / "statistics.json").read_text())
    assert [f["name"] for f in stats["features"]] == ["amount", "items", "channel"]
    assert (base / "constraints.json").is_file()

    ok = run(
        "analyze", str(data["same"]), "--baseline", str(base), "--output", str(tmp_path / "ok")
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "no violations" in ok.stdout
    for name in ("statistics.json", "constraint_violations.json", "report.html"):
        assert (tmp_path / "ok" / name).is_file()
    assert json.loads((tmp_path / "ok" / "constraint_violations.json").read_text()) == {
        "violations": []
    }

    bad = run(
        "analyze", str(data["shifted"]), "--baseline", str(base), "--output", str(tmp_path / "bad")
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    violations = json.loads((tmp_path / "bad" / "constraint_violations.json").read_text())
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations["violations"]] == [
        ("amount", "baseline_drift_check")
    ]
    assert "amount" in bad.stdout and "baseline_drift_check" in bad.stdout
    # the malformed rows are skipped, counted and located in every output
    assert "skipped 2 bad record(s)" in bad.stderr
    assert "shifted.csv:6: expected 3 columns, found 2" in bad.stderr
    assert "shifted.csv:7: expected 3 columns, found 5" in bad.stderr
    summary = json.loads((tmp_path / "bad" / "analysis.json").read_text())
    assert summary["bad_records"]["count"] == 2
    assert summary["bad_records"]["examples"][0]["line"] == 6
    report = (tmp_path / "bad" / "report.html").read_text()
    assert "shifted.csv" in report and "2 record(s) skipped" in report


def test_thresholds_flags_reach_constraints(data: dict[str, Path], tmp_path: Path):
    base = tmp_path / "base"
    r = run(
        "baseline",
        str(data["train"]),
        "--output",
        str(base),
        "--comparison-threshold",
        "0.9",
        "--comparison-method",
        "Simple",
        "--categorical-drift-method",
        "ChiSquared",
        "--categorical-comparison-threshold",
        "0.001",
        "--feature-drift",
        "items=psi:0.3",
    )
    assert r.returncode == 0, r.stderr
    cons = json.loads((base / "constraints.json").read_text())
    dc = cons["monitoring_config"]["distribution_constraints"]
    assert dc["comparison_threshold"] == 0.9 and dc["comparison_method"] == "Simple"
    assert dc["categorical_drift_method"] == "ChiSquared"
    items = next(f for f in cons["features"] if f["name"] == "items")
    assert items["monitoringConfigOverrides"] == {"drift_method": "psi", "drift_threshold": 0.3}
    ok = run(
        "analyze", str(data["shifted"]), "--baseline", str(base), "--output", str(tmp_path / "an")
    )
    assert ok.returncode == 0, ok.stdout  # 0.9 is far above the shift's distance
    assert "ChiSquared" in ok.stdout and "psi" in ok.stdout


def test_inputs_may_be_directories_and_globs(data: dict[str, Path], tmp_path: Path):
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = pd.read_parquet(data["train"])
    frame.iloc[:1000].to_csv(folder / "a.csv", index=False)
    frame.iloc[1000:].to_csv(folder / "b.csv", index=False)
    for spec in (str(folder), str(folder / "*.csv")):
        out = tmp_path / ("dir" if spec == str(folder) else "glob")
        r = run("baseline", spec, "--output", str(out))
        assert r.returncode == 0, r.stderr
        stats = json.loads((out / "statistics.json").read_text())
        assert stats["dataset"]["item_count"] == 3000


def test_headerless_csv(tmp_path: Path):
    path = tmp_path / "nh.csv"
    path.write_text("1,a\n2,b\n3,a\n")
    r = run("baseline", str(path), "--no-header", "--output", str(tmp_path / "b"))
    assert r.returncode == 0
    stats = json.loads((tmp_path / "b" / "statistics.json").read_text())
    assert [f["name"] for f in stats["features"]] == ["_c0", "_c1"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "no such file or directory"),
        ("empty", "file is empty; expected a CSV header or rows"),
        ("header_only", "no rows to analyse; expected at least one data row"),
        ("pattern", "the pattern matches no file"),
        ("no_shared", "the data shares no column with the baseline: expected columns amount"),
        ("bad_baseline", "statistics.json: not valid JSON"),
        ("bad_option", "comparison_method 'Fast': expected Robust or Simple"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(
    data: dict[str, Path], tmp_path: Path, setup: str, expected: str
):
    base = tmp_path / "base"
    assert run("baseline", str(data["train"]), "--output", str(base)).returncode == 0
    out = str(tmp_path / "out")
    if setup == "missing":
        r = run("baseline", str(tmp_path / "nope.csv"), "--output", out)
    elif setup == "empty":
        (tmp_path / "e.csv").write_text("")
        r = run("baseline", str(tmp_path / "e.csv"), "--output", out)
    elif setup == "header_only":
        (tmp_path / "h.csv").write_text("a,b\n")
        r = run("analyze", str(tmp_path / "h.csv"), "--baseline", str(base), "--output", out)
    elif setup == "pattern":
        r = run("baseline", str(tmp_path / "*.nothing"), "--output", out)
    elif setup == "no_shared":
        (tmp_path / "o.csv").write_text("p,q\n1,2\n")
        r = run("analyze", str(tmp_path / "o.csv"), "--baseline", str(base), "--output", out)
    elif setup == "bad_baseline":
        (base / "statistics.json").write_text("{oops")
        r = run("analyze", str(data["same"]), "--baseline", str(base), "--output", out)
    else:
        r = run("baseline", str(data["train"]), "--output", out, "--comparison-method", "Fast")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("vigil: error: [") and expected in lines[0]
    assert not Path(out, "constraint_violations.json").exists()


def test_usage_error_exits_2(tmp_path: Path):
    r = run("analyze", str(tmp_path))  # no --baseline, no --output
    assert r.returncode == 2


def test_progress_bar_on_request(data: dict[str, Path], tmp_path: Path):
    r = run("baseline", str(data["train"]), "--output", str(tmp_path / "p"), "--progress")
    assert r.returncode == 0
    assert "profiling" in r.stderr and "3,000 rows" in r.stderr
