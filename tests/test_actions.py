"""Actions and workflows: patterns, Step Functions retry/catch, real commands, a real loopback
HTTP receiver, records of every run and attempt, and recovery after a worker is killed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

import vigil.actions as actions
from pg_fixture import postgres_url  # noqa: F401
from vigil.actions import (
    ActionRun,
    CommandTarget,
    HttpTarget,
    PatternError,
    PythonTarget,
    Rule,
    Runner,
    Step,
    Workflow,
    WorkflowNotFoundError,
    WorkflowTarget,
    dispatch,
    get_run,
    list_attempts,
    list_runs,
    match,
    recover_runs,
    run_to_dict,
    validate_pattern,
)
from vigil.store.db import Database
from vigil.store.models import Event

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when the engine sleeps (plus 1 ms per reading, so times order)."""

    def __init__(self) -> None:
        self.t = T0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self.t += timedelta(milliseconds=1)
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.t += timedelta(seconds=seconds)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'vigil.db'}")
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


STEPS_MODULE = '''
"""Python entry points for the tests."""
from vigil.actions import StepError

CALLS: list = []
FAILURES: dict = {}


def record(event):
    CALLS.append(event)
    return {"seen": event["kind"], "endpoint": event["endpoint_name"]}


def flaky(data):
    """Fails with data["error"] as many times as data["failures"], then succeeds."""
    CALLS.append(data)
    key = data["key"]
    FAILURES[key] = FAILURES.get(key, 0) + 1
    if FAILURES[key] <= data["failures"]:
        if data["error"] == "ValueError":
            raise ValueError(f"bad value, call {FAILURES[key]}")
        raise StepError(data["error"], f"call {FAILURES[key]}")
    return {"calls": FAILURES[key]}


def increment(data):
    return {"n": data["n"] + 1}
'''


@pytest.fixture(scope="session")
def steps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("steps")
    (d / "vigil_test_steps.py").write_text(STEPS_MODULE)
    return d


@pytest.fixture
def steps(steps_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(steps_dir))
    import vigil_test_steps

    vigil_test_steps.CALLS.clear()
    vigil_test_steps.FAILURES.clear()
    return vigil_test_steps


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def test_public_names() -> None:
    assert set(actions.__all__) == {
        "ActionError", "ActionRun", "ActionSpecError", "AttemptStatus", "Catcher", "Clock",
        "CommandTarget", "HttpTarget", "PatternError", "PythonTarget", "Retrier", "Rule",
        "Runner", "RunNotFoundError", "RunStatus", "Step", "StepAttempt", "StepError",
        "SystemClock", "Target", "TopicNotFoundError", "TopicTarget", "Workflow",
        "WorkflowNotFoundError", "WorkflowTarget", "check_references", "dispatch",
        "event_to_dict", "get_run", "list_attempts", "list_runs", "match", "matching_rules",
        "Publisher", "recover_runs", "retry_delay", "run_to_dict", "validate_pattern",
    }  # fmt: skip
    assert all(hasattr(actions, name) for name in actions.__all__)


# -- patterns --------------------------------------------------------------------------------

