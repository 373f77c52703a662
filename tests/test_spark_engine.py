"""The Spark engine computes the local engine's profile: exact counts, sums, means, minima,
maxima and types, quantiles and distinct counts within the sketches' error, the same
violations and bad records; checked against the local engine and against pyarrow/numpy.

One SparkSession (``local[2]``) serves the whole module.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

pyspark = pytest.importorskip("pyspark")

from typer.testing import CliRunner  # noqa: E402

from vigil.analysis.baseline import suggest_baseline  # noqa: E402
from vigil.analysis.data_quality import analyze  # noqa: E402
from vigil.analysis.engines import get_engine, is_spark_dataframe  # noqa: E402
from vigil.analysis.profiling import profile_input  # noqa: E402
from vigil.cli import app  # noqa: E402
from vigil.formats.statistics import Statistics  # noqa: E402
from vigil.profile.kll import KLLSketch  # noqa: E402

N_FILES = 3
# pyspark 4 warns on every Arrow path that it has not been tested with pandas 3
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")


@pytest.fixture(scope="module")
def spark(s3_endpoint: str) -> Iterator[Any]:
    """The session; asks for the S3 endpoint first, so that Spark's Python workers start with
    its ``AWS_*`` variables in their environment, as executors on a cluster have their own."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("vigil-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _table(rng: np.random.Generator, n: int, shift: float = 0.0) -> pa.Table:
    x = rng.normal(10.0 + shift, 3.0, n)
    x[rng.random(n) < 0.05] = np.nan
    mask = rng.random(n) < 0.03
    return pa.table(
        {
            "x": pa.array(x, mask=mask),
            "k": pa.array(rng.integers(-50, 1000, n)),
            "city": pa.array(rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], n)),
            "code": pa.array([f"c{v}" for v in rng.integers(0, 300, n)]),
        }
    )


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pq")
    rng = np.random.default_rng(7)
    for i in range(N_FILES):
        pq.write_table(_table(rng, 1500), d / f"part-{i}.parquet", row_group_size=500)
    return d


def _statistics(profile: Any) -> dict[str, Any]:
    return json.loads(profile.to_statistics().dumps())


def _assert_same(local: dict[str, Any], spark: dict[str, Any]) -> None:
    """Exact equality where the profile is exact; sketches within their stated error."""
    assert local["dataset"] == spark["dataset"]
    assert [f["name"] for f in local["features"]] == [f["name"] for f in spark["features"]]
    for a, b in zip(local["features"], spark["features"]):
        assert a["inferred_type"] == b["inferred_type"], a["name"]
        if "numerical_statistics" in a:
            na, nb = a["numerical_statistics"], b["numerical_statistics"]
            for key in ("common", "sum", "mean", "min", "max"):
                assert na[key] == nb[key], (a["name"], key)
            assert nb["std_dev"] == pytest.approx(na["std_dev"], rel=1e-12)
        else:
            sa, sb = a["string_statistics"], b["string_statistics"]
            assert sa["common"] == sb["common"]
            assert sa["distinct_count"] == sb["distinct_count"]  # exact below the cap
            assert sa["distribution"] == sb["distribution"]


def _assert_kll_within_error(stats: dict[str, Any], values: dict[str, np.ndarray]) -> None:
    """The sketch's ranks against numpy's exact ranks, within KLLSketch.rank_error(k)."""
    for f in stats["features"]:
        if f["name"] not in values:
            continue
        kll = f["numerical_statistics"]["distribution"]["kll"]["sketch"]
        sketch = KLLSketch.from_data(kll["data"], k=kll["parameters"]["k"])
        exact = np.sort(values[f["name"]])
        assert sketch.n == len(exact)
        probes = np.quantile(exact, np.linspace(0.01, 0.99, 25))
        true_cdf = np.searchsorted(exact, probes, side="right") / len(exact)
        error = np.max(np.abs(np.asarray(sketch.cdf(probes)) - true_cdf))
        assert error <= KLLSketch.rank_error(int(sketch.k)), f["name"]


