"""Running code on the server: off by default even for admin, on only as far as the operator's
settings allow (an allow-list of executables, a code directory, a module allow-list), checked
when a definition arrives over the API and again when it runs."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import sagemaker_columns
from live_server import LiveServer
from test_runtime import T0, _runtime, cli, config_file, write_captures
from test_scopes import add_endpoint_and_baseline, schedule
from vigil.actions.definitions import put_rule, put_workflow
from vigil.actions.engine import Runner
from vigil.actions.records import list_attempts, list_runs
from vigil.actions.spec import CommandTarget, PythonTarget, Rule, Workflow
from vigil.monitor.runner import run_scheduled
from vigil.server.auth import create_token
from vigil.store.code_policy import CodePolicy
from vigil.store.models import Event, Execution
from vigil.store.settings import Settings

PY = [sys.executable, "-c", "print('{\"ok\": 1}')"]


def _workflow(*targets: dict) -> dict:
    return {"name": "wf", "steps": [{"name": f"s{i}", "target": t} for i, t in enumerate(targets)]}


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    d = tmp_path / "code"
    d.mkdir()
    (d / "retrain.py").write_text("def main(event):\n    return {'model': 'v2'}\n")
    (d / "clean.py").write_text(
        "def preprocess_handler(record):\n"
        "    values = record.endpoint_input.data.split(',')\n"
        "    return [{f'_c{i}': v for i, v in enumerate(values)}]\n"
    )
    tool = d / "bin" / "retrain"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho '{\"retrained\": true}'\n")
    tool.chmod(0o755)
    outside = tmp_path / "outside.py"
    outside.write_text("def preprocess_handler(record):\n    return []\n")
    (d / "link.py").symlink_to(outside)
    return d


def test_code_is_off_by_default_even_for_admin(tmp_path: Path, sagemaker_baseline: Path):
    srv = LiveServer(Settings(data_dir=tmp_path / "data"))
    try:
        admin = srv.client(create_token(srv.db, "admin", "admin"))
        for body, says in [
            (_workflow({"command": PY}), "VIGIL_ALLOW_COMMANDS"),
            (_workflow({"command": "echo hi"}), "VIGIL_ALLOW_COMMANDS"),
            (_workflow({"entry_point": "os:system"}), "VIGIL_ALLOW_PYTHON"),
        ]:
            r = admin.post("/workflows", json=body)
            assert r.status_code == 403, r.text
            assert r.json()["error"]["code"] == "code_not_allowed" and says in r.text
        add_endpoint_and_baseline(admin, sagemaker_baseline)
        r = admin.post("/schedules", json=schedule(str(tmp_path / "x.py")))
        assert r.status_code == 403 and "VIGIL_CODE_DIR" in r.json()["error"]["message"], r.text
        assert admin.get("/workflows").json() == {"workflows": [], "errors": []}
    finally:
        srv.stop()


def test_code_is_allowed_as_far_as_the_operator_enables_it(
    tmp_path: Path, code_dir: Path, sagemaker_baseline: Path
):
    settings = Settings(
        data_dir=tmp_path / "data",
        allow_commands=(sys.executable,),
        code_dir=str(code_dir),
        allow_python=("json",),
    )
    srv = LiveServer(settings)
    try:
        admin = srv.client(create_token(srv.db, "admin", "admin"))
        for target in (
            {"command": PY},
            {"command": [str(code_dir / "bin" / "retrain")]},
            {"command": ["./bin/retrain"], "cwd": str(code_dir)},
            {"entry_point": "retrain:main"},
            {"entry_point": "json:dumps"},
        ):
            r = admin.post("/workflows", json=_workflow(target))
            assert r.status_code == 201, (target, r.text)
        for target, says in [
            ({"command": ["/bin/sh", "-c", "id"]}, "is not allowed"),
            ({"command": "id"}, "runs /bin/sh"),
            ({"command": ["sh"]}, "is not allowed"),
            ({"command": PY, "env": {"LD_PRELOAD": "/tmp/x.so"}}, "LD_PRELOAD"),
            ({"command": PY, "env": {"PYTHONPATH": "/tmp"}}, "PYTHONPATH"),
            ({"entry_point": "os:system"}, "module 'os' is not allowed"),
            ({"entry_point": "jsonx:x"}, "is not allowed"),
        ]:
            r = admin.post("/workflows", json=_workflow(target))
            assert r.status_code == 403, (target, r.text)
            assert r.json()["error"]["code"] == "code_not_allowed" and says in r.text, r.text
            assert "steps[0].target" in r.text
        add_endpoint_and_baseline(admin, sagemaker_baseline)
        for ok in ("clean.py", str(code_dir / "clean.py")):
            assert admin.post("/schedules", json=schedule(ok)).status_code == 201, ok
        for bad in ("../outside.py", str(tmp_path / "outside.py"), "link.py", "missing.py",
                    "/etc/passwd"):  # fmt: skip
            r = admin.post("/schedules", json=schedule(bad))
            assert r.status_code == 403 and "config.preprocessor" in r.text, (bad, r.text)
    finally:
        srv.stop()


def test_a_stored_command_is_refused_when_it_runs_and_the_loop_goes_on(tmp_path: Path):
    """Definitions stored without the API (``vigil apply``, or before the policy changed) run
    under the server's policy: refused runs fail with the reason, the loop keeps going."""
    marker = tmp_path / "ran.txt"
    settings = Settings(data_dir=tmp_path / "data", scheduler_interval=0.2)
    srv = LiveServer(settings, start_scheduler=True)
    try:
        writes = f"open({str(marker)!r}, 'w').write('x')"
        flow = _workflow({"command": [sys.executable, "-c", writes]})
        put_workflow(srv.db, Workflow.model_validate(flow))
        targets = [{"workflow": "wf"}, {"entry_point": "os:getcwd"}]
        rule = {"name": "r", "pattern": {"kind": ["drift"]}, "targets": targets}
        put_rule(srv.db, Rule.model_validate(rule))
        with srv.db.session() as s:
            s.add(Event(kind="drift", time=T0, detail={}))

        def roots() -> list:
            return [r for r in list_runs(srv.db) if r.parent_run_id is None]

        deadline = time.monotonic() + 20
        while len([r for r in roots() if r.status == "Failed"]) < 2:
            assert time.monotonic() < deadline, [(r.target_type, r.status) for r in roots()]
            time.sleep(0.1)
        runs = roots()
        assert {r.error for r in runs} == {"Vigil.CodeNotAllowed"}
        causes = " ".join(r.cause or "" for r in runs)
        assert "running commands is off" in causes and "Python targets are off" in causes
        assert not marker.exists()
        with srv.db.session() as s:  # the loop is alive: the next event is dispatched too
            s.add(Event(kind="drift", time=T0, detail={}))
        while len(roots()) < 4:
            assert time.monotonic() < deadline + 20, "the scheduler loop stopped"
            time.sleep(0.1)
    finally:
        srv.stop()