ALARM = {
    "kind": "alarm_state_change",
    "endpoint_name": "churn",
    "detail": {"alarm": "drift-churn", "state": "ALARM", "previous": "OK", "value": 0.31,
               "tags": ["team-a", "prod"], "reason": None},
}  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"kind": ["alarm_state_change"]}, True),
        ({"kind": ["execution_completed"]}, False),
        ({"kind": ["execution_completed", "alarm_state_change"]}, True),  # OR in a list
        ({"kind": ["alarm_state_change"], "endpoint_name": ["other"]}, False),  # AND of keys
        ({"detail": {"state": ["ALARM"], "alarm": [{"prefix": "drift-"}]}}, True),
        ({"detail": {"alarm": [{"prefix": "quality-"}]}}, False),
        ({"detail": {"alarm": [{"suffix": "-churn"}]}}, True),
        ({"detail": {"state": [{"equals-ignore-case": "alarm"}]}}, True),
        ({"detail": {"state": [{"anything-but": "OK"}]}}, True),
        ({"detail": {"state": [{"anything-but": ["OK", "ALARM"]}]}}, False),
        ({"detail": {"alarm": [{"anything-but": {"prefix": "drift-"}}]}}, False),
        ({"detail": {"value": [{"numeric": [">", 0.3, "<=", 1]}]}}, True),
        ({"detail": {"value": [{"numeric": [">=", 0.5]}]}}, False),
        ({"detail": {"value": [0.31]}}, True),
        ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),  # a string is not a number
        ({"detail": {"tags": ["prod"]}}, True),  # any element of an array
        ({"detail": {"tags": ["dev"]}}, False),
        ({"detail": {"reason": [None]}}, True),  # null matches a present null
        ({"detail": {"previous": [{"exists": True}]}}, True),
        ({"detail": {"missing": [{"exists": True}]}}, False),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"detail": {"previous": [{"exists": False}]}}, False),
        ({"detail": {"missing": ["x"]}}, False),  # a missing key matches no literal
        ({"detail": {"state": {"nested": ["x"]}}}, False),  # nested against a scalar
        ({"endpoint_name": "churn"}, True),  # a bare scalar reads as [scalar]
        ({}, True),
    ],
)
def test_pattern_matching(pattern: dict[str, Any], expected: bool) -> None:
    validate_pattern(pattern)
    assert match(pattern, ALARM) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"kind": []}, "pattern.kind: an empty list matches nothing"),
        ({"detail": {"v": [{"numeric": [">"]}]}}, "pattern.detail.v[0]: numeric expects"),
        ({"detail": {"v": [{"numeric": [">", "1"]}]}}, "bound after '>' must be a number"),
        ({"a": [{"prefix": 1}]}, "pattern.a[0]: prefix expects a string"),
        ({"a": [{"exists": "yes"}]}, "exists expects true or false"),
        ({"a": [{"prefix": "x", "suffix": "y"}]}, "exactly one key"),
        ({"a": [{"wildcard": "x**"}]}, "in a row"),  # wildcard is valid since issue 11
        ({"a": [{"wildcrd": "x*"}]}, "unknown operator 'wildcrd'"),
    ],
)
def test_pattern_errors_name_the_path(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(PatternError, match=message.replace("(", r"\(").replace("[", r"\[")):
        validate_pattern(pattern)
    with pytest.raises(ValidationError, match="event_pattern"):
        Rule(name="r", pattern=pattern, targets=[CommandTarget(command="true")])


# -- specification ---------------------------------------------------------------------------


def _step(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "target": {"command": "true"}, **kw}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [_step("a", retry=[{"error_equals": ["States.ALL"]}, {"error_equals": ["X"]}])],
            "retry\\[0\\]: States.ALL must be in the last entry",
        ),
        ([_step("a", retry=[{"error_equals": ["States.ALL", "X"]}])], "must appear alone"),
        ([_step("a", catch=[{"error_equals": [], "next": "a"}])], "at least one error name"),
        ([_step("a", next="b")], "steps\\[0\\] \\('a'\\).next: no step named 'b'"),
        (
            [_step("a", catch=[{"error_equals": ["X"], "next": "zz"}])],
            "catch\\[0\\].next: no step named 'zz'",
        ),
        ([_step("a", next="a", end=True)], "set next or end, not both"),
        ([_step("a"), _step("a")], "duplicate step name 'a'"),
        ([{"name": "a", "target": {"cmd": "x"}}], "target with type command, python"),
        ([_step("a", retry=[{"error_equals": ["X"], "backoff_rate": 0.5}])], "backoff_rate"),
        ([{"name": "a", "target": {"entry_point": "nocolon"}}], "expected 'module:function'"),
    ],
)
def test_workflow_validation(steps: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Workflow.model_validate({"name": "w", "steps": steps})


def test_loops_are_allowed_and_bounded(db: Database, clock: FakeClock, steps: Any) -> None:
    wf = Workflow(
        name="loop",
        max_steps=5,
        steps=[Step(name="inc", target=PythonTarget(entry_point="vigil_test_steps:increment"),
                    next="inc")],
    )  # fmt: skip
    run = Runner(db, clock=clock).run_workflow(wf, {"n": 0})
    assert run.status == "Failed" and run.error == "Vigil.MaxStepsExceeded"
    assert [a.output for a in list_attempts(db, run.id)] == [{"n": i} for i in range(1, 6)]


# -- the seed's workflow: retrain -> validate -> deploy, with real commands -------------------

RETRAIN = """
    import json, os, sys
    event = json.load(sys.stdin)
    assert json.loads(os.environ["VIGIL_INPUT"]) == event
    print("training on", event["endpoint_name"], file=sys.stderr)
    print("epoch 1 loss 0.5")
    print(json.dumps({"model": "churn-v2", "auc": 0.91, "baseline_auc": 0.88,
                      "trigger": event["kind"], "run": os.environ["VIGIL_RUN_ID"]}))
"""

VALIDATE = """
    import json, os, sys
    candidate = json.load(sys.stdin)
    counter = os.path.join(os.path.dirname(__file__), "validate.count")
    n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    open(counter, "w").write(str(n))
    assert os.environ["VIGIL_ATTEMPT"] == str(n), os.environ["VIGIL_ATTEMPT"]
    print(f"validate attempt {n}")
    if n <= int(os.environ["FLAKY"]):
        print(json.dumps({"error": "Validation.Flaky", "cause": f"metric store busy ({n})"}))
        sys.exit(3)
    better = candidate["auc"] > candidate["baseline_auc"] + float(os.environ["MARGIN"])
    if os.environ.get("STRICT") and not better:
        print(json.dumps({"error": "Validation.Worse",
                          "cause": f"auc {candidate['auc']} not better"}))
        sys.exit(1)
    print(json.dumps({**candidate, "better": better}))
"""

DEPLOY = """
    import json, sys
    c = json.load(sys.stdin)
    print(json.dumps({"deployed": c["model"], "auc": c["auc"]}))
"""


def seed_workflow(
    tmp_path: Path, *, flaky: int = 0, margin: float = 0.0, strict: bool = False
) -> Workflow:
    env = {"FLAKY": str(flaky), "MARGIN": str(margin), **({"STRICT": "1"} if strict else {})}
    return Workflow.model_validate(
        {
            "name": "retrain",
            "steps": [
                {"name": "retrain", "target": {"command": script(tmp_path, "retrain", RETRAIN)}},
                {
                    "name": "validate",
                    "target": {"command": script(tmp_path, "validate", VALIDATE), "env": env},
                    "retry": [
                        {"error_equals": ["Validation.Flaky"], "interval_seconds": 2,
                         "backoff_rate": 3, "max_attempts": 3, "max_delay_seconds": 10},
                    ],
                    "catch": [{"error_equals": ["Validation.Worse"], "next": "notify"}],
                },
                {"name": "deploy", "target": {"command": script(tmp_path, "deploy", DEPLOY)},
                 "condition": {"better": [True]}, "end": True},
                {"name": "notify", "target": {"entry_point": "json:dumps"}},
            ],
        }
    )  # fmt: skip


def drift_event() -> Event:
    return Event(
        id="evt-1", kind="concept_drift", endpoint_name="churn", schedule_name="churn-hourly",
        time=T0, detail={"detector": "ADWIN", "index": 412},
    )  # fmt: skip


def test_retrain_validate_deploy_with_retries(
    tmp_path: Path, db: Database, clock: FakeClock
) -> None:
    wf = seed_workflow(tmp_path, flaky=3)
    rule = Rule(name="retrain-on-drift", pattern={"kind": ["concept_drift"]},
                targets=[WorkflowTarget(workflow="retrain")])  # fmt: skip
    runner = Runner(db, {"retrain": wf}, clock=clock, owner="test")
    [run] = dispatch(db, drift_event(), [rule], runner=runner)

    assert run.status == "Succeeded", (run.error, run.cause)
    assert run.output == {"deployed": "churn-v2", "auc": 0.91}
    assert run.rule == "retrain-on-drift" and run.workflow == "retrain"
    assert run.event_id == "evt-1" and run.input["detail"] == {"detector": "ADWIN", "index": 412}
    # three retries: 2 s, 2*3 = 6 s, 2*9 = 18 s capped at 10 s
    assert clock.sleeps == [2.0, 6.0, 10.0]
    attempts = list_attempts(db, run.id)
    assert [(a.step, a.attempt, a.status, a.error, a.wait_seconds) for a in attempts] == [
        ("retrain", 1, "Succeeded", None, 0.0),
        ("validate", 1, "Failed", "Validation.Flaky", 0.0),
        ("validate", 2, "Failed", "Validation.Flaky", 2.0),
        ("validate", 3, "Failed", "Validation.Flaky", 6.0),
        ("validate", 4, "Succeeded", None, 10.0),
        ("deploy", 1, "Succeeded", None, 0.0),
    ]
    retrain, v1, *_, v4, deploy = attempts
    # data flows step to step; the first input is the event
    assert retrain.input == run.input
    assert retrain.output["trigger"] == "concept_drift" and retrain.output["run"] == run.id
    assert retrain.stdout.startswith("epoch 1 loss 0.5\n")
    assert "training on churn" in retrain.stderr
    assert v1.input == retrain.output and v4.input == retrain.output
    assert v1.cause == "metric store busy (1)" and "validate attempt 1" in v1.stdout
    assert v4.output == {**retrain.output, "better": True}
    assert deploy.input == v4.output
    # the backoff waits pass on the clock, between the failed attempt's end and the next start
    assert v4.started_at - attempts[3].ended_at >= timedelta(seconds=10)
    for a in attempts:
        assert a.started_at <= a.ended_at
    assert run.started_at < run.ended_at and run.steps_taken == 3


def test_catch_routes_to_notify_and_skips_deploy(
    tmp_path: Path, db: Database, clock: FakeClock
) -> None:
    wf = seed_workflow(tmp_path, margin=0.1, strict=True)
    run = Runner(db, clock=clock).run_workflow(wf, {"kind": "manual", "endpoint_name": "churn"})
    assert run.status == "Succeeded"
    steps = [(a.step, a.status, a.error) for a in list_attempts(db, run.id)]
    assert steps == [
        ("retrain", "Succeeded", None),
        ("validate", "Failed", "Validation.Worse"),  # no retrier matches: straight to catch
        ("notify", "Succeeded", None),
    ]
    assert clock.sleeps == []
    notify = list_attempts(db, run.id)[-1]
    assert notify.input == {"Error": "Validation.Worse", "Cause": "auc 0.91 not better"}
    assert json.loads(run.output) == notify.input


def test_condition_skips_deploy_when_not_better(
    tmp_path: Path, db: Database, clock: FakeClock
) -> None:
    wf = seed_workflow(tmp_path, margin=0.1)
    run = Runner(db, clock=clock).run_workflow(wf, {"kind": "manual", "endpoint_name": "churn"})
    attempts = list_attempts(db, run.id)
    assert [(a.step, a.status) for a in attempts] == [
        ("retrain", "Succeeded"), ("validate", "Succeeded"), ("deploy", "Skipped"),
    ]  # fmt: skip
    assert run.status == "Succeeded" and run.output["better"] is False


def test_uncaught_error_fails_the_run_after_retries(
    tmp_path: Path, db: Database, clock: FakeClock
) -> None:
    wf = seed_workflow(tmp_path, flaky=10)
    run = Runner(db, clock=clock).run_workflow(wf, {"kind": "manual", "endpoint_name": "churn"})
    assert (run.status, run.error) == ("Failed", "Validation.Flaky")
    assert run.cause == "metric store busy (4)"
    assert [a.attempt for a in list_attempts(db, run.id) if a.step == "validate"] == [1, 2, 3, 4]
    assert run.current_step is None and run.ended_at is not None


def test_command_timeout_kills_the_process_group(
    tmp_path: Path, db: Database, clock: FakeClock
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # a shell that starts a grandchild; both must die on timeout
    cmd = f"sleep 60 & echo $! > {pidfile}; echo started; wait"
    wf = Workflow.model_validate({"name": "slow", "steps": [
        {"name": "train", "target": {"command": cmd, "timeout_seconds": 0.5},
         "retry": [{"error_equals": ["States.TaskFailed"]}],
         "catch": [{"error_equals": ["States.Timeout"], "next": "cleanup",
                    "result_path": "$.failure"}]},
        {"name": "cleanup", "target": {"entry_point": "json:dumps"}},
    ]})  # fmt: skip
    started = time.monotonic()
    run = Runner(db, clock=clock).run_workflow(wf, {"job": 7})
    assert time.monotonic() - started < 10
    train, cleanup = list_attempts(db, run.id)
    # States.TaskFailed matches everything but States.Timeout: no retry
    assert (train.status, train.error) == ("Failed", "States.Timeout")
    assert "timed out after 0.5 s" in train.cause and train.stdout == "started\n"
    assert cleanup.input == {"job": 7, "failure": {"Error": "States.Timeout", "Cause": train.cause}}
    assert json.loads(run.output) == cleanup.input
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        if not _alive(grandchild):
            break
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie that nobody reaped yet counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_command_errors(tmp_path: Path, db: Database, clock: FakeClock) -> None:
    runner = Runner(db, clock=clock)
    run = runner.run(CommandTarget(command=[sys.executable, "-c",
                                            "import sys; sys.exit('boom')"]), {})  # fmt: skip
    assert (run.status, run.error) == ("Failed", "Command.NonZeroExit")
    assert run.cause == "exit code 1: boom"
    run = runner.run(CommandTarget(command=[str(tmp_path / "nope")]), {})
    assert run.error == "Command.NotFound"
    big = runner.run(CommandTarget(command=[sys.executable, "-c", "print('x' * 100000)"]), {})
    [attempt] = list_attempts(db, big.id)
    assert len(attempt.stdout.encode()) < 64 * 1024 + 100 and "bytes truncated" in attempt.stdout


# -- Python entry points ---------------------------------------------------------------------


def test_python_entry_point_receives_the_event(db: Database, steps: Any) -> None:
    rules = [
        Rule(name="on-drift", pattern={"kind": ["concept_drift"], "detail": {"index": [
            {"numeric": [">", 100]}]}},
             targets=[PythonTarget(entry_point="vigil_test_steps:record")]),
        Rule(name="disabled", pattern={}, enabled=False,
             targets=[PythonTarget(entry_point="vigil_test_steps:record")]),
        Rule(name="alarms", pattern={"kind": ["alarm_state_change"]},
             targets=[PythonTarget(entry_point="vigil_test_steps:record")]),
    ]  # fmt: skip
    event = drift_event()
    runs = dispatch(db, event, rules)
    assert [(r.rule, r.status, r.target_type) for r in runs] == [
        ("on-drift", "Succeeded", "python")
    ]
    [received] = steps.CALLS
    # the envelope (issue 11) beside the older keys; time as EventBridge writes it
    assert received == {
        "version": "0", "id": "evt-1", "detail-type": "Vigil Concept Drift", "source": "vigil",
        "account": "000000000000", "time": "2024-05-01T12:00:00Z", "region": "local",
        "resources": [], "kind": "concept_drift", "endpoint_name": "churn",
        "schedule_name": "churn-hourly", "detail": {"detector": "ADWIN", "index": 412},
    }  # fmt: skip
    assert runs[0].output == {"seen": "concept_drift", "endpoint": "churn"}


def test_python_errors_and_retry_semantics(db: Database, clock: FakeClock, steps: Any) -> None:
    flaky = PythonTarget(entry_point="vigil_test_steps:flaky")

    def run(data: dict[str, Any], retry: list[dict[str, Any]], seed: int = 0) -> ActionRun:
        wf = Workflow.model_validate(
            {"name": "w", "steps": [{"name": "s", "target": flaky.model_dump(), "retry": retry}]}
        )
        return Runner(db, clock=clock, rng=random.Random(seed)).run_workflow(wf, data)

    # the exception class name is the error; the traceback is recorded
    r = run({"key": "a", "failures": 1, "error": "ValueError"}, [])
    [a] = list_attempts(db, r.id)
    assert (r.status, r.error, r.cause) == ("Failed", "ValueError", "bad value, call 1")
    assert "Traceback" in a.stderr and "ValueError" in a.stderr
    # the first matching retrier applies, even when its retries are used up
    clock.sleeps.clear()
    r = run({"key": "b", "failures": 5, "error": "E.Custom"}, [
        {"error_equals": ["E.Custom"], "max_attempts": 1, "interval_seconds": 1},
        {"error_equals": ["States.ALL"], "max_attempts": 10},
    ])  # fmt: skip
    assert (r.status, r.error, len(list_attempts(db, r.id))) == ("Failed", "E.Custom", 2)
    assert clock.sleeps == [1.0]
    # max_attempts 0: never retried
    r = run({"key": "c", "failures": 1, "error": "E.Custom"},
            [{"error_equals": ["States.ALL"], "max_attempts": 0}])  # fmt: skip
    assert len(list_attempts(db, r.id)) == 1
    # FULL jitter: uniform in [0, wait] from the injected generator
    clock.sleeps.clear()
    r = run({"key": "d", "failures": 3, "error": "E.Custom"},
            [{"error_equals": ["States.TaskFailed"], "interval_seconds": 4, "jitter": "FULL"}],
            seed=42)  # fmt: skip
    expected = random.Random(42)
    assert r.status == "Succeeded" and r.output == {"calls": 4}
    assert clock.sleeps == [expected.uniform(0, 4.0), expected.uniform(0, 8.0),
                            expected.uniform(0, 16.0)]  # fmt: skip
    assert [a.wait_seconds for a in list_attempts(db, r.id)] == [0.0, *clock.sleeps]


def test_nested_workflow_is_a_child_run(db: Database, clock: FakeClock, steps: Any) -> None:
    inner = Workflow.model_validate({"name": "inner", "steps": [
        {"name": "inc", "target": {"entry_point": "vigil_test_steps:increment"}},
        {"name": "inc2", "target": {"entry_point": "vigil_test_steps:increment"}},
    ]})  # fmt: skip
    outer = Workflow.model_validate({"name": "outer", "steps": [
        {"name": "call", "target": {"workflow": "inner"}},
        {"name": "last", "target": {"entry_point": "vigil_test_steps:increment"}},
    ]})  # fmt: skip
    runner = Runner(db, {"inner": inner, "outer": outer}, clock=clock)
    run = runner.run_workflow("outer", {"n": 0})
    assert (run.status, run.output) == ("Succeeded", {"n": 3})
    [child] = list_runs(db, parent_run_id=run.id)
    assert (child.workflow, child.status, child.output) == ("inner", "Succeeded", {"n": 2})
    assert list_attempts(db, run.id)[0].child_run_id == child.id
    with pytest.raises(WorkflowNotFoundError, match="no workflow named 'missing'"):
        runner.run_workflow("missing", {})


# -- HTTP against a real loopback receiver ---------------------------------------------------


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), json.loads(body)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                reply = json.dumps({"ok": status < 400, "n": len(receiver.requests)}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500, 200, 404])
    yield r
    r.close()


