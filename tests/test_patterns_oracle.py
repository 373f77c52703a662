"""Pattern matching against moto's EventBridge matcher on generated (pattern, event) pairs.

moto (``moto.events.models.EventPattern``) is an independent implementation. The generator
stays inside the part of the language where moto follows EventBridge: no booleans (moto's
``==`` makes ``True == 1``), no empty arrays or objects in events (moto treats ``{}`` as a
leaf), no float literal equal to an int (moto compares numbers by value), no array of
objects (moto does not descend into arrays). What moto cannot judge is in
test_patterns_spec.py, from event-ruler's documented examples.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from vigil.events.patterns import compile_pattern, match
from vigil.events.ruleset import RuleSet

moto_models = pytest.importorskip("moto.events.models")

STRINGS = ["alpha", "Alpha", "ALPHA-1", "beta", "", "10.0.0.5", "10.0.1.9", "2001:db8::1",
           "x*y", "xay", "a\\b", "run.png", "gamma/delta.png"]  # fmt: skip
NUMBERS = [-3, 0, 1, 5, 100, 0.5, 2.75, 1e6]
KEYS = ["a", "b", "c"]


def _scalar(r: random.Random) -> Any:
    roll = r.random()
    if roll < 0.6:
        return r.choice(STRINGS)
    if roll < 0.95:
        return r.choice(NUMBERS)
    return None


def _event_value(r: random.Random) -> Any:
    if r.random() < 0.2:
        return [_scalar(r) for _ in range(r.randint(1, 3))]
    return _scalar(r)


def _event(r: random.Random) -> dict[str, Any]:
    event: dict[str, Any] = {k: _event_value(r) for k in KEYS if r.random() < 0.8}
    if r.random() < 0.7:
        event["d"] = {k: _event_value(r) for k in KEYS if r.random() < 0.8} or {"a": "alpha"}
    elif r.random() < 0.3:
        event["d"] = _scalar(r)
    return event


def _strings_or_one(r: random.Random, pool: list[str]) -> Any:
    return r.choice(pool) if r.random() < 0.6 else r.sample(pool, r.randint(1, 2))


def _matcher(r: random.Random) -> Any:
    kind = r.randrange(15)
    text = r.choice(["al", "AL", "a", "be", "10.", "", "x"])
    if kind == 0:
        return r.choice(STRINGS)
    if kind == 1:
        return r.choice([-3, 0, 1, 5, 100, 0.5, 2.75, None])
    if kind == 2:
        return {"prefix": text}
    if kind == 3:
        return {r.choice(["prefix", "suffix"]): {"equals-ignore-case": text or "a"}}
    if kind == 4:
        return {"suffix": r.choice(["ha", "png", "-1", "", ".png"])}
    if kind == 5:
        return {"equals-ignore-case": r.choice(["alpha", "BETA", "x*y"])}
    if kind == 6:
        return {"wildcard": r.choice(["al*", "*a", "*", "a*p*a", "x\\*y", "x*y", "*/*.png",
                                      "a\\\\b", "10.0.*"])}  # fmt: skip
    if kind == 7:
        return {"anything-but": _strings_or_one(r, STRINGS)}
    if kind == 8:
        return {"anything-but": r.choice([0, 5, [1, 100], [0.5, -3]])}
    if kind == 9:
        op = r.choice(["prefix", "suffix", "equals-ignore-case", "wildcard"])
        pool = {"prefix": ["al", "be", "10."], "suffix": ["ha", "png"],
                "equals-ignore-case": ["ALPHA", "beta"], "wildcard": ["*a", "x*"]}[op]
        return {"anything-but": {op: _strings_or_one(r, pool)}}
    if kind == 10:
        return {"numeric": r.choice([[">", 0], [">=", 1, "<", 100], ["=", 5], ["<=", 0.5],
                                     ["<", 3, ">", -5], ["=", 1e6]])}  # fmt: skip
    if kind == 11:
        return {"exists": r.random() < 0.5}
    if kind == 12:
        return {"cidr": r.choice(["10.0.0.0/24", "10.0.0.0/8", "2001:db8::/32"])}
    return r.choice(STRINGS)


def _leaf_pattern(r: random.Random) -> dict[str, Any]:
    return {k: [_matcher(r) for _ in range(r.randint(1, 3))]
            for k in r.sample(KEYS, r.randint(1, 2))}  # fmt: skip


def _pattern(r: random.Random) -> dict[str, Any]:
    pattern = _leaf_pattern(r) if r.random() < 0.7 else {}
    if r.random() < 0.5:
        pattern["d"] = _leaf_pattern(r)
    if r.random() < 0.25:
        pattern["$or"] = [_leaf_pattern(r) for _ in range(r.randint(2, 3))]
    return pattern


def _moto(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return bool(moto_models.EventPattern(None, pattern).matches_event(event))


def test_match_agrees_with_moto_on_generated_pairs() -> None:
    r = random.Random(11)
    checked = matched = 0
    for _ in range(400):
        pattern = _pattern(r)
        compiled = compile_pattern(pattern)
        for _ in range(10):
            event = _event(r)
            expected = _moto(pattern, event)
            assert compiled(event) is expected, (pattern, event)
            assert match(pattern, event) is expected
            checked += 1
            matched += expected
    assert checked == 4000
    assert 0.05 * checked < matched < 0.95 * checked  # both answers are exercised


def test_ruleset_agrees_with_checking_every_rule() -> None:
    r = random.Random(12)
    patterns = [_pattern(r) for _ in range(60)]
    for i, p in enumerate(patterns[:40]):  # an indexable literal on most
        p["a" if i % 2 else "b"] = [r.choice(STRINGS) for _ in range(r.randint(1, 2))]
    rules = RuleSet(list(enumerate(patterns)))
    for _ in range(500):
        event = _event(r)
        expected = [i for i, p in enumerate(patterns) if _moto(p, event)]
        assert rules.matching(event) == expected