def test_s3_inputs_are_read_by_the_tasks_themselves(
    spark: Any, parquet_dir: Path, s3_bucket: str
) -> None:
    """An s3:// prefix reaches the tasks as object URLs (each task fetches its own object, as
    an executor on another machine must), and profiles as the local files do."""
    import s3fs

    from vigil.io.readers import resolve_sources

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    prefix = f"{s3_bucket}/spark-inputs"
    for f in sorted(parquet_dir.iterdir()):
        fs.put_file(str(f), f"{prefix}/{f.name}")
    sources = resolve_sources([prefix])
    assert sources == [f"{prefix}/{f.name}" for f in sorted(parquet_dir.iterdir())]
    local, _ = profile_input(parquet_dir)
    remote, bad = profile_input(prefix, engine="spark")
    _assert_same(_statistics(local), _statistics(remote))
    assert bad.count == 0


def test_parquet_files_profile_alike_on_spark_and_locally(spark: Any, parquet_dir: Path) -> None:
    local, bad_local = profile_input(parquet_dir)
    remote, bad_remote = profile_input(parquet_dir, engine="spark")
    a, b = _statistics(local), _statistics(remote)
    _assert_same(a, b)
    assert bad_local.count == bad_remote.count == 0
    # the independent reference: pyarrow over the whole data set
    whole = pq.read_table(parquet_dir)
    x = whole.column("x").to_numpy(zero_copy_only=False)
    finite = x[np.isfinite(x)]
    num = {f["name"]: f["numerical_statistics"] for f in b["features"] if f["name"] in "xk"}
    assert b["dataset"]["item_count"] == whole.num_rows == N_FILES * 1500
    assert num["x"]["common"]["num_present"] == len(finite)
    assert num["x"]["sum"] == pytest.approx(float(np.sum(finite)), rel=1e-12)
    assert num["x"]["min"] == float(finite.min()) and num["x"]["max"] == float(finite.max())
    assert num["k"]["sum"] == pc.sum(whole.column("k")).as_py()
    assert num["k"]["min"] == pc.min(whole.column("k")).as_py()
    assert num["k"]["mean"] == pytest.approx(pc.mean(whole.column("k")).as_py(), rel=1e-15)
    k = whole.column("k").to_numpy().astype(float)
    _assert_kll_within_error(b, {"x": finite, "k": k})
    city = next(f for f in b["features"] if f["name"] == "city")["string_statistics"]
    counts = pc.value_counts(whole.column("city")).to_pylist()
    expected = {c["values"]: c["counts"] for c in counts}
    buckets = city["distribution"]["categorical"]["buckets"]
    assert {bk["value"]: bk["count"] for bk in buckets} == expected


def _write_text_inputs(d: Path, rng: np.random.Generator) -> dict[str, list[Path]]:
    made: dict[str, list[Path]] = {"csv": [], "jsonl": [], "capture": []}
    for i in range(2):
        t = _table(rng, 900)
        rows = [
            {**r, "x": None if r["x"] is None or np.isnan(r["x"]) else r["x"]}
            for r in t.to_pylist()
        ]
        csv_lines = ["x,k,city,code"] + [
            f"{'' if r['x'] is None else r['x']},{r['k']},{r['city']},{r['code']}" for r in rows
        ]
        csv_lines.insert(17 + i, "1.0,2")  # a short row: one bad record per file
        path = d / f"f{i}.csv"
        path.write_text("\n".join(csv_lines) + "\n")
        made["csv"].append(path)
        lines = [json.dumps(r) for r in rows]
        lines.insert(5, "{not json")
        path = d / f"f{i}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        made["jsonl"].append(path)
        caps = [
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": f"{r['k']},{r['city']}",
                            "encoding": "CSV",
                        }
                    },
                    "eventMetadata": {
                        "eventId": f"e{i}-{j}",
                        "inferenceTime": "2024-01-01T00:00:00Z",
                    },
                    "eventVersion": "0",
                }
            )
            for j, r in enumerate(rows[:400])
        ]
        caps.insert(3, '{"captureData": {"endpointInput": {}}}')
        path = d / f"c{i}.jsonl"
        path.write_text("\n".join(caps) + "\n")
        made["capture"].append(path)
    return made


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "capture"])
def test_text_formats_profile_alike_and_count_the_same_bad_records(
    spark: Any, tmp_path: Path, fmt: str
) -> None:
    files = [str(p) for p in _write_text_inputs(tmp_path, np.random.default_rng(3))[fmt]]
    local, bad_local = profile_input(files, format=fmt)
    remote, bad_remote = profile_input(files, format=fmt, engine="spark")
    _assert_same(_statistics(local), _statistics(remote))
    assert bad_remote.count == bad_local.count == 2  # one per file, summed on the driver
    assert [str(e) for e in bad_remote.examples] == [str(e) for e in bad_local.examples]
    assert {e.source for e in bad_remote.examples} == set(files)


