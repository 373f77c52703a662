"""Metric definitions against independent references: Python's float() over the grammar's
own samples, and a brute-force re-application of the regex to each line."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.jobs import (
    LogMetricParser,
    MetricDefinition,
    MetricDefinitionError,
    parse_definition,
    parse_float,
)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_float_python_writes_parses_back(x: float) -> None:
    for text in (repr(x), f"{x:e}", f"{x:E}", f"{x:.3g}"):
        got = parse_float(text)
        want = float(text)
        assert got is not None and ((math.isnan(want) and math.isnan(got)) or got == want), text


@pytest.mark.parametrize("text", ["7E-5", "-1.5e+3", ".5", "5.", "+3", "NaN", "-Infinity"])
def test_exponents_and_specials_are_not_truncated(text: str) -> None:
    got = parse_float(text)
    assert got is not None
    assert math.isnan(got) if "nan" in text.lower() else got == float(text)


def test_regex_errors_name_the_definition() -> None:
    with pytest.raises(MetricDefinitionError, match=r"'train:loss'.*does not compile"):
        parse_definition("train:loss=loss=([0-9")
    with pytest.raises(MetricDefinitionError, match="no capture group"):
        parse_definition("train:loss=loss=[0-9]+")
    with pytest.raises(MetricDefinitionError, match="given twice"):
        LogMetricParser([MetricDefinition("a", "(x)"), MetricDefinition("a", "(y)")])


def test_counts_match_a_brute_force_pass_over_the_lines() -> None:
    lines = [f"step {i} loss={v}" for i, v in enumerate(["0.5", "1e-3", "1e", "x", "inf", "2"])]
    lines += ["no metric here", "[3]#011train-rmse:1.5#011validation-rmse:0.25"]
    defs = [
        MetricDefinition("loss", r"loss=(\S+)"),
        MetricDefinition("validation:rmse", r".*\[[0-9]+\].*\tvalidation-rmse:(\S+)"),
    ]
    parser = LogMetricParser(defs)
    found = parser.parse_lines(lines)
    expected = []
    for line in lines:
        for d in defs:
            for form in (line, line.replace("#011", "\t")):
                m = re.search(d.regex, form)
                if m:
                    try:
                        v = float(m.group(1))
                    except ValueError:
                        break
                    if math.isfinite(v):
                        expected.append((d.name, v))
                    break
    assert found == expected
    loss = parser.counts()[0]
    assert (loss.matched, loss.unparsable, loss.non_finite) == (6, 2, 1)
    assert "matched 6 lines, 2 unparsable" in loss.summary()