def test_http_step_retries_a_5xx(db: Database, clock: FakeClock, receiver: Receiver) -> None:
    step = {"name": "page", "target": {"url": receiver.url, "headers": {"X-Team": "ml"}},
            "retry": [{"error_equals": ["Http.Status.5xx", "Http.ConnectionError"],
                       "interval_seconds": 0.5}]}  # fmt: skip
    wf = Workflow.model_validate({"name": "hook", "steps": [step]})
    run = Runner(db, clock=clock).run_workflow(wf, {"alarm": "drift-churn"})
    assert (run.status, run.output) == ("Succeeded", {"ok": True, "n": 2})
    first, second = list_attempts(db, run.id)
    assert (first.status, first.error) == ("Failed", "Http.Status.5xx")
    assert first.cause.startswith("HTTP 500 from POST " + receiver.url)
    assert second.status == "Succeeded" and second.stdout == '{"ok": true, "n": 2}'
    assert clock.sleeps == [0.5]
    assert [body for _, body in receiver.requests] == [{"alarm": "drift-churn"}] * 2
    headers = [h for h, _ in receiver.requests]
    assert {h["X-Vigil-Run-Id"] for h in headers} == {run.id}
    assert [h["X-Vigil-Attempt"] for h in headers] == ["1", "2"]
    assert headers[0]["X-Team"] == "ml"
    # a 4xx is not retried by a 5xx retrier
    run = Runner(db, clock=clock).run_workflow(wf, {"alarm": "x"})
    assert (run.status, run.error) == ("Failed", "Http.Status.4xx")
    assert len(list_attempts(db, run.id)) == 1