def test_a_spark_dataframe_is_detected_and_profiled_with_map_in_arrow(
    spark: Any, parquet_dir: Path
) -> None:
    df = spark.read.parquet(str(parquet_dir)).repartition(3)
    assert is_spark_dataframe(df) and not is_spark_dataframe(pq.read_table(parquet_dir))
    assert get_engine(None, data=df).name == "spark"
    base = suggest_baseline(df)
    reference = suggest_baseline(pq.read_table(parquet_dir))  # the same rows, locally
    _assert_same(json.loads(reference.statistics.dumps()), json.loads(base.statistics.dumps()))
    assert base.constraints.dumps() == reference.constraints.dumps()


def test_violations_are_the_same_on_both_engines(spark: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    train, window = tmp_path / "train", tmp_path / "window"
    train.mkdir()
    window.mkdir()
    for i in range(3):  # under 2,050 rows: KLL sketches hold every value on both engines
        pq.write_table(_table(rng, 600), train / f"t{i}.parquet", row_group_size=200)
        w = _table(rng, 600, shift=2.5)
        w = w.set_column(3, "code", pa.array([f"z{v}" for v in range(600)]))  # new values
        pq.write_table(w, window / f"w{i}.parquet", row_group_size=200)
    base = suggest_baseline(train)
    assert suggest_baseline(train, engine="spark").constraints.dumps() == base.constraints.dumps()
    local = analyze(window, base)
    remote = analyze(window, base, engine="spark")
    assert local.violations, "the window is meant to violate the baseline"
    assert remote.constraint_violations().dumps() == local.constraint_violations().dumps()


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_cli_baseline_and_analyze_run_on_spark(
    spark: Any, parquet_dir: Path, tmp_path: Path
) -> None:
    for engine in ("local", "spark"):
        extra = ["--spark-master", "local[2]"] if engine == "spark" else []
        out = _cli(
            "baseline", str(parquet_dir), "-o", str(tmp_path / engine), "--engine", engine, *extra
        )
        assert out.exit_code == 0, out.output
        done = _cli(
            "analyze", str(parquet_dir), "-b", str(tmp_path / engine), "-o",
            str(tmp_path / f"{engine}-run"), "--engine", engine, *extra,
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    for name in ("local", "local-run"):
        a = json.loads((tmp_path / name / "statistics.json").read_text())
        b = json.loads((tmp_path / name.replace("local", "spark") / "statistics.json").read_text())
        _assert_same(a, b)
    assert Statistics.load(tmp_path / "spark-run" / "statistics.json").dataset.item_count == 4500
    assert (tmp_path / "spark-run" / "constraint_violations.json").read_text() == (
        tmp_path / "local-run" / "constraint_violations.json"
    ).read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["--engine", "spark", "--spark-master", "lokal[2]"],
        ["--engine", "flink"],
        ["--spark-master", "local[2]"],
    ],
)
def test_bad_engine_options_exit_2_with_one_line(
    parquet_dir: Path, tmp_path: Path, args: list[str]
) -> None:
    out = _cli("baseline", str(parquet_dir), "-o", str(tmp_path / "b"), *args)
    assert out.exit_code == 2
    assert len(out.output.strip().splitlines()) == 1, out.output
    assert "engine" in out.output or "spark-master" in out.output
    assert not (tmp_path / "b").exists()


