"""Alertmanager semantics: routing, grouping timers, resolved, silences, inhibition, flapping."""

from __future__ import annotations

import pytest

from vigil.alerts.routing import Alert, Dispatcher, InhibitRule, Matcher, Route, Silence


def drift(feature: str, start: float = 0.0, end: float | None = None, **extra: str) -> Alert:
    return Alert({"alertname": "drift", "feature": feature, **extra}, starts_at=start, ends_at=end)


def test_group_wait_interval_repeat_and_resolved():
    d = Dispatcher(
        Route(
            receiver="team",
            group_by=("alertname",),
            group_wait=30,
            group_interval=300,
            repeat_interval=3600,
        )
    )
    d.receive([drift("age")], now=0)
    assert d.flush(now=29) == []
    first = d.flush(now=30)
    assert [(n.status, [a.labels["feature"] for a in n.alerts]) for n in first] == [
        ("firing", ["age"])
    ]
    d.receive([drift("income", start=40)], now=40)  # joins the group
    assert d.flush(now=100) == []  # group_interval not over
    second = d.flush(now=330)
    assert {a.labels["feature"] for a in second[0].alerts} == {"age", "income"}
    assert d.flush(now=600) == []  # unchanged: wait for the repeat interval
    assert len(d.flush(now=330 + 3600)) == 1  # repeated while firing
    d.receive([drift("age", end=4000), drift("income", start=40, end=4000)], now=4000)
    resolved = d.flush(now=330 + 3600 + 300)
    assert [n.status for n in resolved] == ["resolved"]
    assert d.groups == {}  # the group ends after its resolved notification
    payload = resolved[0].payload(now=5000)
    assert payload["version"] == "4" and payload["status"] == "resolved"
    assert payload["commonLabels"] == {"alertname": "drift"}


def test_no_resolved_for_receivers_that_do_not_want_it():
    d = Dispatcher(
        Route(receiver="email", group_by=("alertname",), group_wait=0),
        send_resolved={"email": False},
    )
    d.receive([drift("age")], now=0)
    assert len(d.flush(now=0)) == 1
    d.receive([drift("age", end=10)], now=10)
    assert d.flush(now=400) == []


def test_routing_tree_first_match_continue_and_inheritance():
    root = Route(
        receiver="default",
        group_by=("alertname",),
        group_wait=5,
        routes=(
            Route(receiver="pager", matchers=(Matcher("severity", "critical"),), continue_=True),
            Route(receiver="ml", matchers=(Matcher.parse('team=~"ml|data"'),)),
            Route(receiver="never", matchers=(Matcher("team", "ml"),)),
        ),
    )
    assert [r.receiver for r in root.match({"severity": "critical", "team": "ml"})] == [
        "pager",
        "ml",
    ]
    assert [r.receiver for r in root.match({"team": "data"})] == ["ml"]
    assert [r.receiver for r in root.match({"team": "web"})] == ["default"]
    assert root.match({"team": "ml"})[0].group_wait == 5  # inherited


def test_silences_mute_but_resolved_still_arrives():
    silence = Silence([Matcher("feature", "age")], starts_at=50, ends_at=500)
    d = Dispatcher(
        Route(receiver="team", group_by=("feature",), group_wait=0, group_interval=60),
        silences=[silence],
    )
    d.receive([drift("age")], now=0)
    assert len(d.flush(now=0)) == 1  # before the silence
    d.receive([drift("age", end=100)], now=100)  # resolves while silenced
    out = d.flush(now=100)
    assert [n.status for n in out] == ["resolved"], "the resolve is owed and delivered"
    d.receive([drift("weight", start=200)], now=200)
    d.receive([drift("age", start=210)], now=210)
    sent = [a.labels["feature"] for n in d.flush(now=300) for a in n.alerts]
    assert sent == ["weight"]  # the re-firing age alert is silenced


def test_inhibition():
    rule = InhibitRule(
        source=[Matcher("alertname", "endpoint_down")],
        target=[Matcher("alertname", "drift")],
        equal=("endpoint",),
    )
    d = Dispatcher(
        Route(receiver="team", group_by=("alertname",), group_wait=0), inhibit_rules=[rule]
    )
    d.receive(
        [
            Alert({"alertname": "endpoint_down", "endpoint": "a"}),
            drift("age", endpoint="a"),
            drift("age", endpoint="b"),
        ],
        now=0,
    )
    names = sorted(
        (a.labels["alertname"], a.labels["endpoint"]) for n in d.flush(now=0) for a in n.alerts
    )
    assert names == [("drift", "b"), ("endpoint_down", "a")]


def test_flapping_alert_is_held_firing():
    d = Dispatcher(
        Route(receiver="team", group_by=("alertname",), group_wait=0, group_interval=60),
        flap_threshold=3,
        flap_window=600,
    )
    t = 0.0
    for _ in range(3):  # fire, resolve, fire, resolve ... quickly
        d.receive([drift("age", start=t)], now=t)
        d.receive([drift("age", start=t, end=t + 10)], now=t + 10)
        t += 20
    assert d.alerts[drift("age").fingerprint].ends_at is None, "held firing while flapping"
    statuses = [n.status for n in d.flush(now=t)]
    assert statuses == ["firing"]


def test_matcher_parse_errors():
    with pytest.raises(ValueError, match="expected name=value"):
        Matcher.parse("no operator here")