def test_http_connection_error(db: Database, clock: FakeClock) -> None:
    receiver = Receiver([])
    url = receiver.url
    receiver.close()  # nothing listens there any more
    run = Runner(db, clock=clock).run(HttpTarget(url=url, timeout_seconds=5), {"x": 1})
    assert (run.status, run.error) == ("Failed", "Http.ConnectionError")


# -- records -------------------------------------------------------------------------------


def test_every_run_and_attempt_is_recorded(
    tmp_path: Path, db: Database, clock: FakeClock, steps: Any
) -> None:
    rule = Rule(name="both", pattern={"kind": [{"prefix": "concept"}]}, targets=[
        PythonTarget(entry_point="vigil_test_steps:record"),
        CommandTarget(command=[sys.executable, "-c", "import sys; print(sys.stdin.read())"]),
    ])  # fmt: skip
    runs = dispatch(db, drift_event(), [rule], runner=Runner(db, clock=clock))
    assert [r.status for r in runs] == ["Succeeded", "Succeeded"]
    stored = list_runs(db, rule="both")
    assert {r.id for r in stored} == {r.id for r in runs}
    assert list_runs(db, status="Failed") == []
    for run in runs:
        data = run_to_dict(get_run(db, run.id), list_attempts(db, run.id))
        orjson.dumps(data)  # JSON for the API and the CLI
        assert data["input"]["kind"] == "concept_drift" and data["duration_seconds"] > 0
        [attempt] = data["attempts"]
        assert attempt["input"] == data["input"] and attempt["output"] == data["output"]
        assert attempt["started_at"] < attempt["ended_at"] and attempt["status"] == "Succeeded"
    assert runs[1].output["detail"] == {"detector": "ADWIN", "index": 412}
    with pytest.raises(actions.RunNotFoundError, match="action_run_not_found"):
        get_run(db, "nope")