def _captures(root: Path, hours: int, per_hour: int) -> None:
    rng = np.random.default_rng(5)
    for h in range(hours):
        folder = root / "churn" / "AllTraffic" / f"2024/05/01/{h:02d}"
        folder.mkdir(parents=True)
        lines = [
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": f"{rng.normal(h, 1.0)!r},{rng.integers(0, 9)}",
                            "encoding": "CSV",
                        }
                    },
                    "eventMetadata": {
                        "eventId": f"{h}-{i}",
                        "inferenceTime": f"2024-05-01T{h:02d}:{i % 60:02d}:00Z",
                    },
                    "eventVersion": "0",
                }
            )
            for i in range(per_hour)
        ]
        (folder / "00-00-000-x.jsonl").write_text("\n".join(lines) + "\n")


def test_a_schedule_with_engine_spark_profiles_its_executions_on_spark(
    spark: Any, tmp_path: Path
) -> None:
    from datetime import datetime, timezone

    from sqlalchemy import select

    from vigil.app.bootstrap import open_database
    from vigil.app.scheduler import tick
    from vigil.monitor.runtime import Runtime
    from vigil.store.metrics import MetricStore
    from vigil.store.models import Execution, Schedule
    from vigil.store.settings import Settings

    data = tmp_path / "data"
    rng = np.random.default_rng(2)
    train = pa.table({"_c0": rng.normal(0, 1, 300), "_c1": rng.integers(0, 9, 300)})
    suggest_baseline(train).save(tmp_path / "baseline")
    schedules = "".join(
        f"""  - name: {name}
    endpoint: churn
    baseline: base
    expression: rate(1 hour)
    config: {config}
"""
        for name, config in (
            ("local", "{}"),
            ("spark", "{engine: spark, spark_master: 'local[2]'}"),
        )
    )
    (tmp_path / "vigil.yaml").write_text(
        "version: 1\nendpoints:\n  - name: churn\nbaselines:\n  - name: base\n"
        f"    endpoint: churn\n    path: baseline\nschedules:\n{schedules}"
    )
    applied = _cli("apply", "-f", str(tmp_path / "vigil.yaml"), "--data-dir", str(data))
    assert applied.exit_code == 0, applied.output
    bad = (tmp_path / "vigil.yaml").read_text().replace("engine: spark", "engine: flink")
    (tmp_path / "bad.yaml").write_text(bad)
    refused = _cli("apply", "-f", str(tmp_path / "bad.yaml"), "--data-dir", str(data))
    assert refused.exit_code == 2 and "engine 'flink'" in refused.output
    _captures(data / "capture", hours=2, per_hour=50)
    settings = Settings(data_dir=data)
    db = open_database(settings)
    rt = Runtime(settings=settings, db=db, metrics=MetricStore(db), owner="w1")
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    with db.session() as s:
        for row in s.scalars(select(Schedule)):
            row.created_at = t0
    tracker = spark.sparkContext.statusTracker()
    jobs_before = len(tracker.getJobIdsForGroup(None))
    assert tick(rt, now=datetime(2024, 5, 1, 2, 5, tzinfo=timezone.utc)) == 4
    assert len(tracker.getJobIdsForGroup(None)) == jobs_before + 2  # one per spark window
    with db.session() as s:
        rows = list(s.scalars(select(Execution).order_by(Execution.window_start)))
    assert len(rows) == 4
    status = {(r.schedule_name, r.window_start): r.status for r in rows}
    by = {(r.schedule_name, r.window_start): Path(r.output_uri or "") for r in rows}
    for (name, start), out in by.items():
        if name != "spark":
            continue
        local = by[("local", start)]
        assert status[(name, start)] == status[("local", start)]
        assert status[(name, start)] in ("Completed", "CompletedWithViolations")
        _assert_same(
            json.loads((local / "statistics.json").read_text()),
            json.loads((out / "statistics.json").read_text()),
        )
        assert (out / "constraint_violations.json").read_text() == (
            local / "constraint_violations.json"
        ).read_text()


