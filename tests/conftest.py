"""Shared fixtures: the real SageMaker artifacts in ../shared/data/sagemaker/."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

# The loopback receivers of the tests (and of servers started as subprocesses, which inherit
# it) are reached through the operator's outbound allow-list (vigil.net).
os.environ.setdefault("VIGIL_OUTBOUND_ALLOW", "127.0.0.1/32,::1/128")

ROOT = Path(__file__).resolve().parents[1]
SAGEMAKER = ROOT.parent / "shared" / "data" / "sagemaker"


@pytest.fixture(scope="session")
def sagemaker_dir() -> Path:
    assert SAGEMAKER.is_dir(), f"{SAGEMAKER} is missing: the real SageMaker fixtures are needed"
    return SAGEMAKER


@pytest.fixture
def sagemaker_baseline(tmp_path: Path, sagemaker_dir: Path) -> Path:
    """SageMaker's real statistics.json and constraints.json in one directory."""
    d = tmp_path / "sm-baseline"
    d.mkdir()
    shutil.copy(sagemaker_dir / "data_quality_statistics.json", d / "statistics.json")
    shutil.copy(sagemaker_dir / "data_quality_constraints.json", d / "constraints.json")
    return d


def sagemaker_columns(sagemaker_dir: Path) -> dict[str, list[float]]:
    """The 100 raw rows behind SageMaker's statistics.json (all on KLL level 0, in order)."""
    stats = json.loads((sagemaker_dir / "data_quality_statistics.json").read_text())
    cols = {}
    for f in stats["features"]:
        data = f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
        assert len(data) == 1, "the fixture keeps every item on level 0"
        cols[f["name"]] = data[0]
    return cols


@pytest.fixture
def sagemaker_csv(tmp_path: Path, sagemaker_dir: Path) -> Path:
    """The rows as a header-less CSV, as SageMaker's baselining job read them."""
    cols = sagemaker_columns(sagemaker_dir)
    names = list(cols)
    path = tmp_path / "sm-data.csv"
    lines = [",".join(repr(cols[c][i]) for c in names) for i in range(len(cols[names[0]]))]
    path.write_text("\n".join(lines) + "\n")
    return path
