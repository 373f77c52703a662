"""Matching platform events against 100 EventBridge rules.

Vigil: :class:`vigil.events.ruleset.RuleSet` (patterns compiled once into closures, an index
on one literal leaf per pattern at any depth, the rarest: ``detail.TrainingJobName`` before
``source``; the one index ``dispatch_pending`` uses), and the compiled patterns
checked one by one (:func:`vigil.events.patterns.compile_pattern`, no index). Peers in the
same run: a plain Python interpreter of the same semantics walking the pattern dicts for every
event (:func:`naive_match`, below), and moto's EventBridge matcher
(``moto.events.models.EventPattern.matches_event``). Vigil and the naive interpreter must
agree on every (rule, event) pair (checked); moto's agreement is reported.

Rules: 100, over the envelopes of platform.md §1 (SageMaker training/processing/endpoint/
pipeline, CodePipeline, CodeBuild, Step Functions, Vigil's own events), mixing literals,
prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr and $or.
Events: 5,000 of those shapes with random names and statuses.

Reproduce: ``.venv/bin/python bench/bench_patterns.py`` (writes section "patterns" of
bench/RESULTS.md; ``--events N``, ``--repeat R``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import ipaddress
import platform
import random
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from results import write_section  # noqa: E402
from vigil.events.patterns import compile_pattern  # noqa: E402
from vigil.events.ruleset import RuleSet  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_patterns.py"
SM = "aws.sagemaker"
TRAIN = "SageMaker Training Job State Change"
PROC = "SageMaker Processing Job State Change"
ENDP = "SageMaker Endpoint State Change"
PIPE = "SageMaker Model Building Pipeline Execution Status Change"
CP = "CodePipeline Pipeline Execution State Change"
CB = "CodeBuild Build State Change"
SF = "Step Functions Execution Status Change"
STATUS = ["InProgress", "Completed", "Failed", "Stopping", "Stopped"]


def rules(r: random.Random) -> list[dict[str, Any]]:
    """100 rules: 10 families of 10 variations each."""
    out: list[dict[str, Any]] = []
    for i in range(10):
        team = f"team-{i}"
        out += [
            {"source": [SM], "detail-type": [TRAIN], "detail": {"TrainingJobStatus": ["Failed"],
             "TrainingJobName": [{"prefix": f"{team}-"}]}},
            {"source": [SM], "detail-type": [TRAIN, PROC],
             "detail": {"TrainingJobStatus": [{"anything-but": ["InProgress", "Stopping"]}],
                        "Tags": {"team": [team]}}},
            {"source": [SM], "detail-type": [ENDP], "detail": {
                "EndpointStatus": [{"equals-ignore-case": "failed"}],
                "EndpointName": [{"wildcard": f"*-{i}-prod"}]}},
            {"source": [SM], "detail-type": [PIPE], "detail": {
                "currentPipelineExecutionStatus": ["Failed", "Stopped"],
                "pipelineArn": [{"suffix": f"/pipe-{i}"}]}},
            {"source": ["aws.codepipeline"], "detail-type": [CP], "detail": {
                "state": ["FAILED", "SUPERSEDED"], "pipeline": [f"deploy-{i}"]}},
            {"source": ["aws.codebuild"], "detail-type": [CB], "detail": {
                "build-status": ["FAILED"], "project-name": [{"prefix": f"build-{i}"}],
                "additional-information": {"timeout-in-minutes": [{"numeric": [">", 30]}]}}},
            {"source": ["aws.states"], "detail-type": [SF], "detail": {
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                "stateMachineArn": [{"wildcard": f"arn:aws:states:*:stateMachine:flow-{i}"}]}},
            {"kind": ["alarm_state_change"], "detail": {"state": ["ALARM"],
             "alarm": [{"prefix": f"drift-{i}"}]}},
            {"kind": ["execution_completed"], "endpoint_name": [f"model-{i}"],
             "$or": [{"detail": {"status": ["Failed"]}},
                     {"detail": {"violations": [{"numeric": [">=", 1]}]}}]},
            {"source": [{"prefix": "aws."}], "detail": {"source-ip": [{"cidr": f"10.{i}.0.0/16"}],
                                                         "reason": [{"exists": False}]}},
        ]  # fmt: skip
    r.shuffle(out)
    return out


def events(r: random.Random, n: int) -> list[dict[str, Any]]:
    """``n`` events of the platform shapes above."""
    out: list[dict[str, Any]] = []
    for k in range(n):
        i, s = r.randrange(12), r.choice(STATUS)
        base = {"version": "0", "id": f"e-{k}", "account": "123456789012", "region": "us-east-1",
                "time": "2024-05-01T12:00:00Z", "resources": [f"arn:aws:x:::r/{k}"]}  # fmt: skip
        shape = r.randrange(9)
        if shape in (0, 1):
            detail = {"TrainingJobName": f"team-{i}-train-{k}", "TrainingJobStatus": s,
                      "SecondaryStatus": s, "HyperParameters": {"epochs": "10"},
                      "Tags": {"team": f"team-{i}"}, "source-ip": f"10.{i}.3.4"}  # fmt: skip
            event = {**base, "source": SM, "detail-type": TRAIN if shape else PROC}
        elif shape == 2:
            detail = {"EndpointName": f"churn-{i}-prod", "EndpointStatus": r.choice(
                ["IN_SERVICE", "FAILED", "UPDATING"])}
            event = {**base, "source": SM, "detail-type": ENDP}
        elif shape == 3:
            detail = {"currentPipelineExecutionStatus": r.choice(["Executing", "Failed",
                      "Succeeded", "Stopped"]), "pipelineArn": f"arn:aws:sagemaker:::pipe-{i}"}
            event = {**base, "source": SM, "detail-type": PIPE}
        elif shape == 4:
            detail = {"pipeline": f"deploy-{i}", "state": r.choice(["STARTED", "FAILED",
                      "SUCCEEDED", "SUPERSEDED"]), "execution-id": f"x-{k}"}
            event = {**base, "source": "aws.codepipeline", "detail-type": CP}
        elif shape == 5:
            detail = {"build-status": r.choice(["IN_PROGRESS", "FAILED", "SUCCEEDED"]),
                      "project-name": f"build-{i}-app", "additional-information": {
                          "timeout-in-minutes": r.choice([10, 60]), "build-complete": True}}
            event = {**base, "source": "aws.codebuild", "detail-type": CB}
        elif shape == 6:
            detail = {"status": r.choice(["RUNNING", "FAILED", "SUCCEEDED", "TIMED_OUT"]),
                      "stateMachineArn": f"arn:aws:states:us-east-1:1:stateMachine:flow-{i}"}
            event = {**base, "source": "aws.states", "detail-type": SF}
        elif shape == 7:
            detail = {"state": r.choice(["ALARM", "OK"]), "alarm": f"drift-{i}-churn",
                      "previous": "OK"}
            event = {"kind": "alarm_state_change", "endpoint_name": f"model-{i}"}
        else:
            detail = {"status": r.choice(["Completed", "Failed", "CompletedWithViolations"]),
                      "violations": r.choice([0, 0, 2])}
            event = {"kind": "execution_completed", "endpoint_name": f"model-{i}"}
        out.append({**event, "detail": detail})
    return out


# -- the peer: a plain interpreter of the same semantics ----------------------------------

_MISSING = object()


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def _one(m: Any, v: Any) -> bool:
    if not isinstance(m, Mapping):
        return _same(m, v)
    ((op, arg),) = m.items()
    s = isinstance(v, str)
    if op == "exists":
        return bool(arg)
    if op in ("prefix", "suffix"):
        if isinstance(arg, Mapping):
            t = arg["equals-ignore-case"].lower()
            return s and (v.lower().startswith(t) if op == "prefix" else v.lower().endswith(t))
        return s and (v.startswith(arg) if op == "prefix" else v.endswith(arg))
    if op == "equals-ignore-case":
        return s and v.lower() == arg.lower()
    if op == "wildcard":
        return s and _wild(arg, v)
    if op == "numeric":
        if not _number(v):
            return False
        ops: dict[str, Callable[[float, float], bool]] = {
            "=": float.__eq__, "<": float.__lt__, "<=": float.__le__, ">": float.__gt__,
            ">=": float.__ge__}  # fmt: skip
        return all(ops[arg[i]](float(v), float(arg[i + 1])) for i in range(0, len(arg), 2))
    if op == "cidr":
        try:
            return s and ipaddress.ip_address(v) in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return False
    if isinstance(arg, Mapping):  # anything-but with an inner operator
        ((inner, val),) = arg.items()
        vals = val if isinstance(val, list) else [val]
        return not s or not any(_one({inner: x}, v) for x in vals)
    vals = arg if isinstance(arg, list) else [arg]
    if all(isinstance(x, str) for x in vals):
        return not s or v not in vals
    return not _number(v) or float(v) not in [float(x) for x in vals]


def _wild(pattern: str, text: str) -> bool:
    parts = pattern.replace("\\*", "\0").split("*")
    parts = [p.replace("\0", "*").replace("\\\\", "\\") for p in parts]
    if len(parts) == 1:
        return text == parts[0]
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]):
        return False
    pos, end = len(parts[0]), len(text) - len(parts[-1])
    for p in parts[1:-1]:
        found = text.find(p, pos, end)
        if found < 0:
            return False
        pos = found + len(p)
    return pos <= end


def naive_match(pattern: Mapping[str, Any], event: Any) -> bool:
    """Walk the pattern for one event (no compilation, no index)."""
    for key, expected in pattern.items():
        if key == "$or" and isinstance(expected, list) and len(expected) > 1:
            if not any(naive_match(p, event) for p in expected):
                return False
            continue
        actual = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            objs = actual if isinstance(actual, list) else [actual]
            objs = [o for o in objs if isinstance(o, Mapping)]
            if not (any(naive_match(expected, o) for o in objs) if objs
                    else naive_match(expected, {})):  # fmt: skip
                return False
            continue
        matchers = expected if isinstance(expected, list) else [expected]
        if actual is _MISSING or isinstance(actual, Mapping):
            ok = any(isinstance(m, Mapping) and m.get("exists") is False for m in matchers)
        else:
            values = [x for x in (actual if isinstance(actual, list) else [actual])
                      if not isinstance(x, Mapping | list)]  # fmt: skip
            if not values:
                ok = any(isinstance(m, Mapping) and m.get("exists") is False for m in matchers)
            else:
                ok = any(_one(m, v) for m in matchers
                         if not (isinstance(m, Mapping) and m.get("exists") is False)
                         for v in values)  # fmt: skip
        if not ok:
            return False
    return True


def _time(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    r = random.Random(11)
    patterns = rules(r)
    evs = events(r, args.events)
    ruleset = RuleSet(list(enumerate(patterns)))
    compiled = [compile_pattern(p) for p in patterns]
    from moto.events.models import EventPattern  # lazy: the peer is a dev dependency

    moto_rules = [EventPattern(None, p) for p in patterns]
    ours = [ruleset.matching(e) for e in evs]
    naive = [[i for i, p in enumerate(patterns) if naive_match(p, e)] for e in evs]
    assert ours == naive, "Vigil and the naive interpreter disagree"
    assert [[i for i, c in enumerate(compiled) if c.fn(e)] for e in evs] == ours
    moto = [[i for i, m in enumerate(moto_rules) if m.matches_event(e)] for e in evs]
    agree = sum(a == b for a, b in zip(ours, moto, strict=True))
    matches = sum(len(m) for m in ours)
    n = len(evs)
    timings = {
        "Vigil RuleSet (compiled + index)": _time(lambda: [ruleset.matching(e) for e in evs],
                                                  args.repeat),
        "Vigil compiled, every rule": _time(
            lambda: [[i for i, c in enumerate(compiled) if c.fn(e)] for e in evs], args.repeat),
        "naive interpreter (peer)": _time(
            lambda: [[i for i, p in enumerate(patterns) if naive_match(p, e)] for e in evs],
            args.repeat),
        "moto EventPattern (peer)": _time(
            lambda: [[i for i, m in enumerate(moto_rules) if m.matches_event(e)] for e in evs],
            max(1, args.repeat - 2)),
    }  # fmt: skip
    naive_t = timings["naive interpreter (peer)"]
    rows = "\n".join(
        f"| {name} | {n / t:,.0f} | {t / n * 1e6:,.1f} | {naive_t / t:.1f}x |"
        for name, t in timings.items()
    )
    text = f"""## patterns: 100 EventBridge rules against platform events

{n:,} events x {len(patterns)} rules ({matches:,} matches); best of {args.repeat} runs;
Python {platform.python_version()} on {platform.machine()}. Vigil and the naive
interpreter agree on every pair (checked); moto agrees on {agree:,} of {n:,} events.

| matcher | events/s | µs per event (100 rules) | vs naive |
|---|---:|---:|---:|
{rows}

Command: `{COMMAND}`
"""
    print(text)
    if not args.no_write:
        write_section("patterns", text)


if __name__ == "__main__":
    main()
