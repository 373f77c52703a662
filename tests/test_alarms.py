"""Alarms: CloudWatch's worked tables, M of N, actions, reasons, composites, bands, batch."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

import vigil.alerts.alarms as alarms_pkg
from vigil.alerts.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    CompositeAlarm,
    MetricAlarm,
    RuleSyntaxError,
    SeasonalBand,
    SuppressorMemory,
    evaluate_composite,
    evaluate_many,
    evaluate_metric_alarm,
    fetch_and_evaluate,
    parse_rule,
)
from vigil.errors import ConfigError
from vigil.store import Database, MetricDatum, MetricStore

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 10, 5, 0, tzinfo=UTC)  # slots 10:00 .. 10:04 (5 = N + 2)
TREATS = ("missing", "notBreaching", "breaching", "ignore")


def make_alarm(**kw: object) -> MetricAlarm:
    base: dict[str, object] = dict(
        name="a",
        namespace="ns",
        metric_name="m",
        statistic="Maximum",
        period=60,
        evaluation_periods=3,
        threshold=1.0,
        comparison_operator="GreaterThanThreshold",
        alarm_actions=["page"],
        ok_actions=["resolve"],
        insufficient_data_actions=["nodata"],
    )
    base.update(kw)
    return MetricAlarm(**base)  # type: ignore[arg-type]


def rows_for(slots: str, now: datetime = NOW, stat: str = "Maximum") -> list[dict]:
    """'0 - X - X' oldest first: 0 fine (0.0), X breaching (2.0), - missing."""
    cells = slots.split()
    return [
        {"Timestamp": now - timedelta(minutes=len(cells) - i), stat: 2.0 if c == "X" else 0.0}
        for i, c in enumerate(cells)
        if c != "-"
    ]


TABLE_1 = [  # N = M = 3: missing, notBreaching, breaching, ignore
    ("0 - X - X", "OK OK OK OK"),
    ("0 - - - -", "OK OK OK OK"),
    ("- - - - -", "INSUFFICIENT_DATA OK ALARM keep"),
    ("0 X X - X", "ALARM ALARM ALARM ALARM"),
    ("- - - - X", "INSUFFICIENT_DATA OK ALARM keep"),
    ("X - - - -", "ALARM OK ALARM keep"),
]
TABLE_2 = [  # M = 2, N = 3
    ("0 - X - X", "ALARM ALARM ALARM ALARM"),
    ("0 - X - -", "OK OK ALARM OK"),
    ("- - - - 0", "OK OK ALARM OK"),
    ("- - - - X", "INSUFFICIENT_DATA OK ALARM keep"),
]
CELLS = [
    (m, slots, treat, expected)
    for m, table in ((3, TABLE_1), (2, TABLE_2))
    for slots, row in table
    for treat, expected in zip(TREATS, row.split())
]


@pytest.mark.parametrize("current", [OK, ALARM, INSUFFICIENT_DATA])
@pytest.mark.parametrize(("m", "slots", "treat", "expected"), CELLS)
def test_worked_tables(m: int, slots: str, treat: str, expected: str, current: str) -> None:
    alarm = make_alarm(datapoints_to_alarm=m, treat_missing_data=treat)
    e = evaluate_metric_alarm(alarm, rows_for(slots), NOW, current)
    assert e.state == (current if expected == "keep" else expected)


@pytest.mark.parametrize("current", [OK, ALARM, INSUFFICIENT_DATA])
@pytest.mark.parametrize(("m", "slots", "treat", "expected"), CELLS)
def test_batch_path_agrees_with_tables(
    m: int, slots: str, treat: str, expected: str, current: str, store: MetricStore
) -> None:
    alarm = make_alarm(datapoints_to_alarm=m, treat_missing_data=treat, statistic="Maximum")
    put_rows(store, rows_for(slots))
    result = evaluate_many(store, [alarm], NOW, {"a": current})
    assert result.states["a"] == (current if expected == "keep" else expected)


def put_rows(store: MetricStore, rows: list[dict], name: str = "m", stat: str = "Maximum") -> None:
    store.put(
        MetricDatum("ns", name, {}, r["Timestamp"] + timedelta(seconds=1), r[stat]) for r in rows
    )


@pytest.fixture
def store(tmp_path) -> MetricStore:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'metrics.db'}")
    db.create_all()
    return MetricStore(db)


def test_m_of_n_not_consecutive() -> None:
    alarm = make_alarm(evaluation_periods=5, datapoints_to_alarm=3)
    now = NOW + timedelta(minutes=2)  # 7 slots: 10:00 .. 10:06
    assert evaluate_metric_alarm(alarm, rows_for("0 0 X 0 X 0 X", now), now).state == ALARM
    assert evaluate_metric_alarm(alarm, rows_for("X X X 0 X 0 0", now), now).state == OK


@pytest.mark.parametrize(
    ("operator", "value", "breaches"),
    [
        ("GreaterThanThreshold", 1.0, False),
        ("GreaterThanThreshold", 1.5, True),
        ("GreaterThanOrEqualToThreshold", 1.0, True),
        ("GreaterThanOrEqualToThreshold", 0.5, False),
        ("LessThanThreshold", 1.0, False),
        ("LessThanThreshold", 0.5, True),
        ("LessThanOrEqualToThreshold", 1.0, True),
        ("LessThanOrEqualToThreshold", 1.5, False),
    ],
)
def test_comparison_operators(operator: str, value: float, breaches: bool) -> None:
    alarm = make_alarm(comparison_operator=operator, evaluation_periods=1)
    rows = [{"Timestamp": NOW - timedelta(minutes=1), "Maximum": value}]
    assert evaluate_metric_alarm(alarm, rows, NOW, OK).state == (ALARM if breaches else OK)


def test_actions_only_on_transitions() -> None:
    alarm = make_alarm()
    rows = rows_for("X X X X X")
    first = evaluate_metric_alarm(alarm, rows, NOW, OK)
    assert (first.state, first.transition, first.actions) == (ALARM, True, ["page"])
    again = evaluate_metric_alarm(alarm, rows, NOW, ALARM)
    assert (again.state, again.transition, again.actions) == (ALARM, False, [])
    back = evaluate_metric_alarm(alarm, rows_for("0 0 0 0 0"), NOW, ALARM)
    assert back.actions == ["resolve"]
    nodata = evaluate_metric_alarm(alarm, [], NOW, OK)
    assert (nodata.state, nodata.actions) == (INSUFFICIENT_DATA, ["nodata"])
    muted = evaluate_metric_alarm(make_alarm(actions_enabled=False), rows, NOW, OK)
    assert (muted.state, muted.transition, muted.actions) == (ALARM, True, [])


def test_new_alarm_starts_insufficient_data() -> None:
    e = evaluate_metric_alarm(make_alarm(), rows_for("0 0 0 0 0"), NOW)
    assert (e.previous_state, e.state, e.actions) == (INSUFFICIENT_DATA, OK, ["resolve"])


def test_reason_text_and_data() -> None:
    alarm = make_alarm(threshold=0.1, statistic="Average")
    rows = [
        {"Timestamp": NOW - timedelta(minutes=3 - i), "Average": v, "SampleCount": 12.0}
        for i, v in enumerate([0.31, 0.29, 0.35])
    ]
    e = evaluate_metric_alarm(alarm, rows, NOW, OK)
    assert e.reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [0.35 (01/05/24 10:04:00), "
        "0.29 (01/05/24 10:03:00), 0.31 (01/05/24 10:02:00)] were greater than the threshold "
        "(0.1) (minimum 3 datapoints for OK -> ALARM transition)."
    )
    assert e.reason_data == {
        "version": "1.0",
        "queryDate": "2024-05-01T10:05:00.000+0000",
        "startDate": "2024-05-01T10:02:00.000+0000",
        "statistic": "Average",
        "period": 60,
        "recentDatapoints": [0.31, 0.29, 0.35],
        "threshold": 0.1,
        "evaluatedDatapoints": [
            {"timestamp": "2024-05-01T10:04:00.000+0000", "sampleCount": 12.0, "value": 0.35},
            {"timestamp": "2024-05-01T10:03:00.000+0000", "sampleCount": 12.0, "value": 0.29},
            {"timestamp": "2024-05-01T10:02:00.000+0000", "sampleCount": 12.0, "value": 0.31},
        ],
    }
    ok = evaluate_metric_alarm(make_alarm(evaluation_periods=1), rows_for("0"), NOW, ALARM)
    assert ok.reason == (
        "Threshold Crossed: 1 datapoint [0.0 (01/05/24 10:04:00)] was not greater than the "
        "threshold (1.0)."
    )
    nodata = evaluate_metric_alarm(make_alarm(treat_missing_data="breaching"), [], NOW, OK)
    assert nodata.reason == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
        "datapoints were treated as [Breaching]."
    )
    assert evaluate_metric_alarm(make_alarm(), [], NOW, OK).reason == (
        "Insufficient Data: 3 datapoints were unknown."
    )


@pytest.mark.parametrize(("mode", "expected"), [("evaluate", ALARM), ("ignore", OK)])
def test_low_sample_percentile(mode: str, expected: str) -> None:
    # p99 needs 10 / (1 - 0.99) = 1000 samples per period
    alarm = make_alarm(statistic="p99", evaluate_low_sample_count_percentile=mode)
    rows = [
        {"Timestamp": NOW - timedelta(minutes=i), "p99": 5.0, "SampleCount": 999.0}
        for i in (1, 2, 3)
    ]
    e = evaluate_metric_alarm(alarm, rows, NOW, OK)
    assert e.state == expected
    for row in rows:
        row["SampleCount"] = 1000.0
    assert evaluate_metric_alarm(alarm, rows, NOW, OK).state == ALARM


def test_validation_names_the_field() -> None:
    good = make_alarm().model_dump()
    with pytest.raises(ConfigError, match=r"period: expected 10, 20, 30 or a multiple of 60"):
        MetricAlarm.parse({**good, "period": 45})
    with pytest.raises(ConfigError, match="datapoints_to_alarm: 4 is more than"):
        MetricAlarm.parse({**good, "datapoints_to_alarm": 4})
    with pytest.raises(ConfigError, match="treat_missing_data"):
        MetricAlarm.parse({**good, "treat_missing_data": "zero"})
    with pytest.raises(ConfigError, match="threshold: required"):
        MetricAlarm.parse({**good, "threshold": None})
    assert MetricAlarm.parse({**good, "period": 20}).period == 20
    with pytest.raises(ConfigError, match=r"alarm_rule: alarm rule, position 8"):
        CompositeAlarm.parse({"name": "c", "alarm_rule": "TRUE OR"})


# -- composite ----------------------------------------------------------------------------


def test_rule_precedence_and_quotes() -> None:
    assert repr(parse_rule("NOT ALARM(a) AND OK(b) OR TRUE")) == (
        "Or(And(Not(Is('ALARM', 'a')), Is('OK', 'b')), TRUE)"
    )
    assert repr(parse_rule('ALARM("my alarm (prod)") AND (FALSE OR INSUFFICIENT_DATA(x))')) == (
        "And(Is('ALARM', 'my alarm (prod)'), Or(FALSE, Is('INSUFFICIENT_DATA', 'x')))"
    )
    states = {"a": OK, "b": OK, "c": ALARM}
    assert parse_rule("ALARM(c) OR ALARM(a) AND ALARM(b)").holds(states)  # AND binds first
    assert not parse_rule("(ALARM(c) OR ALARM(a)) AND ALARM(b)").holds(states)
    assert parse_rule("NOT NOT OK(a)").holds(states)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("ALARM(a) AND", "position 13: expected TRUE, FALSE, NOT, ( or a state function"),
        ("ALARM(a", "position 8: expected ')' after the alarm name"),
        ("ALARM a", "position 7: expected '(' after ALARM"),
        ("(TRUE", "position 6: expected ')'"),
        ("TRUE FALSE", "position 6: expected AND, OR or the end of the rule, got 'FALSE'"),
        ('OK("a)', "position 4: unterminated quoted name"),
        ("   ", "position 1: expected a rule"),
        ("ALARM()", "position 7: expected an alarm name"),
    ],
)
def test_rule_errors_name_the_position(rule: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(rule)


def test_composite_states_and_actions() -> None:
    c = CompositeAlarm(
        name="svc", alarm_rule="ALARM(cpu) AND NOT OK(err)", alarm_actions=["p"], ok_actions=["r"]
    )
    t = NOW
    e = evaluate_composite(c, {"cpu": ALARM, "err": INSUFFICIENT_DATA}, t, OK)
    assert (e.state, e.actions) == (ALARM, ["p"])
    e = evaluate_composite(c, {"cpu": ALARM, "err": ALARM}, t, ALARM, e.memory)
    assert (e.state, e.actions) == (ALARM, [])
    e = evaluate_composite(c, {"cpu": ALARM, "err": OK}, t, ALARM, e.memory)
    assert (e.state, e.actions) == (OK, ["r"])


def suppressed_alarm() -> CompositeAlarm:
    return CompositeAlarm(
        name="svc",
        alarm_rule="ALARM(cpu)",
        alarm_actions=["page"],
        ok_actions=["resolve"],
        actions_suppressor="maintenance",
        actions_suppressor_wait_period=120,
        actions_suppressor_extension_period=300,
    )


def run_steps(steps: list[tuple[int, str, str]]) -> list[list[str]]:
    """(seconds after NOW, cpu state, suppressor state) -> actions run at each step."""
    c, state, memory, out = suppressed_alarm(), OK, SuppressorMemory(), []
    for seconds, cpu, maint in steps:
        e = evaluate_composite(
            c, {"cpu": cpu, "maintenance": maint}, NOW + timedelta(seconds=seconds), state, memory
        )
        state, memory = e.state, e.memory
        out.append(e.actions)
    return out


def test_suppressor_wait_period_expires_then_acts() -> None:
    assert run_steps(
        [(0, ALARM, OK), (60, ALARM, OK), (119, ALARM, OK), (120, ALARM, OK), (180, ALARM, OK)]
    ) == [[], [], [], ["page"], []]


def test_suppressor_fires_within_wait_period() -> None:
    # the suppressor goes into ALARM within the wait: suppressed; it leaves at 200, the
    # extension (300 s) holds the actions until 500; the composite is still in ALARM: act.
    assert run_steps(
        [(0, ALARM, OK), (60, ALARM, ALARM), (200, ALARM, OK), (499, ALARM, OK), (500, ALARM, OK)]
    ) == [[], [], [], [], ["page"]]


def test_suppressor_extension_drops_actions_of_a_left_state() -> None:
    # in ALARM while suppressed, back to OK during the extension: the page never runs, and
    # the OK actions wait for the end of the extension
    assert run_steps(
        [
            (0, OK, ALARM),
            (30, ALARM, ALARM),
            (60, ALARM, OK),
            (100, OK, OK),
            (359, OK, OK),
            (360, OK, OK),
        ]
    ) == [[], [], [], [], [], ["resolve"]]


def test_no_suppressor_acts_at_once() -> None:
    c = CompositeAlarm(name="c", alarm_rule="TRUE", alarm_actions=["x"])
    assert evaluate_composite(c, {}, NOW, OK).actions == ["x"]
    with pytest.raises(ConfigError, match="actions_suppressor_wait_period"):
        CompositeAlarm.parse({"name": "c", "alarm_rule": "TRUE", "actions_suppressor": "m"})


# -- anomaly band -------------------------------------------------------------------------


def seasonal_series(days: int = 21, seed: int = 3) -> tuple[list[datetime], np.ndarray]:
    rng = np.random.default_rng(seed)
    t0 = datetime(2024, 4, 1, tzinfo=UTC)
    hours = np.arange(days * 24)
    ts = [t0 + timedelta(hours=int(h)) for h in hours]
    weekday = np.array([t.weekday() for t in ts])
    values = (
        50
        + 0.05 * hours / 24  # trend
        + 10 * np.sin(2 * np.pi * (hours % 24) / 24)  # daily
        + np.where(weekday >= 5, -8.0, 0.0)  # weekends lower
        + rng.normal(0, 1.0, len(hours))
    )
    return ts, values


def test_anomaly_band_catches_planted_anomaly() -> None:
    ts, values = seasonal_series()
    train = 14 * 24
    model = SeasonalBand.fit(ts[:train], values[:train])
    test_values = values[train:].copy()
    spike = 80
    test_values[spike] += 12.0  # a planted anomaly, 12 noise sigmas
    lower, upper = model.band(ts[train:], k=2)
    inside = (test_values >= lower) & (test_values <= upper)
    assert not inside[spike]
    normal = np.delete(inside, spike)
    assert normal.mean() >= 0.90  # about 95% expected for k = 2; measured share below
    print(f"share of normal points inside the k=2 band: {normal.mean():.3f}")


def test_band_operators_through_fetch_and_evaluate(store: MetricStore) -> None:
    ts, values = seasonal_series()
    now = ts[-1] + timedelta(hours=1)
    values = values.copy()
    values[-2] += 15.0  # anomalies in two of the last three hours
    values[-1] += 15.0
    store.put(MetricDatum("ns", "m", {}, t, float(v)) for t, v in zip(ts, values))
    alarm = make_alarm(
        statistic="Average",
        period=3600,
        threshold=None,
        datapoints_to_alarm=2,
        comparison_operator="LessThanLowerOrGreaterThanUpperThreshold",
    )
    e = fetch_and_evaluate(store, alarm, now, OK)
    assert e.state == ALARM
    assert e.reason.startswith("Thresholds Crossed: 2 out of the last 3 datapoints [")
    assert "or greater than the upper thresholds [" in e.reason
    lower_only = alarm.model_copy(update={"comparison_operator": "LessThanLowerThreshold"})
    assert fetch_and_evaluate(store, lower_only, now, OK).state == OK


# -- through the store ----------------------------------------------------------------------


def test_fetch_and_evaluate_percentile_low_sample(store: MetricStore) -> None:
    t0 = NOW - timedelta(minutes=5)
    data = []
    for minute in range(5):
        for j in range(30):  # 30 samples a period: low sample for p99 (needs 1000)
            data.append(
                MetricDatum(
                    "ns",
                    "lat",
                    {"Endpoint": "e"},
                    t0 + timedelta(minutes=minute, seconds=j),
                    100.0 + j,
                )
            )
    store.put(data)
    base = dict(
        name="lat",
        metric_name="lat",
        dimensions={"Endpoint": "e"},
        statistic="p99",
        threshold=120.0,
    )
    evaluated = fetch_and_evaluate(store, make_alarm(**base), NOW, OK)
    assert evaluated.state == ALARM  # p99 of 100..129 is 129
    assert evaluated.reason_data["evaluatedDatapoints"][0] == {
        "timestamp": "2024-05-01T10:04:00.000+0000",
        "sampleCount": 30.0,
        "value": 129.0,
    }
    ignored = make_alarm(**base, evaluate_low_sample_count_percentile="ignore")
    kept = fetch_and_evaluate(store, ignored, NOW, OK)
    assert (kept.state, kept.transition) == (OK, False)
    assert kept.reason.startswith("Low sample count: 3 of the evaluated datapoints")
    # p50 needs 20 samples: 30 is enough
    p50 = make_alarm(
        **{**base, "statistic": "p50", "threshold": 110.0},
        evaluate_low_sample_count_percentile="ignore",
    )  # p50 of 100..129 is 114
    assert fetch_and_evaluate(store, p50, NOW, OK).state == ALARM


def test_fetch_and_evaluate_uses_complete_periods_only(store: MetricStore) -> None:
    put_rows(store, rows_for("0 0 0 0 0"))
    store.put([MetricDatum("ns", "m", {}, NOW + timedelta(seconds=10), 9.0)])  # running period
    assert fetch_and_evaluate(store, make_alarm(), NOW + timedelta(seconds=30), OK).state == OK
    assert fetch_and_evaluate(store, make_alarm(), NOW + timedelta(minutes=1), OK).state == OK


def test_batch_matches_single_alarm_path(store: MetricStore) -> None:
    rnd = random.Random(11)
    alarms, data = [], []
    for i in range(60):
        name = f"m{i}"
        for minute in range(8):
            if rnd.random() < 0.6:
                for _ in range(rnd.randint(1, 3)):
                    data.append(
                        MetricDatum(
                            "ns",
                            name,
                            {},
                            NOW - timedelta(minutes=8 - minute, seconds=-rnd.randint(0, 59)),
                            rnd.choice([0.0, 1.0, 2.0]),
                        )
                    )
        n = rnd.randint(1, 4)
        alarms.append(
            make_alarm(
                name=f"a{i}",
                metric_name=name,
                evaluation_periods=n,
                datapoints_to_alarm=rnd.randint(1, n),
                statistic=rnd.choice(["Sum", "Average", "Minimum", "Maximum", "SampleCount"]),
                comparison_operator=rnd.choice(
                    [
                        "GreaterThanThreshold",
                        "LessThanThreshold",
                        "GreaterThanOrEqualToThreshold",
                        "LessThanOrEqualToThreshold",
                    ]
                ),
                treat_missing_data=rnd.choice(TREATS),
            )
        )
    alarms.append(make_alarm(name="pct", metric_name="m0", statistic="p90"))  # single path
    store.put(data)
    current = {a.name: rnd.choice([OK, ALARM, INSUFFICIENT_DATA]) for a in alarms}
    batch = evaluate_many(store, alarms, NOW, current)
    for a in alarms:
        single = fetch_and_evaluate(store, a, NOW, current[a.name])
        assert batch.states[a.name] == single.state, a
    transitions = {e.alarm_name: e for e in batch.transitions}
    for a in alarms:
        single = fetch_and_evaluate(store, a, NOW, current[a.name])
        if single.transition:
            assert transitions[a.name].reason == single.reason
            assert transitions[a.name].actions == single.actions
        else:
            assert a.name not in transitions


def test_public_names() -> None:
    assert sorted(alarms_pkg.__all__) == sorted(
        [
            "ALARM",
            "INSUFFICIENT_DATA",
            "OK",
            "STATES",
            "CompositeAlarm",
            "CompositeEvaluation",
            "Evaluation",
            "MetricAlarm",
            "RuleSyntaxError",
            "SeasonalBand",
            "SuppressorMemory",
            "evaluate_composite",
            "evaluate_many",
            "evaluate_metric_alarm",
            "evaluation_range",
            "fetch_and_evaluate",
            "low_sample_minimum",
            "parse_rule",
        ]
    )