def test_the_runner_checks_the_policy_at_run_time(tmp_path: Path, code_dir: Path):
    settings = Settings(data_dir=tmp_path / "data")
    rt = _runtime(settings.data_dir)
    allowed = CodePolicy(allow_commands=(sys.executable,), code_dir=str(code_dir))
    ok = Runner(rt.db, owner="t", code_policy=allowed).run(CommandTarget(command=PY), {})
    assert ok.status == "Succeeded" and ok.output == {"ok": 1}
    from_dir = Runner(rt.db, owner="t", code_policy=allowed).run(
        PythonTarget(entry_point="retrain:main"), {}
    )
    assert from_dir.status == "Succeeded" and from_dir.output == {"model": "v2"}
    # a program on the target's own PATH cannot stand in for the allowed one
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "retrain").write_text("#!/bin/sh\necho pwned\n")
    (fake / "retrain").chmod(0o755)
    swapped = Runner(rt.db, owner="t", code_policy=allowed).run(
        CommandTarget(command=["retrain"], env={"PATH": str(fake)}), {}
    )
    assert swapped.status == "Failed" and swapped.error == "Vigil.CodeNotAllowed"
    off = Runner(rt.db, owner="t", code_policy=CodePolicy()).run(CommandTarget(command=PY), {})
    assert off.status == "Failed" and off.error == "Vigil.CodeNotAllowed"
    [attempt] = list_attempts(rt.db, off.id)
    assert attempt.error == "Vigil.CodeNotAllowed" and "VIGIL_ALLOW_COMMANDS" in attempt.cause


def test_a_stored_preprocessor_is_refused_at_run_time(
    tmp_path: Path, sagemaker_dir: Path, code_dir: Path
):
    data = tmp_path / "data"
    extra = f"    config:\n      preprocessor: {code_dir / 'clean.py'}\n"
    done = cli(data, "apply", "-f", str(config_file(tmp_path, sagemaker_dir, config=extra)))
    assert done.returncode == 0, done.stderr
    write_captures(data / "capture", "churn", sagemaker_columns(sagemaker_dir), T0, 2)
    rt = _runtime(data)  # the server's settings: no VIGIL_CODE_DIR
    ex = run_scheduled(rt, "hourly", T0 + timedelta(hours=1))
    assert ex.status == "Failed", ex.status
    assert "code_not_allowed" in ex.failure_reason and "VIGIL_CODE_DIR" in ex.failure_reason
    rt.settings.code_dir = str(code_dir)  # the operator enables it: the next window reads
    later = run_scheduled(rt, "hourly", T0 + timedelta(hours=2))
    assert later.status.startswith("Completed"), (later.status, later.failure_reason)
    with rt.db.session() as s:
        assert len(list(s.scalars(select(Execution)))) == 2
