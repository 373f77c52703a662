"""Monitoring as code: loading vigil.yaml with line-numbered errors, writing it back, plans."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from vigil.app.config import (
    BaselineSpec,
    ConfigFileError,
    EndpointSpec,
    Plan,
    Reference,
    ScheduleSpec,
    VigilConfig,
    diff_config,
    dump_config,
    load_config,
    parse_config,
)
from vigil.errors import ConfigError, VigilError

EXAMPLE = """\
version: 1
endpoints:
  - name: churn
    capture_uri: s3://bucket/capture/churn
  - name: fraud
    variant: Canary
baselines:
  - name: churn-v1
    endpoint: churn
    path: baselines/churn-v1
  - name: fraud-train
    path: data/fraud.csv
    options:
      comparison_threshold: 0.2
      header: false
schedules:
  - name: churn-hourly
    endpoint: churn
    baseline: churn-v1
    expression: cron(0 * ? * * *)
    window_start_offset: -PT1H
    window_end_offset: -PT0H
  - name: fraud-5min
    endpoint: fraud
    baseline: fraud-train
    expression: rate(5 minutes)
    status: Paused
    config:
      features_attribute: features
      preprocessor: hooks/flatten.py
"""


@pytest.fixture
def example_file(tmp_path: Path) -> Path:
    path = tmp_path / "vigil.yaml"
    path.write_text(EXAMPLE)
    return path


def load_text(tmp_path: Path, text: str, name: str = "vigil.yaml") -> VigilConfig:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_config(path)


def errors_of(tmp_path: Path, text: str) -> list[str]:
    """The problem lines of a file that does not validate, with the directory stripped."""
    with pytest.raises(ConfigFileError) as e:
        load_text(tmp_path, text)
    err = e.value
    assert isinstance(err, ConfigError) and isinstance(err, ValueError)
    assert isinstance(err, VigilError) and err.code == "config_error"
    assert str(err).startswith("[config_error] ")
    return [str(p).replace(f"{tmp_path}/", "") for p in err.problems]


# --- loading --------------------------------------------------------------------------------


def test_load_example(example_file: Path):
    cfg = load_config(example_file)
    assert cfg.version == 1
    assert [e.name for e in cfg.endpoints] == ["churn", "fraud"]
    assert cfg.endpoints[0].variant == "AllTraffic"
    assert cfg.endpoints[1].variant == "Canary"
    assert cfg.endpoints[1].capture_uri is None
    assert cfg.baselines[0].endpoint == "churn"
    assert cfg.baselines[1].options == {"comparison_threshold": 0.2, "header": False}
    hourly, fast = cfg.schedules
    assert hourly.expression == "cron(0 * ? * * *)"
    assert (hourly.window_start_offset, hourly.window_end_offset) == ("-PT1H", "-PT0H")
    assert hourly.monitor_type == "DataQuality"
    assert hourly.status == "Scheduled"
    assert fast.status == "Paused"
    assert fast.config == {"features_attribute": "features", "preprocessor": "hooks/flatten.py"}
    assert fast.window_start_offset is None


def test_empty_file_is_an_empty_config(tmp_path: Path):
    assert load_text(tmp_path, "") == VigilConfig()
    assert load_text(tmp_path, "# nothing yet\n") == VigilConfig()


def test_every_schedule_form_is_accepted(tmp_path: Path):
    cfg = load_text(
        tmp_path,
        """
        schedules:
          - {name: a, endpoint: e, baseline: b, expression: "cron(0 0/4 ? * MON-FRI *)"}
          - {name: b, endpoint: e, baseline: b, expression: "*/5 * * * *"}
          - {name: c, endpoint: e, baseline: b, expression: "rate(1 minute)"}
          - name: d
            endpoint: e
            baseline: b
            expression: NOW
            window_start_offset: -P1D
            window_end_offset: -PT0H
        """,
    )
    assert [s.expression for s in cfg.schedules] == [
        "cron(0 0/4 ? * MON-FRI *)",
        "*/5 * * * *",
        "rate(1 minute)",
        "NOW",
    ]


# --- errors with lines ----------------------------------------------------------------------


def test_bad_expression_names_file_line_and_field(tmp_path: Path):
    lines = errors_of(
        tmp_path,
        """\
        version: 1
        endpoints:
          - name: churn
        schedules:
          - name: hourly
            endpoint: churn
            baseline: b1
            expression: cron(0 * * * * *)
        """,
    )
    assert lines == [
        "vigil.yaml:8: schedules[0].expression: cron(0 * * * * *): "
        "AWS cron needs '?' in day-of-month or day-of-week"
    ]


def test_unknown_key_is_named_with_its_line(tmp_path: Path):
    lines = errors_of(
        tmp_path,
        """\
        endpoints:
          - name: churn
        schedules:
          - name: hourly
            endpoint: churn
            baseline: b1
            expression: rate(1 hour)
            window_offset: -PT1H
        """,
    )
    assert len(lines) == 1
    assert lines[0].startswith(
        "vigil.yaml:8: schedules[0].window_offset: unknown key 'window_offset'; expected one of "
        "name, endpoint, baseline, expression, window_start_offset"
    )


def test_unknown_top_level_key(tmp_path: Path):
    lines = errors_of(tmp_path, "version: 1\npanels:\n  - name: a\n")
    assert lines == [
        "vigil.yaml:2: panels: unknown key 'panels'; "
        "expected one of version, endpoints, baselines, schedules, topics, alarms, workflows, "
        "rules, scrape_configs, dashboards, platform, defaults"
    ]


def test_alarm_entries_are_checked_with_their_lines(tmp_path: Path):
    lines = errors_of(tmp_path, "version: 1\nalarms:\n  - name: a\n")
    assert "vigil.yaml:3: alarms[0].namespace: missing required key 'namespace'" in lines


def test_every_problem_is_reported_in_line_order(tmp_path: Path):
    lines = errors_of(
        tmp_path,
        """\
        endpoints:
          - name: churn model
          - variant: B
        baselines:
          - name: b1
            path: baselines/b1
            options:
              header: false
              comparision_threshold: 0.2
        schedules:
          - name: s1
            endpoint: churn
            baseline: b1
            expression: rate(1 minutes)
            status: Running
          - name: s2
            endpoint: churn
            baseline: b1
            expression: rate(1 hour)
            window_start_offset: -P1M
        """,
    )
    assert lines[0] == (
        "vigil.yaml:2: endpoints[0].name: 'churn model' is not a valid name: "
        "use 1-63 letters, digits, '-' or '_'"
    )
    assert lines[1] == "vigil.yaml:3: endpoints[1].name: missing required key 'name'"
    assert lines[2].startswith(
        "vigil.yaml:9: baselines[0].options.comparision_threshold: "
        "unknown baseline option(s) comparision_threshold; expected any of"
    )
    assert lines[3] == (
        "vigil.yaml:14: schedules[0].expression: rate(1 minutes): "
        "use the singular unit with 1, as in rate(1 minute)"
    )
    assert lines[4] == (
        "vigil.yaml:15: schedules[0].status: Input should be 'Scheduled' or 'Paused', got 'Running'"
    )
    assert lines[5] == (
        "vigil.yaml:20: schedules[1].window_start_offset: -P1M: years and months have no "
        "fixed length; use days (P30D) or hours"
    )
    assert len(lines) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "endpoints:\n  - name: a\n  - name: b\n  - name: a\n",
            "vigil.yaml:4: endpoints[2].name: duplicate endpoint name 'a' (first at endpoints[0])",
        ),
        (
            "endpoints:\n  - name: a\n    variant: X\n    variant: Y\n",
            "vigil.yaml:4: endpoints[0].variant: duplicate key 'variant'",
        ),
        (
            "version: 2\n",
            "vigil.yaml:1: version: version 2 is not supported; expected 1",
        ),
        (
            "- name: a\n",
            "vigil.yaml:1: expected a mapping with version, endpoints, baselines and schedules; "
            "got a list",
        ),
        (
            "endpoints:\n  - name: a\n  - name: [b\n",
            "vigil.yaml:4: not valid YAML: while parsing a flow sequence expected ',' or ']', "
            "but got '<stream end>'",
        ),
        (
            "endpoints: churn\n",
            "vigil.yaml:1: endpoints: Input should be a valid list, got 'churn'",
        ),
        (
            "endpoints:\n  - name: 123\n",
            "vigil.yaml:2: endpoints[0].name: Input should be a valid string, got 123",
        ),
        (
            "baselines:\n  - name: b\n    path: ''\n",
            "vigil.yaml:3: baselines[0].path: a baseline needs a path: "
            "a baseline directory or a data file",
        ),
        (
            "baselines:\n  - name: b\n    path: d\n    options:\n      comparison_method: Fast\n",
            "vigil.yaml:5: baselines[0].options.comparison_method: "
            "comparison_method 'Fast': expected Robust or Simple",
        ),
        (
            "baselines:\n  - name: b\n    path: d\n    options:\n      comparison_threshold: x\n",
            "vigil.yaml:5: baselines[0].options.comparison_threshold: "
            "comparison_threshold 'x': expected a value of type float",
        ),
        (
            "schedules:\n  - name: s\n    endpoint: e\n    baseline: b\n    expression: NOW\n",
            "vigil.yaml:2: schedules[0]: NOW: a one-time schedule needs window_start_offset and "
            "window_end_offset, such as -PT1H and -PT0H",
        ),
        (
            "schedules:\n  - {name: s, endpoint: e, baseline: b, expression: rate(1 hour),\n"
            "     window_start_offset: -PT1H, window_end_offset: -PT2H}\n",
            "vigil.yaml:2: schedules[0]: window_start_offset -PT1H is not before "
            "window_end_offset -PT2H",
        ),
        (
            "schedules:\n  - name: s\n    endpoint: e\n    baseline: b\n"
            "    expression: rate(1 hour)\n    config:\n      since: 2024-01-01\n",
            "vigil.yaml:7: schedules[0].config.since: input was not a valid JSON value, "
            "got datetime.date(2024, 1, 1)",
        ),
    ],
)
def test_validation_errors(tmp_path: Path, text: str, expected: str):
    assert errors_of(tmp_path, text) == [expected]


def test_missing_keys_point_at_their_item(tmp_path: Path):
    lines = errors_of(tmp_path, "schedules:\n  - name: s\n    endpoint: e\n")
    assert lines == [
        "vigil.yaml:2: schedules[0].baseline: missing required key 'baseline'",
        "vigil.yaml:2: schedules[0].expression: missing required key 'expression'",
    ]


def test_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read the config file"):
        load_config(tmp_path / "nope.yaml")


def test_direct_construction_validates_too():
    with pytest.raises(ValidationError, match="duplicate schedule name 's'"):
        VigilConfig(
            schedules=[
                ScheduleSpec(name="s", endpoint="e", baseline="b", expression="rate(1 hour)"),
                ScheduleSpec(name="s", endpoint="e", baseline="b", expression="rate(2 hours)"),
            ]
        )
    with pytest.raises(ValidationError, match="AWS cron needs six fields"):
        ScheduleSpec(name="s", endpoint="e", baseline="b", expression="cron(0 * * * *)")
    with pytest.raises(ValidationError, match="not a valid name"):
        EndpointSpec(name="x" * 64)
    assert EndpointSpec(name="x" * 63).name == "x" * 63


# --- references -----------------------------------------------------------------------------


def test_references(example_file: Path):
    cfg = load_config(example_file)
    assert cfg.references() == {
        Reference("endpoint", "churn"),
        Reference("endpoint", "fraud"),
        Reference("baseline", "churn-v1"),
        Reference("baseline", "fraud-train"),
    }
    assert cfg.undefined_references() == set()
    partial = VigilConfig(
        baselines=[BaselineSpec(name="b1", endpoint="ep0", path="d")],
        schedules=[ScheduleSpec(name="s", endpoint="ep1", baseline="b2", expression="@daily")],
    )
    assert partial.undefined_references() == {
        Reference("endpoint", "ep0"),
        Reference("endpoint", "ep1"),
        Reference("baseline", "b2"),
    }
    assert partial.defined() == {Reference("baseline", "b1")}


def test_resolve_paths(tmp_path: Path, example_file: Path):
    cfg = load_config(example_file).resolve_paths(example_file.parent)
    assert cfg.baselines[0].path == str(tmp_path / "baselines" / "churn-v1")
    assert cfg.baselines[1].path == str(tmp_path / "data" / "fraud.csv")
    assert cfg.endpoints[0].capture_uri == "s3://bucket/capture/churn"  # URLs untouched
    absolute = VigilConfig(baselines=[BaselineSpec(name="b", path="/srv/b")])
    assert absolute.resolve_paths(tmp_path) == absolute


# --- writing --------------------------------------------------------------------------------


def test_round_trip(example_file: Path, tmp_path: Path):
    cfg = load_config(example_file)
    text = dump_config(cfg)
    again = tmp_path / "exported.yaml"
    again.write_text(text)
    assert load_config(again) == cfg
    assert dump_config(load_config(again)) == text  # stable


def test_dump_key_order_and_omissions():
    cfg = VigilConfig(
        schedules=[
            ScheduleSpec(
                name="s",
                endpoint="e",
                baseline="b",
                expression="*/5 * * * *",
                config={"z": 1, "a": {"y": 2, "b": 3}},
            )
        ]
    )
    text = dump_config(cfg)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == [
        "version: 1",
        "schedules:",
        "- name: s",
        "  endpoint: e",
        "  baseline: b",
        "  expression: '*/5 * * * *'",
        "  monitor_type: DataQuality",
        "  status: Scheduled",
        "  config:",
        "    a:",
        "      b: 3",
        "      y: 2",
        "    z: 1",
    ]
    assert parse_config(text) == cfg


def test_round_trip_keeps_unicode_line_breaks_and_yaml_lookalikes():
    # PyYAML reads an unquoted U+0085 or U+2028 back as a line break; 'yes', 'null' and '*x'
    # would come back as a bool, None and an alias unless quoted
    cfg = VigilConfig(
        endpoints=[EndpointSpec(name="e", capture_uri="yes")],
        baselines=[BaselineSpec(name="b", path="*x")],
        schedules=[
            ScheduleSpec(
                name="s",
                endpoint="e",
                baseline="b",
                expression="rate(1 hour)",
                config={"a\x85b": "x\u2028y", "null": "null", "caf\u00e9": ["1", 1, 1.5, None]},
            )
        ],
    )
    text = dump_config(cfg)
    assert "café" in text  # readable, not escaped
    assert parse_config(text) == cfg


NAMES = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
EXPRESSIONS = ["cron(0 * ? * * *)", "cron(0 12 ? * 2#1 *)", "*/5 * * * *", "rate(1 day)", "@hourly"]
OFFSETS = [(None, None), ("-PT1H", "-PT0H"), ("-P1DT2H", None), (None, "-PT5M")]

endpoints = st.builds(
    EndpointSpec,
    name=NAMES,
    variant=NAMES,
    capture_uri=st.none() | st.sampled_from(["s3://b/c", "capture/dir", "yes", "null", "*x"]),
)
baselines = st.builds(
    BaselineSpec,
    name=NAMES,
    endpoint=st.none() | NAMES,
    path=st.sampled_from(["baselines/b", "/abs/data.csv", "s3://b/stats", "a: b", "# c"]),
    options=st.fixed_dictionaries(
        {},
        optional={
            "header": st.booleans(),
            "comparison_threshold": st.floats(0, 1),
            "feature_drift": st.dictionaries(NAMES, st.sampled_from(["psi", "ks"]), max_size=2),
        },
    ),
)


@st.composite
def schedules(draw: st.DrawFn) -> ScheduleSpec:
    start, end = draw(st.sampled_from(OFFSETS))
    return ScheduleSpec(
        name=draw(NAMES),
        endpoint=draw(NAMES),
        baseline=draw(NAMES),
        expression=draw(st.sampled_from(EXPRESSIONS)),
        window_start_offset=start,
        window_end_offset=end,
        status=draw(st.sampled_from(["Scheduled", "Paused"])),
        config=draw(st.dictionaries(st.text(max_size=6), JSON, max_size=3)),
    )


configs = st.builds(
    VigilConfig,
    endpoints=st.lists(endpoints, max_size=3, unique_by=lambda s: s.name),
    baselines=st.lists(baselines, max_size=3, unique_by=lambda s: s.name),
    schedules=st.lists(schedules(), max_size=3, unique_by=lambda s: s.name),
)


@settings(max_examples=150, deadline=None)
@given(configs)
def test_round_trip_property(cfg: VigilConfig):
    text = dump_config(cfg)
    assert parse_config(text) == cfg
    assert dump_config(parse_config(text)) == text
    assert not diff_config(cfg, parse_config(text)).has_changes


# --- plans ----------------------------------------------------------------------------------


def apply(state: VigilConfig, plan: Plan) -> VigilConfig:
    """What the integrator's apply does with a plan, on an in-memory 'database'."""
    result = {}
    for kind_plan, attr in zip(plan.kinds, ("endpoints", "baselines", "schedules")):
        current = {s.name: s for s in getattr(state, attr)}
        for spec in kind_plan.create:
            current[spec.name] = spec
        for update in kind_plan.update:
            current[update.name] = update.after
        result[attr] = list(current.values())
    return VigilConfig(**result)


