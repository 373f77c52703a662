"""The one rule index (vigil.events.ruleset.RuleSet, used by dispatch_pending through
vigil.actions.dispatch.rule_set): on generated rules and events its candidates are always a
superset of the rules that match, and what it returns is exactly what checking every rule
with plain ``match`` returns, in order. The generator favours what an index can get wrong:
literal leaves at every depth, shared and rare values, arrays in the event (of strings, of
objects, on the path), ``$or``, missing keys and non-string values."""

from __future__ import annotations

import random
from typing import Any

from vigil.actions.dispatch import matching_rules, rule_set
from vigil.actions.spec import PythonTarget, Rule
from vigil.events.patterns import match
from vigil.events.ruleset import RuleSet

VALUES = ["Failed", "Completed", "InProgress", "aws.sagemaker", "aws.codebuild", "job-1",
          "job-2", "job-3", ""]  # fmt: skip
PATHS = [("source",), ("kind",), ("detail", "status"), ("detail", "name"),
         ("detail", "tags", "team"), ("detail", "tags", "env")]  # fmt: skip


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        node = tree.setdefault(key, {})
        if not isinstance(node, dict):
            return
        tree = node
    tree[path[-1]] = value


def _matcher(r: random.Random) -> Any:
    roll = r.random()
    if roll < 0.6:
        return r.choice(VALUES)
    if roll < 0.7:
        return {"prefix": r.choice(["job", "aws.", "F"])}
    if roll < 0.8:
        return {"anything-but": r.choice(VALUES)}
    if roll < 0.9:
        return {"exists": r.random() < 0.5}
    return r.choice([1, None])


def _pattern(r: random.Random) -> dict[str, Any]:
    pattern: dict[str, Any] = {}
    for path in r.sample(PATHS, r.randint(0, 3)):
        _put(pattern, path, [_matcher(r) for _ in range(r.randint(1, 3))])
    if r.random() < 0.15:
        pattern["$or"] = [{"detail": {"status": [r.choice(VALUES)]}},
                          {"source": [r.choice(VALUES)]}]  # fmt: skip
    return pattern


def _value(r: random.Random) -> Any:
    roll = r.random()
    if roll < 0.7:
        return r.choice(VALUES)
    if roll < 0.85:
        return [r.choice(VALUES) for _ in range(r.randint(1, 3))]
    if roll < 0.9:
        return [{"x": r.choice(VALUES)}]
    return r.choice([1, None, 2.5])


def _event(r: random.Random) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for path in PATHS:
        if r.random() < 0.75:
            _put(event, path, _value(r))
    if r.random() < 0.1:
        event["detail"] = [{"status": r.choice(VALUES)}]  # an array on the path
    elif r.random() < 0.05:
        event["detail"] = r.choice(VALUES)
    return event


def test_candidates_are_a_superset_and_matching_is_exact() -> None:
    r = random.Random(7)
    patterns = [_pattern(r) for _ in range(120)]
    rules = RuleSet(list(enumerate(patterns)))
    indexed = sum(rules.path_of(i) is not None for i in range(len(patterns)))
    assert indexed > len(patterns) // 2  # the index is really exercised
    deep = sum(len(rules.path_of(i) or ()) > 1 for i in range(len(patterns)))
    assert deep > 10  # on leaves below the top level too
    hits = 0
    for _ in range(1500):
        event = _event(r)
        expected = [i for i, p in enumerate(patterns) if match(p, event)]
        candidates = rules.candidates(event)
        assert set(expected) <= set(candidates), (event, set(expected) - set(candidates))
        assert candidates == sorted(set(candidates))
        assert rules.matching(event) == expected, event
        hits += len(expected)
    assert hits > 500


def test_rule_set_gives_what_the_plain_list_gives() -> None:
    r = random.Random(8)
    target = [PythonTarget(entry_point="json:dumps")]
    rules = [Rule(name=f"r{i}", pattern=_pattern(r), enabled=r.random() < 0.9, targets=target)
             for i in range(80)]  # fmt: skip
    indexed = rule_set(rules)
    for _ in range(600):
        event = _event(r)
        if r.random() < 0.1:  # the end of a run: not given back to its own rule
            event = {**event, "kind": "action_run_state_change",
                     "detail": {"rule": r.choice(rules).name}}
        plain = [x.name for x in rules if x.enabled and match(x.pattern, event)]
        if event.get("kind") == "action_run_state_change":
            plain = [n for n in plain
                     if n != event["detail"]["rule"] and next(
                         x for x in rules if x.name == n).pattern]  # fmt: skip
        assert [x.name for x in matching_rules(indexed, event)] == plain
        assert [x.name for x in matching_rules(rules, event)] == plain


def test_rarest_leaf_is_the_one_indexed() -> None:
    target = [PythonTarget(entry_point="json:dumps")]
    rules = [Rule(name=f"r{i}", targets=target, pattern={
        "source": ["aws.sagemaker"],
        "detail": {"TrainingJobName": [f"job-{i}"], "TrainingJobStatus": ["Failed"]}})
        for i in range(50)]  # fmt: skip
    index = RuleSet([(x.name, x.compiled) for x in rules])
    assert {index.path_of(i) for i in range(50)} == {("detail", "TrainingJobName")}
    event = {"source": "aws.sagemaker",
             "detail": {"TrainingJobName": "job-7", "TrainingJobStatus": "Failed"}}
    assert index.candidates(event) == [7] and index.matching(event) == ["r7"]