def _labelled(d: Path, rng: np.random.Generator) -> None:
    for i in range(3):
        n = 700
        y = rng.integers(0, 2, n)
        score = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)  # ties in scores
        value = rng.normal(5, 2, n)
        klass = rng.choice(["cat", "dog", "emu"], n)
        guess = np.where(rng.random(n) < 0.7, klass, rng.choice(["cat", "dog", "emu"], n))
        pq.write_table(
            pa.table(
                {
                    "y": y,
                    "score": pa.array(score, mask=rng.random(n) < 0.02),  # skipped rows
                    "value": value,
                    "estimate": value + rng.normal(0, 0.5, n),
                    "klass": klass,
                    "guess": guess,
                }
            ),
            d / f"m{i}.parquet",
            row_group_size=350,
        )


def _metric(stats: dict[str, Any], key: str) -> Any:
    found = stats[key]
    return found["value"] if isinstance(found, dict) and "value" in found else found


PROBLEMS = [
    ("BinaryClassification", {"ground_truth_attribute": "y", "probability_attribute": "score"}),
    (
        "MulticlassClassification",
        {"ground_truth_attribute": "klass", "inference_attribute": "guess"},
    ),
    ("Regression", {"ground_truth_attribute": "value", "inference_attribute": "estimate"}),
]


@pytest.mark.parametrize(("ptype", "columns"), PROBLEMS)
def test_model_quality_on_spark_equals_local_and_scikit_learn(
    spark: Any, tmp_path: Path, ptype: str, columns: dict[str, str]
) -> None:
    exact = ptype != "Regression"  # regression: exact sums, then float division
    from sklearn import metrics as skm

    from vigil.analysis.model_quality import suggest_model_quality_baseline

    _labelled(tmp_path, np.random.default_rng(9))
    local = suggest_model_quality_baseline(tmp_path, ptype, **columns)
    tracker = spark.sparkContext.statusTracker()
    jobs = len(tracker.getJobIdsForGroup(None))
    remote = suggest_model_quality_baseline(tmp_path, ptype, engine="spark", **columns)
    assert len(tracker.getJobIdsForGroup(None)) == jobs + 1  # computed by one Spark job
    a = json.loads(local.statistics.dumps())
    b = json.loads(remote.statistics.dumps())
    section = next(k for k in a if k.endswith("_metrics"))
    ma, mb = a[section], b[section]
    assert a["dataset"] == b["dataset"] and remote.skipped == local.skipped
    assert ma.keys() == mb.keys()
    for key in ma:
        if exact:
            assert _metric(mb, key) == _metric(ma, key), key
        else:
            assert _metric(mb, key) == pytest.approx(_metric(ma, key), rel=1e-12), key
        if isinstance(ma[key], dict) and "standard_deviation" in ma[key]:
            sd = mb[key]["standard_deviation"]
            assert (sd == "NaN") == (ma[key]["standard_deviation"] == "NaN"), key
    whole = pq.read_table(tmp_path).to_pandas()
    if ptype == "BinaryClassification":
        kept = whole.dropna(subset=["score"])
        assert _metric(mb, "auc") == pytest.approx(skm.roc_auc_score(kept.y, kept.score), abs=1e-12)
        assert _metric(mb, "f1") == pytest.approx(skm.f1_score(kept.y, kept.score >= 0.5))
        assert remote.skipped == {"score missing or NaN": int(whole.score.isna().sum())}
    elif ptype == "MulticlassClassification":
        cm = skm.confusion_matrix(whole.klass, whole.guess, labels=["cat", "dog", "emu"])
        got = mb["confusion_matrix"]
        assert [
            [got[a][b] for b in ("cat", "dog", "emu")] for a in ("cat", "dog", "emu")
        ] == cm.tolist()
        assert _metric(mb, "weighted_f1") == pytest.approx(
            skm.f1_score(whole.klass, whole.guess, average="weighted")
        )
    else:
        assert _metric(mb, "r2") == pytest.approx(
            skm.r2_score(whole.value, whole.estimate), rel=1e-12
        )
        assert _metric(mb, "mae") == pytest.approx(
            skm.mean_absolute_error(whole.value, whole.estimate), rel=1e-12
        )