def test_applying_twice_is_idempotent(example_file: Path):
    desired = load_config(example_file)
    first = diff_config(VigilConfig(), desired)
    assert first.summary() == "created 6, updated 0, unchanged 0"
    assert [len(k.create) for k in first.kinds] == [2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0]
    assert first.lines()[:2] == ["+ endpoint churn", "+ endpoint fraud"]
    assert first.has_changes
    state = apply(VigilConfig(), first)
    second = diff_config(state, desired)
    assert second.summary() == "created 0, updated 0, unchanged 6"
    assert not second.has_changes
    assert second.lines() == []
    assert apply(state, second) == state


def test_updates_are_detected_with_their_fields(example_file: Path):
    current = load_config(example_file)
    desired = load_config(example_file)
    desired.schedules[0] = desired.schedules[0].model_copy(update={"status": "Paused"})
    desired.schedules[1] = desired.schedules[1].model_copy(
        update={"expression": "rate(10 minutes)", "window_end_offset": "-PT1M"}
    )
    desired.baselines[1] = desired.baselines[1].model_copy(
        update={"options": {"comparison_threshold": 0.3, "header": False}}
    )
    desired.endpoints.append(EndpointSpec(name="new-one"))
    plan = diff_config(current, desired)
    assert plan.summary() == "created 1, updated 3, unchanged 3"
    assert [u.fields for u in plan.schedules.update] == [
        ("status",),
        ("expression", "window_end_offset"),
    ]
    assert plan.schedules.update[0].before.status == "Scheduled"
    assert plan.schedules.update[0].after.status == "Paused"
    assert plan.lines() == [
        "+ endpoint new-one",
        "~ baseline fraud-train (options)",
        "~ schedule churn-hourly (status)",
        "~ schedule fraud-5min (expression, window_end_offset)",
    ]
    state = apply(current, plan)
    assert not diff_config(state, desired).has_changes


def test_resources_missing_from_the_file_are_reported_not_removed(example_file: Path):
    current = load_config(example_file)
    desired = current.model_copy(update={"schedules": current.schedules[:1]})
    plan = diff_config(current, desired)
    assert [s.name for s in plan.schedules.absent] == ["fraud-5min"]
    assert plan.summary() == "created 0, updated 0, unchanged 5"
    assert not plan.has_changes
