"""The text exposition parser and writer against prometheus_client's own parser (the oracle)."""

from __future__ import annotations

import math
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from vigil.app.prom_exporter import Exporter
from vigil.metrics.datum import MetricDatum
from vigil.metrics.exposition import MetricFamily, Sample, render
from vigil.metrics.exposition_parse import ExpositionError, parse_exposition
from vigil.store.db import Database
from vigil.store.metrics import MetricStore

EDGES = r"""# A comment line, then HELP with escapes
# HELP weird_total A \\ backslash\nand a newline.
# TYPE weird_total counter
weird_total{path="C:\\dir",quote="say \"hi\"",nl="a\nb"} 3 1700000000123
weird_total{path="",quote="x",nl="y",} 4
# TYPE temp gauge
temp NaN
temp{kind="hot"} +Inf
temp{kind="cold"} -Inf
temp{kind="tiny"} 1.5e-07
temp{kind="exp"} 7E-5
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.25
rpc_seconds{quantile="0.99"} 2.5
rpc_seconds_sum 17.5
rpc_seconds_count 42
# TYPE req_seconds histogram
req_seconds_bucket{le="0.1"} 1
req_seconds_bucket{le="1"} 3
req_seconds_bucket{le="+Inf"} 4
req_seconds_sum 5.5
req_seconds_count 4
untyped_thing   7
  spaced_out { a = "1" , b="2" }   8   -5
"""


def _oracle(text: str) -> list[tuple[str, str, dict[str, str], float, int | None]]:
    out = []
    for fam in text_string_to_metric_families(text):
        kind = "untyped" if fam.type == "unknown" else fam.type
        for s in fam.samples:
            stamp = None if s.timestamp is None else round(float(s.timestamp) * 1000)
            out.append((s.name, kind, dict(s.labels), float(s.value), stamp))
    return out


def _ours(text: str) -> list[tuple[str, str, dict[str, str], float, int | None]]:
    return [
        (s.name, fam.type, dict(s.labels), s.value, s.timestamp_ms)
        for fam in parse_exposition(text)
        for s in fam.samples
    ]


def _same(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x[:3] == y[:3] and x[4] == y[4], (x, y)
        assert (math.isnan(x[3]) and math.isnan(y[3])) or x[3] == y[3], (x, y)


def test_edge_cases_parse_as_prometheus_client_does():
    _same(_ours(EDGES), _oracle(EDGES))
    helps = {f.name: f.help for f in parse_exposition(EDGES)}
    assert helps["weird_total"] == "A \\ backslash\nand a newline."


@pytest.mark.parametrize(
    "line, expected",
    [
        ('x{a="1" 2', "expected a label"),
        ("x", "expected a value"),
        ("x abc", "expected a float value"),
        ("x 1 2.5", "expected an integer timestamp"),
        ("x-y 1", "invalid character"),
        ('x{a="1",a="2"} 1', "appears twice"),
        ("# TYPE x counter\n# TYPE x gauge", "second TYPE"),
        ("# TYPE x countr", "expected one of counter"),
        ("x 1\n# TYPE x gauge", "after its samples"),
        ("x 1 2 3", "an optional timestamp"),
        ("x 0x1F", "expected a float value"),
    ],
)
def test_bad_lines_are_refused_naming_the_line(line: str, expected: str):
    with pytest.raises(ExpositionError, match=expected) as info:
        parse_exposition("ok 1\n" + line + "\n")
    assert f"line {line.count(chr(10)) + 2}" in str(info.value)  # the (last) line at fault
    if shutil.which("promtool") is None:
        pytest.skip("promtool (Debian's prometheus, `make system-deps`) is not installed")
    checked = subprocess.run(  # the oracle: Prometheus' own parser refuses them too
        ["promtool", "check", "metrics"], input="ok 1\n" + line + "\n",
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert checked.returncode == 1 and "parsing error" in checked.stderr, checked


def _store_exposition() -> str:
    db = Database("sqlite://")
    db.create_all()
    store = MetricStore(db)
    now = datetime.now(timezone.utc)
    dims = {"EndpointName": 'we"ird\\name', "VariantName": "AllTraffic"}
    store.put(
        [
            MetricDatum("AWS/SageMaker", "Invocations", dims, now, sample_count=7, sum=7,
                        minimum=1, maximum=1),
            MetricDatum("AWS/SageMaker", "ModelLatency", dims, now - timedelta(seconds=5),
                        sample_count=3, sum=3 * 12000, minimum=12000, maximum=12000,
                        unit="Microseconds"),
            MetricDatum("vigil/Host", "MemoryUtilization", {"Host": "h\n1"}, now, 42.0),
            MetricDatum("odd ns!", "9 lives", {"a b": "c"}, now, 1.0),
        ]
    )  # fmt: skip
    return Exporter(db).render()


def test_vigils_own_exposition_parses_the_same_in_both_parsers():
    text = _store_exposition()
    ours = _ours(text)
    _same(ours, _oracle(text))
    names = {n for n, *_ in ours}
    assert {"vigil_endpoint_invocations_total", "vigil_endpoint_model_latency_seconds_bucket",
            "vigil_instance_memory_utilization_ratio", "process_cpu_seconds_total",
            "vigil_build_info", "vigil_odd_ns_9_lives"} <= names  # fmt: skip


_label_value = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_value = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**12), 10**12).map(
    float
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
                                  _label_value, max_size=3),
                  _value, st.none() | st.integers(0, 2**41)),
        min_size=1, max_size=8, unique_by=lambda t: tuple(sorted(t[0].items())),
    ),
    st.text(max_size=30),
)  # fmt: skip
def test_written_expositions_read_back_in_both_parsers(rows, help_text):
    fam = MetricFamily(
        "some_metric", "gauge", help_text,
        [Sample("some_metric", labels, value, stamp) for labels, value, stamp in rows],
    )  # fmt: skip
    text = render([fam])
    ours = _ours(text)
    _same(ours, _oracle(text))
    _same(ours, [("some_metric", "gauge", dict(la), v, t) for la, v, t in rows])