def test_dispatch_on_a_thread_pool(db: Database, steps: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rule = Rule(name="r", pattern={}, targets=[PythonTarget(entry_point="vigil_test_steps:record")])
    with ThreadPoolExecutor(2) as pool:
        runs = dispatch(db, drift_event(), [rule], executor=pool)
        assert [r.status for r in runs] == ["Running"]  # recorded before it executes
    assert get_run(db, runs[0].id).status == "Succeeded"


# -- recovery after kill -9 --------------------------------------------------------------------

WORKER = """
    import sys
    from vigil.actions import Runner, Workflow
    from vigil.store.db import Database

    db_url, tmp = sys.argv[1], sys.argv[2]
    step = lambda name, **kw: {"name": name, "target": {"command": [
        sys.executable, f"{tmp}/{name}.py"]}, **kw}
    wf = Workflow.model_validate({"name": "retrain", "steps": [
        step("retrain"), step("validate"), step("deploy")]})
    Runner(Database(db_url), {"retrain": wf}, owner="worker-a",
           heartbeat_seconds=0.2).run_workflow("retrain", {"kind": "concept_drift"})
"""

# blocks on the first run (the worker is killed then), succeeds when re-run
BLOCKING_VALIDATE = """
    import json, os, sys, time
    data = json.load(sys.stdin)
    marker = os.path.join(os.path.dirname(__file__), "validate.pid")
    if not os.path.exists(marker):
        open(marker + ".tmp", "w").write(str(os.getpid()))
        os.rename(marker + ".tmp", marker)
        time.sleep(60)
    print(json.dumps({**data, "validated": True}))
"""


def crash_mid_step(tmp_path: Path, db: Database) -> ActionRun:
    """Run the workflow in a worker process and kill -9 it while ``validate`` runs."""
    script(tmp_path, "retrain", 'import json; print(json.dumps({"model": "m2"}))')
    script(tmp_path, "validate", BLOCKING_VALIDATE)
    script(tmp_path, "deploy", 'import json,sys; print(json.dumps({"deployed": '
                               'json.load(sys.stdin)["model"]}))')  # fmt: skip
    worker = subprocess.Popen([*script(tmp_path, "worker", WORKER), db.url, str(tmp_path)])
    marker = tmp_path / "validate.pid"
    deadline = time.monotonic() + 20
    while not marker.exists():
        assert worker.poll() is None, "the worker ended early"
        assert time.monotonic() < deadline, "validate never started"
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    os.killpg(int(marker.read_text()), signal.SIGKILL)  # the in-flight command's group
    [run] = list_runs(db)
    assert (run.status, run.owner, run.current_step) == ("Running", "worker-a", "validate")
    return run


def test_recovery_resumes_a_killed_run(tmp_path: Path, db: Database) -> None:
    run = crash_mid_step(tmp_path, db)
    # another worker leaves a run with a fresh heartbeat alone
    assert recover_runs(db, "worker-b", heartbeat_timeout_seconds=3600) == []
    # worker-a restarts: the run that names it is its previous life's
    [resumed] = recover_runs(db, "worker-a", heartbeat_timeout_seconds=3600)
    assert resumed.id == run.id
    assert (resumed.status, resumed.output) == ("Succeeded", {"deployed": "m2"})
    assert resumed.resumes == 1 and resumed.steps_taken == 3
    attempts = [(a.step, a.attempt, a.status, a.error) for a in list_attempts(db, run.id)]
    assert attempts == [
        ("retrain", 1, "Succeeded", None),  # completed: not re-run
        ("validate", 1, "Interrupted", "Vigil.Interrupted"),
        ("validate", 1, "Succeeded", None),  # re-run from its recorded input
        ("deploy", 1, "Succeeded", None),
    ]
    interrupted, rerun = list_attempts(db, run.id)[1:3]
    assert interrupted.input == rerun.input == {"model": "m2"}
    assert interrupted.ended_at is not None and "worker worker-a" in interrupted.cause


def test_recovery_marks_failed_when_not_resumed(tmp_path: Path, db: Database) -> None:
    run = crash_mid_step(tmp_path, db)
    time.sleep(0.3)
    # heartbeat expired: any worker recovers it; resume=False fails it, visibly
    [failed] = recover_runs(db, "worker-b", heartbeat_timeout_seconds=0.1, resume=False)
    assert failed.id == run.id
    assert (failed.status, failed.error) == ("Failed", "Vigil.Interrupted")
    assert failed.cause.startswith("interrupted: worker worker-a stopped during step 'validate'")
    assert failed.ended_at is not None
    assert [a.status for a in list_attempts(db, run.id)] == ["Succeeded", "Interrupted"]
    assert recover_runs(db, "worker-b", heartbeat_timeout_seconds=0) == []  # once only


def test_runs_and_recovery_on_postgresql(
    postgres_url: str,  # noqa: F811
    clock: FakeClock,
    steps: Any,
) -> None:
    from vigil.store.models import ActionRun as RunTable
    from vigil.store.models import StepAttempt as AttemptTable

    db = Database(postgres_url)
    db.create_all()
    tables = [AttemptTable.__table__, RunTable.__table__]
    try:
        wf = Workflow.model_validate({"name": "pg", "steps": [
            {"name": "flaky", "target": {"entry_point": "vigil_test_steps:flaky"},
             "retry": [{"error_equals": ["States.ALL"], "interval_seconds": 3}]},
            {"name": "inc", "target": {"entry_point": "vigil_test_steps:increment"}},
        ]})  # fmt: skip
        runner = Runner(db, {"pg": wf}, clock=clock, owner="pg-worker")
        run = runner.run_workflow("pg", {"key": "pg", "failures": 2, "error": "E.X"})
        assert (run.status, run.error) == ("Failed", "KeyError")  # increment needs "n"
        assert clock.sleeps == [3.0, 6.0]
        assert [a.status for a in list_attempts(db, run.id)] == [
            "Failed", "Failed", "Succeeded", "Failed"
        ]  # fmt: skip
        # a run recorded but never executed (its worker died first) resumes at its first step
        started = runner.start(PythonTarget(entry_point="vigil_test_steps:increment"), {"n": 1})
        [resumed] = recover_runs(db, "pg-worker", runner=runner)
        assert (resumed.id, resumed.status, resumed.output) == (started.id, "Succeeded", {"n": 2})
    finally:
        db.dispose()
        for table in tables:
            table.drop(Database(postgres_url).engine, checkfirst=True)
