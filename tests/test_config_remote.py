"""``vigil --server URL apply|export|monitor backfill`` against a real server (uvicorn in a
thread): the API's ``/config/plan``, ``/config/apply`` and ``/config/export``, and a backfill
run window by window through ``POST /schedules/NAME/run``.

What an apply through the server makes is compared with what a local apply of the same file
makes (their ``vigil export`` outputs, and the plans as JSON); refusals (scope, code on the
server, a path outside the allowed roots, a YAML error, an ``${env:NAME}`` reference) are one
line, exit 2, and leave the catalog as it was.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import SAGEMAKER, sagemaker_columns
from live_server import ADMIN_WRITER_READER, LiveServer
from test_cli_remote import vigil_cli
from test_runtime import T0, write_captures
from vigil.store.settings import Settings

ISO = "%Y-%m-%dT%H:%M:%SZ"


def catalog(baseline: Path, extra: str = "") -> str:
    """An endpoint, a baseline at ``baseline`` and an hourly schedule (``extra`` appended)."""
    return f"""version: 1
endpoints:
  - name: cfgr-churn
baselines:
  - name: cfgr-base
    endpoint: cfgr-churn
    path: {baseline}
schedules:
  - name: cfgr-hourly
    endpoint: cfgr-churn
    baseline: cfgr-base
    expression: rate(1 hour)
{extra}"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server over a new installation whose data directory holds a baseline (an
    allowed location), a local data directory to compare with, and a vigil.yaml naming it."""
    root = tmp_path_factory.mktemp("cfgr")
    data, local = root / "server-data", root / "local-data"
    baseline = data / "incoming" / "baseline"
    baseline.mkdir(parents=True)
    shutil.copy(SAGEMAKER / "data_quality_statistics.json", baseline / "statistics.json")
    shutil.copy(SAGEMAKER / "data_quality_constraints.json", baseline / "constraints.json")
    file = root / "vigil.yaml"
    file.write_text(catalog(baseline))
    with LiveServer(Settings(data_dir=data), ADMIN_WRITER_READER) as server:
        yield {"server": server, "data": data, "local": local, "file": file, "root": root,
               "baseline": baseline}  # fmt: skip


def remote(server: LiveServer, token: str, *args: str) -> Any:
    return vigil_cli("--server", server.url, "--token", server.tokens[token], *args)


def names(server: LiveServer, route: str, key: str) -> list[str]:
    listed = server.client("reader").get(route).json()[key]
    return sorted(x if isinstance(x, str) else x["name"] for x in listed)


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    return str(result.stderr)


def test_apply_through_the_server_makes_what_a_local_apply_makes(setup: dict[str, Any]):
    server, file, local = setup["server"], str(setup["file"]), str(setup["local"])
    plan = remote(server, "writer", "apply", "-f", file, "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert plan.stdout == (
        "+ endpoint cfgr-churn\n+ baseline cfgr-base\n+ schedule cfgr-hourly\n"
        "plan: created 3, updated 0, unchanged 0\n"
    )
    assert "cfgr-churn" not in names(server, "/endpoints", "endpoints")  # nothing changed
    assert "cfgr-base" not in names(server, "/baselines", "baselines")

    first = remote(server, "writer", "apply", "-f", file)
    assert first.exit_code == 0, first.output
    local_first = vigil_cli("apply", "-f", file, "--data-dir", local)
    assert first.stdout == local_first.stdout  # the same lines as locally
    assert first.stdout.endswith("created 3, updated 0, unchanged 0\n")
    assert "cfgr-churn" in names(server, "/endpoints", "endpoints")
    assert "cfgr-hourly" in names(server, "/schedules", "schedules")
    stored = server.client("reader").get("/baselines/cfgr-base").json()
    assert Path(stored["uri"]).is_relative_to(setup["data"])  # copied into the data directory

    again = remote(server, "writer", "apply", "-f", file, "--output", "json")
    local_again = vigil_cli("apply", "-f", file, "--data-dir", local, "--output", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads(local_again.stdout)
    assert json.loads(again.stdout) == {
        "dry_run": False, "changes": [],
        "summary": {"created": 0, "updated": 0, "unchanged": 3},
    }  # fmt: skip

    exported = remote(server, "reader", "export")
    assert exported.exit_code == 0, exported.output
    assert exported.stdout == vigil_cli("export", "--data-dir", local).stdout
    assert "cfgr-hourly" in exported.stdout
    api = server.client("reader").get("/config/export").json()["yaml"]
    assert api == exported.stdout
    out = setup["root"] / "exported.yaml"
    written = remote(server, "reader", "export", "-o", str(out))
    assert written.exit_code == 0 and out.read_text() == exported.stdout
    # the export applied back changes nothing
    back = remote(server, "writer", "apply", "-f", str(out))
    assert back.exit_code == 0, back.output
    assert back.stdout.endswith("created 0, updated 0, unchanged 3\n")

    paused = setup["root"] / "paused.yaml"
    paused.write_text(catalog(setup["baseline"], "    status: Paused\n"))
    dry = remote(server, "writer", "apply", "-f", str(paused), "--dry-run", "--output", "json")
    assert json.loads(dry.stdout)["changes"] == [
        {"action": "update", "kind": "schedule", "name": "cfgr-hourly", "fields": ["status"]}
    ]
    assert server.client("reader").get("/schedules/cfgr-hourly").json()["status"] == "Scheduled"


def test_a_reader_is_refused_in_one_line(setup: dict[str, Any]):
    server = setup["server"]
    text = setup["file"].read_text()
    for route in ("/config/plan", "/config/apply"):
        r = server.client("reader").post(route, json={"yaml": text})
        assert r.status_code == 403 and "'write' scope" in r.json()["error"]["message"]
    raw = server.client("reader").get("/config/export", headers={"Accept": "application/yaml"})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/yaml")
    assert raw.text == server.client("reader").get("/config/export").json()["yaml"]
    for args in (["apply", "-f", str(setup["file"])],
                 ["apply", "-f", str(setup["file"]), "--dry-run"]):  # fmt: skip
        said = one_line_error(remote(server, "reader", *args))
        assert said == "vigil: error: forbidden (403): token 'reader' lacks the 'write' scope\n"
    no_token = vigil_cli("--server", server.url, "apply", "-f", str(setup["file"]))
    assert "needs a token" in one_line_error(no_token)


def test_code_on_the_server_needs_admin_and_the_policy(setup: dict[str, Any]):
    server = setup["server"]
    file = setup["root"] / "workflow.yaml"
    file.write_text(
        "workflows:\n"
        "  - name: cfgr-retrain\n"
        "    steps:\n"
        "      - name: run\n"
        "        target: {command: [/usr/bin/env, 'true']}\n"
    )
    said = one_line_error(remote(server, "writer", "apply", "-f", str(file)))
    assert "forbidden (403)" in said and "'admin' scope" in said and "writer" in said
    said = one_line_error(remote(server, "writer", "apply", "-f", str(file), "--dry-run"))
    assert "'admin' scope" in said
    # an admin still meets the operator's code policy (no command is allowed by default)
    said = one_line_error(remote(server, "admin", "apply", "-f", str(file)))
    assert "forbidden (403)" in said and "VIGIL_ALLOW_COMMANDS" in said
    assert "cfgr-retrain" not in names(server, "/workflows", "workflows")


def test_a_baseline_outside_the_allowed_roots_is_refused_before_anything_changes(
    setup: dict[str, Any],
):
    server = setup["server"]
    outside = setup["root"] / "outside-baseline"
    shutil.copytree(setup["baseline"], outside)
    file = setup["root"] / "outside.yaml"
    file.write_text(
        "endpoints:\n  - name: cfgr-outside\n"
        f"baselines:\n  - name: cfgr-outside-base\n    endpoint: cfgr-outside\n"
        f"    path: {outside}\n"
    )
    said = one_line_error(remote(server, "admin", "apply", "-f", str(file)))
    assert "baselines[cfgr-outside-base].path" in said and str(outside) in said
    assert "outside the allowed locations" in said
    assert "cfgr-outside" not in names(server, "/endpoints", "endpoints")  # nothing created
    assert "cfgr-outside-base" not in names(server, "/baselines", "baselines")
    # the same file applied locally (the operator's own apply) is not confined
    local = vigil_cli("apply", "-f", str(file), "--data-dir", str(setup["root"] / "loc2"))
    assert local.exit_code == 0, local.output


def test_a_yaml_error_names_the_line_as_locally(setup: dict[str, Any]):
    server = setup["server"]
    file = setup["root"] / "broken.yaml"
    file.write_text("endpoints:\n  - name: cfgr-broken\n    capture_url: s3://x/y\n")
    said = one_line_error(remote(server, "writer", "apply", "-f", str(file)))
    assert f"{file}:3: endpoints[0].capture_url: unknown key 'capture_url'" in said
    local = vigil_cli("apply", "-f", str(file), "--dry-run", "--data-dir", str(setup["local"]))
    # the same message as a local apply (which prefixes the error's code)
    assert one_line_error(local) == said.replace("error: ", "error: [config_error] ", 1)
    bad = setup["root"] / "notyaml.yaml"
    bad.write_text("endpoints:\n  - name: [unclosed\n")
    said = one_line_error(remote(server, "writer", "apply", "-f", str(bad)))
    assert f"{bad}:3: not valid YAML" in said
    assert "cfgr-broken" not in names(server, "/endpoints", "endpoints")
    # hostile text straight to the API: 422 with the problem, never a 500
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)
    ]  # 10**9 values once expanded
    api = server.client("writer")
    for text, said in [
        ("\n".join(lines), "values once its YAML aliases are expanded"),
        ("a: &a [*a]\n", "alias inside its own anchor"),
        ("endpoints: " + "[" * 3000 + "]" * 3000, "nested too deeply"),
        ("- just\n- a list\n", "cfgr.yaml:1: expected a mapping"),
    ]:
        r = api.post("/config/apply", json={"yaml": text, "source": "cfgr.yaml"})
        assert r.status_code == 422, (said, r.text)
        assert said in r.json()["error"]["message"]


def test_an_env_reference_is_not_read_from_the_servers_environment(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    server = setup["server"]
    monkeypatch.setenv("CFGR_HOOK", "http://127.0.0.1:9/hook")  # the server's environment too
    file = setup["root"] / "topic.yaml"
    file.write_text(
        "topics:\n  - name: cfgr-team\n    subscriptions:\n"
        "      - {id: cfgr-hook, protocol: webhook, config: {url: '${env:CFGR_HOOK}'}}\n"
    )
    said = one_line_error(remote(server, "writer", "apply", "-f", str(file)))
    assert "topics[cfgr-team]" in said and "${env:NAME} references" in said
    assert "cfgr-team" not in server.client("reader").get("/topics").json()["topics"]
    # a value given as itself is sealed as a local apply seals it, and never exported plain
    file.write_text(
        "topics:\n  - name: cfgr-team\n    subscriptions:\n"
        "      - {id: cfgr-hook, protocol: webhook, "
        "config: {url: 'http://127.0.0.1:9/hook?token=cfgr-secret-value'}}\n"
    )
    done = remote(server, "writer", "apply", "-f", str(file))
    assert done.exit_code == 0, done.output
    assert "cfgr-team" in server.client("reader").get("/topics").json()["topics"]
    exported = remote(server, "reader", "export")
    assert "cfgr-hook" in exported.stdout and "cfgr-secret-value" not in exported.stdout
    said = one_line_error(remote(server, "reader", "export", "--show-secrets"))
    assert "--show-secrets" in said


def test_backfill_through_the_server_runs_each_window(setup: dict[str, Any]):
    server, data, local = setup["server"], setup["data"], setup["local"]
    file = setup["root"] / "backfill.yaml"
    file.write_text(
        catalog(setup["baseline"]).replace("cfgr-", "cfgr-bf-")
        .replace("  - name: cfgr-bf-churn\n", "  - name: cfgr-bf-churn\n    capture_uri: "
                 f"{data / 'capture'}\n")
    )  # fmt: skip
    assert remote(server, "writer", "apply", "-f", str(file)).exit_code == 0
    write_captures(data / "capture", "cfgr-bf-churn", sagemaker_columns(SAGEMAKER), T0, 3)
    start, end = T0.strftime(ISO), (T0 + timedelta(hours=3)).strftime(ISO)
    args = ["monitor", "backfill", "cfgr-bf-hourly", "--start", start, "--end", end]
    done = remote(server, "writer", *args, "--output", "json")
    assert done.exit_code == 0, done.output
    ran = json.loads(done.stdout)
    listed = server.client("reader").get(
        "/executions", params={"schedule": "cfgr-bf-hourly"}
    ).json()["executions"]
    assert len(ran["executions"]) == len(listed) == 3
    assert sorted(x["id"] for x in listed) == sorted(x["id"] for x in ran["executions"])
    # the same windows as a local backfill of the same schedule computes
    assert vigil_cli("apply", "-f", str(file), "--data-dir", str(local)).exit_code == 0
    here = json.loads(vigil_cli(*args, "--data-dir", str(local), "--output", "json").stdout)
    windows = sorted((x["window_start"], x["window_end"]) for x in ran["executions"])
    assert windows == sorted((x["window_start"], x["window_end"]) for x in here["executions"])
    assert ran["counts"] == here["counts"] == {"Completed": 3}
    # each window runs once: a second backfill has nothing to run (a failed window would run
    # again through the server, as `monitor run --server` runs it)
    again = remote(server, "writer", *args)
    assert (again.exit_code, again.stdout) == (0, "nothing to run\n")
    missing = remote(server, "writer", "monitor", "backfill", "cfgr-nope", "--start", start,
                     "--end", end)  # fmt: skip
    assert one_line_error(missing) == "vigil: error: no schedule named 'cfgr-nope'\n"
