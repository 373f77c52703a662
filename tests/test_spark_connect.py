"""The Spark engine against a real Spark Connect server (``sc://``), as a team's cluster
offers it: a server process on loopback (Spark with its Connect plugin, ``local[2]``), this
process only its client, with no SparkContext. Files, tables and DataFrames profile and
model quality computes exactly as with the local engine; the CLI takes the ``sc://`` URL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vigil.analysis.baseline import suggest_baseline
from vigil.analysis.engines.local import LocalEngine
from vigil.analysis.engines.options import ReadOptions
from vigil.analysis.engines.spark import SparkEngine
from vigil.cli import app

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

SERVER = textwrap.dedent("""
    import os, sys
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master("local[2]").appName("vigil-connect-test")
               .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
               .config("spark.connect.grpc.binding.address", "127.0.0.1")
               .config("spark.connect.grpc.binding.port", sys.argv[1])
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes it
""")


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("connect") / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=out, text=True)
        try:
            assert server.stdout is not None
            deadline = time.monotonic() + 180
            while server.stdout.readline().strip() != "ready":
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            yield f"sc://127.0.0.1:{port}"
        finally:
            assert server.stdin is not None
            server.stdin.close()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


@pytest.fixture(scope="module")
def engine(connect_url: str) -> Iterator[SparkEngine]:
    found = SparkEngine(master=connect_url)
    assert found.connect  # a client session: the units travel as a DataFrame's rows
    yield found
    # the client's sessions end before the server does (else it retries releasing them)
    from pyspark.sql import SparkSession

    found.session.stop()
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)  # pyspark's mode: classic again



@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("connect-data")
    rng = np.random.default_rng(11)
    for i in range(3):
        n = 1_500
        y = rng.integers(0, 2, n)
        x = rng.normal(10, 3, n)
        x[rng.random(n) < 0.05] = np.nan
        pq.write_table(pa.table({
            "x": x,
            "k": rng.integers(-5, 500, n),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
            "y": y,
            "score": np.clip(0.4 * y + rng.normal(0.3, 0.2, n), 0, 1).round(3),
        }), d / f"part{i}.parquet", row_group_size=500)
    return d


def _exact(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Counts, sums, means, extremes and types equal; sketches within their error."""
    assert a["dataset"] == b["dataset"]
    fa, fb = {f["name"]: f for f in a["features"]}, {f["name"]: f for f in b["features"]}
    assert fa.keys() == fb.keys()
    for name, f in fa.items():
        g = fb[name]
        assert f["inferred_type"] == g["inferred_type"], name
        if "numerical_statistics" in f:
            x, y = f["numerical_statistics"], g["numerical_statistics"]
            for key in ("common", "mean", "sum", "min", "max"):
                assert x[key] == y[key], (name, key)
            assert x["std_dev"] == pytest.approx(y["std_dev"], rel=1e-12)
        else:
            x, y = f["string_statistics"], g["string_statistics"]
            assert x["common"] == y["common"], name
            assert x["distinct_count"] == pytest.approx(y["distinct_count"], rel=0.02)


def test_files_and_tables_profile_on_spark_connect_as_locally(
    engine: SparkEngine, files: Path
) -> None:
    local, _ = LocalEngine().profile(files, ReadOptions())
    on_files, bad = engine.profile(files, ReadOptions())
    assert bad.count == 0
    on_table, _ = engine.profile(pq.read_table(files), ReadOptions())
    want = json.loads(local.to_statistics().dumps())
    _exact(want, json.loads(on_files.to_statistics().dumps()))
    _exact(want, json.loads(on_table.to_statistics().dumps()))


def test_a_connect_dataframe_profiles_and_gets_its_model_quality(
    engine: SparkEngine, files: Path
) -> None:
    from vigil.analysis.model_quality import suggest_model_quality_baseline

    df = engine.session.read.parquet(str(files))
    assert type(df).__module__.startswith("pyspark.sql.connect")
    base = suggest_baseline(df)  # the engine: Spark's, on the DataFrame's own session
    _exact(json.loads(suggest_baseline(pq.read_table(files)).statistics.dumps()),
           json.loads(base.statistics.dumps()))
    columns = {"ground_truth_attribute": "y", "probability_attribute": "score"}
    local = suggest_model_quality_baseline(pq.read_table(files), "BinaryClassification",
                                           **columns)
    for data in (df, files):  # the DataFrame, and the files read by the server's tasks
        remote = suggest_model_quality_baseline(
            data, "BinaryClassification", engine="spark", spark_master=engine.master, **columns
        )
        a = json.loads(local.statistics.dumps())["binary_classification_metrics"]
        b = json.loads(remote.statistics.dumps())["binary_classification_metrics"]
        assert {k: v["value"] for k, v in a.items() if isinstance(v, dict) and "value" in v} == {
            k: v["value"] for k, v in b.items() if isinstance(v, dict) and "value" in v}


def test_cli_baseline_runs_on_a_spark_connect_server(
    connect_url: str, files: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["baseline", str(files), "--output", str(tmp_path / "spark"),
                               "--engine", "spark", "--spark-master", connect_url])
    assert done.exit_code == 0, done.output
    here = runner.invoke(app, ["baseline", str(files), "--output", str(tmp_path / "local")])
    assert here.exit_code == 0, here.output
    _exact(json.loads((tmp_path / "local" / "statistics.json").read_text()),
           json.loads((tmp_path / "spark" / "statistics.json").read_text()))
    bad = runner.invoke(app, ["baseline", str(files), "--output", str(tmp_path / "x"),
                              "--engine", "spark", "--spark-master", "sc://"])
    assert bad.exit_code == 2 and "sc://HOST:PORT" in bad.output, bad.output
    assert os.environ.get("PYSPARK_PYTHON", sys.executable)  # unchanged by a client