def test_cli_model_quality_runs_on_spark(spark: Any, tmp_path: Path) -> None:
    _labelled(tmp_path, np.random.default_rng(4))
    ptype, columns = PROBLEMS[0]
    flags = [x for k, v in columns.items() for x in (f"--{k.replace('_', '-')}", v)]
    files = [str(p) for p in sorted(tmp_path.glob("*.parquet"))]
    for engine in ("local", "spark"):
        base = tmp_path / f"base-{engine}"
        made = _cli("baseline", *files, "-o", str(base), "--problem-type", ptype, *flags,
                    "--engine", engine)  # fmt: skip
        assert made.exit_code == 0, made.output
        ran = _cli("analyze", *files, "-b", str(base), "-o", str(tmp_path / f"run-{engine}"),
                   "--problem-type", ptype, *flags, "--engine", engine)  # fmt: skip
        assert ran.exit_code == 0, ran.output
    a = json.loads((tmp_path / "run-local" / "statistics.json").read_text())
    b = json.loads((tmp_path / "run-spark" / "statistics.json").read_text())
    metrics = "binary_classification_metrics"
    assert {k: _metric(a[metrics], k) for k in a[metrics]} == {
        k: _metric(b[metrics], k) for k in b[metrics]
    }


def test_vigil_imports_no_pyspark_until_spark_is_asked_for() -> None:
    import subprocess

    code = (
        "import sys, vigil, vigil.analysis.engines.spark, vigil.analysis.model_quality, "
        "vigil.cli.data; vigil.suggest_baseline; print('pyspark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("ptype", "columns"), PROBLEMS)
def test_model_quality_of_a_spark_dataframe_equals_local(
    spark: Any, tmp_path: Path, ptype: str, columns: dict[str, str]
) -> None:
    """A DataFrame handed in is summarized partition by partition (mapInArrow) and merged:
    the same metrics, curves, confusion counts and skipped rows as the local engine's on the
    same rows."""
    from vigil.analysis.model_quality import suggest_model_quality_baseline

    _labelled(tmp_path, np.random.default_rng(5))
    df = spark.read.parquet(str(tmp_path)).repartition(4)
    rows = pq.read_table(tmp_path)
    local = suggest_model_quality_baseline(rows, ptype, **columns)
    tracker = spark.sparkContext.statusTracker()
    jobs = len(tracker.getJobIdsForGroup(None))
    remote = suggest_model_quality_baseline(df, ptype, **columns)  # the engine: Spark's
    assert len(tracker.getJobIdsForGroup(None)) > jobs  # computed on Spark
    a = json.loads(local.statistics.dumps())
    b = json.loads(remote.statistics.dumps())
    section = next(k for k in a if k.endswith("_metrics"))
    assert a["dataset"] == b["dataset"] and remote.skipped == local.skipped
    assert a[section].keys() == b[section].keys()
    for key in a[section]:
        want, got = _metric(a[section], key), _metric(b[section], key)
        if ptype == "Regression":
            assert got == pytest.approx(want, rel=1e-12), key
        else:
            assert got == want, key
    # a missing column fails on the driver, naming it
    from vigil.errors import ConfigError

    with pytest.raises(ConfigError, match="'nope' not found"):
        suggest_model_quality_baseline(df, ptype, **{**columns, "ground_truth_attribute": "nope"})
