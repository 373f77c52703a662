"""Helpers of the bias tests: the smclarify oracle (its own venv) and value-by-value checks."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

ORACLES = Path(__file__).resolve().parent / "oracles"
ORACLE_PYTHON = ORACLES / ".venv" / "bin" / "python"
DRIVER = ORACLES / "smclarify_driver.py"


def smclarify(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """smclarify's reports for a batch of cases, in one subprocess."""
    if not ORACLE_PYTHON.exists():
        pytest.skip("smclarify oracle venv missing: run `bash tests/oracles/setup.sh`")
    done = subprocess.run(
        [str(ORACLE_PYTHON), str(DRIVER)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return float(value)


def assert_same_facet_reports(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    """Value by value (1e-9), same names, descriptions, order, errors and facet strings."""
    assert [e["value_or_threshold"] for e in ours] == [e["value_or_threshold"] for e in theirs]
    for mine, ref in zip(ours, theirs):
        assert [m["name"] for m in mine["metrics"]] == [m["name"] for m in ref["metrics"]]
        for m, r in zip(mine["metrics"], ref["metrics"]):
            where = f"{mine['value_or_threshold']} {m['name']}"
            assert m["description"] == r["description"], where
            assert ("error" in m) == ("error" in r), (where, m, r)
            if "error" in r:
                assert m["error"] == r["error"], where
                assert m["value"] is None
                continue
            a, b = _number(m["value"]), _number(r["value"])
            assert a is not None and b is not None, (where, m, r)
            if math.isinf(b) or math.isnan(b):
                assert a == b or (math.isnan(a) and math.isnan(b)), (where, a, b)
                assert m["value"] == r["value"], where  # "Infinity" strings alike
            else:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-12), (where, a, b)
