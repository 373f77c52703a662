"""The CLI as a client of a server (``vigil --server URL``, ``$VIGIL_SERVER``, ``$VIGIL_TOKEN``)
against a real server (uvicorn in a thread), and the CLI refusing to create a data directory
by accident.

Every listing with ``--server --output json`` equals the API's own answer to the same query,
and equals the same command run on the server's data directory locally; refusals (a token
without the scope, a wrong token, no server there, a local-only command) are one line on
stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import vigil
from conftest import SAGEMAKER, sagemaker_columns
from live_server import ADMIN_WRITER_READER, LiveServer, free_port
from test_runtime import T0, config_file, write_captures
from vigil.actions import Runner, Workflow
from vigil.app.bootstrap import open_database
from vigil.cli import app
from vigil.store.settings import Settings

VIGIL = [sys.executable, "-m", "vigil.cli"]
TOPIC = "cli-remote-team"


def vigil_cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """``vigil ARGS`` in this process (stdout is not a terminal: plain lines)."""
    clean = {"VIGIL_SERVER": None, "VIGIL_TOKEN": None, "VIGIL_DATA_DIR": None}
    result = CliRunner().invoke(app, list(args), env={**clean, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result


def remote(server: LiveServer, token: str, *args: str) -> Any:
    return vigil_cli("--server", server.url, "--token", server.tokens[token], *args)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    """A live server over a data directory holding an endpoint, a schedule with three
    executions, alarms, a topic, a silence, an event and a training job."""
    root = tmp_path_factory.mktemp("remote")
    sm = SAGEMAKER
    data = root / "data"
    config = config_file(root, sm, config=f"topics:\n  - name: {TOPIC}\n")
    done = vigil_cli("apply", "-f", str(config), "--data-dir", str(data))
    assert done.exit_code == 0, done.output
    write_captures(data / "capture", "churn", sagemaker_columns(sm), T0, 3)
    end = (T0 + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = vigil_cli("monitor", "backfill", "hourly", "--start", "2024-05-01T00:00:00Z",
                     "--end", end, "--data-dir", str(data))  # fmt: skip
    assert done.exit_code == 0, done.output
    with vigil.training_job("cli-remote-train", data_dir=data) as job:
        job.log_metric("train:loss", 0.5)
    with LiveServer(Settings(data_dir=data), ADMIN_WRITER_READER) as server:
        yield server, data


def test_the_fixture_is_what_the_tests_compare(installed: tuple[LiveServer, Path]) -> None:
    server, _ = installed
    api = server.client("reader")
    assert len(api.get("/executions").json()["executions"]) == 3
    assert TOPIC in api.get("/topics").json()["topics"]


LISTINGS: list[tuple[list[str], str, dict[str, Any]]] = [
    (["endpoint", "list"], "/endpoints", {}),
    (["schedule", "list"], "/schedules", {}),
    (["execution", "list"], "/executions", {}),
    (["execution", "list", "--status", "Completed", "--limit", "2"], "/executions",
     {"status": "Completed", "limit": 2}),
    (["alarm", "list"], "/alarms", {}),
    (["topic", "list"], "/topics", {}),
    (["events", "list"], "/events", {}),
    (["jobs", "list"], "/jobs", {}),
    (["alarm", "silences"], "/silences", {}),
]  # fmt: skip


@pytest.mark.parametrize(("args", "route", "query"), LISTINGS, ids=lambda x: str(x))
def test_each_listing_with_server_is_the_api_answer_and_the_local_one(
    installed: tuple[LiveServer, Path], args: list[str], route: str, query: dict[str, Any]
) -> None:
    server, data = installed
    api = server.client("reader").get(route, params=query)
    assert api.status_code == 200, api.text
    got = remote(server, "reader", *args, "--output", "json")
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout) == api.json()
    local = vigil_cli(*args, "--output", "json", "--data-dir", str(data))
    assert local.exit_code == 0, local.output
    assert json.loads(local.stdout) == api.json()
    # the text: a title, a header, then one line per record; the same both ways
    text_remote = remote(server, "reader", *args)
    text_local = vigil_cli(*args, "--data-dir", str(data))
    assert text_remote.exit_code == 0 and text_remote.stdout == text_local.stdout
    records = next(v for k, v in api.json().items() if isinstance(v, list))
    assert len(text_remote.stdout.splitlines()) == 2 + len(records)


def test_tokens_listing_needs_admin_and_equals_the_api(installed: tuple[LiveServer, Path]):
    server, data = installed
    got = remote(server, "admin", "token", "list", "--output", "json")
    assert got.exit_code == 0, got.output
    api = server.client("admin").get("/tokens").json()
    assert json.loads(got.stdout)["tokens"] == api["tokens"]
    assert {t["name"] for t in api["tokens"]} >= {"admin", "writer", "reader"}
    local = json.loads(vigil_cli("token", "list", "--output", "json", "--data-dir",
                                 str(data)).stdout)  # fmt: skip
    assert [t["name"] for t in local["tokens"]] == [t["name"] for t in api["tokens"]]
    refused = remote(server, "reader", "token", "list")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == (
        "vigil: error: forbidden (403): token 'reader' lacks the 'admin' scope\n"
    )


def test_show_commands_equal_the_api(installed: tuple[LiveServer, Path]) -> None:
    server, data = installed
    api = server.client("reader")
    ex_id = api.get("/executions").json()["executions"][0]["id"]
    for args, route in [
        (["endpoint", "show", "churn"], "/endpoints/churn"),
        (["schedule", "show", "hourly"], "/schedules/hourly"),
        (["execution", "show", ex_id], f"/executions/{ex_id}"),
        (["alarm", "show", "hourly-drift"], "/alarms/hourly-drift"),
        (["topic", "show", TOPIC], f"/topics/{TOPIC}"),
        (["jobs", "show", "cli-remote-train"], "/jobs/cli-remote-train"),
    ]:
        got = remote(server, "reader", *args, "--output", "json")
        assert got.exit_code == 0, (args, got.output)
        assert json.loads(got.stdout) == api.get(route).json(), args
        local = vigil_cli(*args, "--output", "json", "--data-dir", str(data))
        assert json.loads(local.stdout) == api.get(route).json(), args
    missing = remote(server, "reader", "endpoint", "show", "nope")
    assert (missing.exit_code, missing.stderr) == (2, "vigil: error: no endpoint named 'nope'\n")
    local = vigil_cli("endpoint", "show", "nope", "--data-dir", str(data))
    assert (local.exit_code, local.stderr) == (2, missing.stderr)  # the same line


def test_a_reader_gets_a_one_line_403_for_each_write_command(
    installed: tuple[LiveServer, Path],
) -> None:
    server, _ = installed
    silences = server.client("reader").get("/silences").json()
    for args in (
        ["alarm", "silence", "--matcher", "alarm=cli-remote-x"],
        ["schedule", "run-now", "hourly"],
        ["schedule", "pause", "hourly"],
        ["alarm", "evaluate"],
        ["delivery", "redrive", "--id", "1"],
        ["delete", "topic", TOPIC],
    ):
        refused = remote(server, "reader", *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert refused.stderr == (
            "vigil: error: forbidden (403): token 'reader' lacks the 'write' scope\n"
        ), args
    assert server.client("reader").get("/silences").json() == silences  # nothing changed
    assert TOPIC in server.client("reader").get("/topics").json()["topics"]


def test_writes_over_the_server(installed: tuple[LiveServer, Path]) -> None:
    server, _ = installed
    api = server.client("writer")
    made = remote(server, "writer", "alarm", "silence", "--matcher", "alarm=cli-remote-x",
                  "--hours", "1", "--comment", "cli-remote", "--output", "json")  # fmt: skip
    assert made.exit_code == 0, made.output
    silence = json.loads(made.stdout)
    assert api.get(f"/silences/{silence['id']}").json() == silence
    gone = remote(server, "writer", "alarm", "unsilence", silence["id"])
    assert (gone.exit_code, gone.stdout) == (0, f"silence {silence['id']} expired\n")
    assert api.get(f"/silences/{silence['id']}").status_code == 404
    again = remote(server, "writer", "alarm", "unsilence", silence["id"])
    assert again.exit_code == 2 and len(again.stderr.splitlines()) == 1
    assert silence["id"] in again.stderr

    paused = remote(server, "writer", "schedule", "pause", "hourly")
    assert (paused.exit_code, paused.stdout) == (0, "schedule hourly: Paused\n")
    assert api.get("/schedules/hourly").json()["status"] == "Paused"
    resumed = remote(server, "writer", "schedule", "resume", "hourly", "--output", "json")
    assert json.loads(resumed.stdout) == api.get("/schedules/hourly").json()
    assert api.get("/schedules/hourly").json()["status"] == "Scheduled"

    # a window with captures that no execution covers yet: the server runs it
    before = len(api.get("/executions").json()["executions"])
    ran = remote(server, "writer", "schedule", "run-now", "hourly",
                 "--window-start", "2024-05-01T02:00:00Z", "--window-end",
                 "2024-05-01T02:30:00Z", "--output", "json")  # fmt: skip
    assert ran.exit_code in (0, 1), ran.output
    doc = json.loads(ran.stdout)
    assert api.get(f"/executions/{doc['id']}").json() == doc
    assert ran.exit_code == (0 if doc["status"] == "Completed" else 1)
    assert len(api.get("/executions").json()["executions"]) == before + 1
    dup = remote(server, "writer", "schedule", "run-now", "hourly",
                 "--window-start", "2024-05-01T02:00:00Z", "--window-end",
                 "2024-05-01T02:30:00Z")  # fmt: skip
    assert dup.exit_code == 2 and dup.stderr == (
        "vigil: error: an execution of 'hourly' for that window exists already\n"
    )


def test_tokens_over_the_server(installed: tuple[LiveServer, Path]) -> None:
    server, _ = installed
    made = remote(server, "admin", "token", "create", "--name", "cli-remote-tok")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert server.client(secret).get("/endpoints").status_code == 200
    revoked = remote(server, "admin", "token", "revoke", "cli-remote-tok")
    assert (revoked.exit_code, revoked.stdout) == (0, "revoked cli-remote-tok\n")
    assert server.client(secret).get("/endpoints").status_code == 401
    # the revoked token itself: a one-line 401 naming the token as the trouble
    refused = vigil_cli("--server", server.url, "--token", secret, "alarm", "list")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"vigil: error: the server at {server.url} (--server) refused the token "
        "(401: unknown or revoked token): check --token or $VIGIL_TOKEN\n"
    )


def test_wrong_missing_token_and_unreachable_server_are_one_line(
    installed: tuple[LiveServer, Path],
) -> None:
    server, _ = installed
    wrong = vigil_cli("--server", server.url, "--token", "not-a-token", "endpoint", "list")
    assert wrong.exit_code == 2 and wrong.stdout == ""
    assert "refused the token (401: unknown or revoked token)" in wrong.stderr
    assert len(wrong.stderr.splitlines()) == 1
    none = vigil_cli("endpoint", "list", env={"VIGIL_SERVER": server.url})
    assert none.exit_code == 2 and none.stderr == (
        f"vigil: error: the server at {server.url} ($VIGIL_SERVER) needs a token: give one "
        "with --token or $VIGIL_TOKEN (401: missing bearer token (Authorization: Bearer ...))\n"
    )
    by_env = vigil_cli("endpoint", "list", "--output", "json",
                       env={"VIGIL_SERVER": server.url, "VIGIL_TOKEN": server.tokens["reader"]})
    assert by_env.exit_code == 0 and json.loads(by_env.stdout) == server.client(
        "reader").get("/endpoints").json()  # fmt: skip
    port = free_port()
    down = vigil_cli("--server", f"http://127.0.0.1:{port}", "--token", "x", "alarm", "list")
    assert down.exit_code == 2 and down.stdout == ""
    assert down.stderr.startswith(
        f"vigil: error: cannot reach the server at http://127.0.0.1:{port} (--server): "
    ) and len(down.stderr.splitlines()) == 1
    bad = vigil_cli("--server", "vigil:8080", "alarm", "list")
    assert bad.exit_code == 2 and bad.stderr == (
        "vigil: error: server 'vigil:8080': expected an http:// or https:// URL such as "
        "http://127.0.0.1:8080\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["db", "upgrade"], "'db upgrade' does not run against a server"),
        (["demo", "--exit"], "'demo' does not run against a server"),
        (["server", "--port", "0"], "'server' does not run against a server"),
    ],
)
def test_local_only_commands_refuse_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    refused = vigil_cli("--server", "http://127.0.0.1:9", *args)
    assert refused.exit_code == 2, refused.output
    assert said in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.endswith(
        "drop --server and give --data-dir (or $VIGIL_DATA_DIR)\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_alarm_list_in_an_empty_directory_refuses_and_creates_nothing(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["PYTHONPATH"] = str(Path(vigil.__file__).resolve().parents[1])  # this tree, from any cwd
    done = subprocess.run([*VIGIL, "alarm", "list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "vigil: error: no Vigil installation in data directory vigil-data (the default: "
        f"{tmp_path.resolve() / 'vigil-data'} holds no vigil.db); choose one with --data-dir "
        "or $VIGIL_DATA_DIR, or a server with --server or $VIGIL_SERVER; nothing was created\n"
    )
    assert list(tmp_path.iterdir()) == []
    for args in (["token", "list"], ["execution", "list"], ["db", "check"],
                 ["alarm", "evaluate"], ["events", "list"], ["export"]):  # fmt: skip
        other = vigil_cli(*args, "--data-dir", str(tmp_path / "d"))
        assert other.exit_code == 2 and "no Vigil installation in data directory" in other.stderr
        assert f"{tmp_path / 'd'}" in other.stderr, args
    assert list(tmp_path.iterdir()) == []
    # $VIGIL_DATA_DIR is named as the chooser
    by_env = vigil_cli("alarm", "list", env={"VIGIL_DATA_DIR": str(tmp_path / "e")})
    assert by_env.exit_code == 2 and f"($VIGIL_DATA_DIR: {tmp_path / 'e'} holds" in by_env.stderr
    # a plan creates nothing either; apply, token create and db upgrade make an installation
    config = tmp_path.parent / f"{tmp_path.name}-vigil.yaml"
    config.write_text("version: 1\nendpoints:\n  - name: cli-remote-ep\n")
    plan = vigil_cli("apply", "-f", str(config), "--dry-run", "--data-dir", str(tmp_path / "d"))
    assert plan.exit_code == 0 and "+ endpoint cli-remote-ep" in plan.stdout, plan.output
    assert list(tmp_path.iterdir()) == []
    made = vigil_cli("token", "create", "--name", "first", "--data-dir", str(tmp_path / "t"))
    assert made.exit_code == 0 and (tmp_path / "t" / "vigil.db").is_file()
    assert vigil_cli("alarm", "list", "--data-dir", str(tmp_path / "t")).exit_code == 0


def test_a_subprocess_against_the_server(installed: tuple[LiveServer, Path]) -> None:
    server, _ = installed
    env = {**os.environ, "VIGIL_SERVER": server.url, "VIGIL_TOKEN": server.tokens["reader"]}
    done = subprocess.run([*VIGIL, "schedule", "list"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    schedules = server.client("reader").get("/schedules").json()["schedules"]
    lines = done.stdout.splitlines()
    assert lines[0] == "schedules"
    assert lines[1].split("  ") == [
        "name", "endpoint", "baseline", "type", "expression", "status", "last scheduled"
    ]
    assert [ln.split("  ")[0] for ln in lines[2:]] == [s["name"] for s in schedules]
    refused = subprocess.run([*VIGIL, "schedule", "run-now", "hourly"], env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        "vigil: error: forbidden (403): token 'reader' lacks the 'write' scope\n"
    )


def test_dead_letters_audit_and_events_put_over_the_server(
    installed: tuple[LiveServer, Path], tmp_path: Path
) -> None:
    server, _ = installed
    dead = remote(server, "reader", "delivery", "dead-letters", "--output", "json")
    assert dead.exit_code == 0, dead.output
    assert json.loads(dead.stdout) == server.client("reader").get("/dead-letters").json()
    audit = remote(server, "admin", "audit", "--kind", "schedule", "--output", "json")
    assert audit.exit_code == 0, audit.output
    api = server.client("admin").get("/audit", params={"kind": "schedule"}).json()
    assert json.loads(audit.stdout) == api and api["entries"]
    entry = {"Source": "com.cli-remote", "DetailType": "Cli Remote", "Detail": '{"n": 1}'}
    (tmp_path / "e.json").write_text(json.dumps({"Entries": [entry]}))
    refused = remote(server, "reader", "events", "put", str(tmp_path / "e.json"))
    assert refused.exit_code == 2 and "lacks the 'ingest' scope" in refused.stderr
    put = remote(server, "admin", "events", "put", str(tmp_path / "e.json"), "--output", "json")
    assert put.exit_code == 0, put.output
    (event_id,) = [e["EventId"] for e in json.loads(put.stdout)["Entries"]]
    listed = remote(server, "reader", "events", "list", "--source", "com.cli-remote",
                    "--output", "json")  # fmt: skip
    assert [e["id"] for e in json.loads(listed.stdout)["events"]] == [event_id]


def test_action_runs_and_show_over_the_server(installed: tuple[LiveServer, Path]) -> None:
    """A workflow run in the installation, listed and shown through the server as the API
    answers it, and as the local commands print it."""
    server, data = installed
    db = open_database(Settings(data_dir=data))
    wf = Workflow.model_validate(
        {"name": "cli-remote-w", "steps": [{"name": "s", "target": {"command": "true"}}]}
    )
    run = Runner(db).run_workflow(wf, {"alarm": "drift"})
    db.dispose()
    api = server.client("reader")
    listed = remote(server, "reader", "action", "runs", "--workflow", "cli-remote-w",
                    "--output", "json")  # fmt: skip
    assert listed.exit_code == 0, listed.output
    answer = api.get("/actions/runs", params={"workflow": "cli-remote-w"}).json()
    assert json.loads(listed.stdout) == answer and [r["id"] for r in answer["runs"]] == [run.id]
    local = vigil_cli("action", "runs", "--workflow", "cli-remote-w", "--data-dir", str(data))
    text = remote(server, "reader", "action", "runs", "--workflow", "cli-remote-w")
    assert text.stdout == local.stdout and text.stdout.startswith(f"{run.id}  -  cli-remote-w  ")
    shown = remote(server, "reader", "action", "show", run.id, "--output", "json")
    assert json.loads(shown.stdout) == api.get(f"/actions/runs/{run.id}").json()
    assert [a["step"] for a in json.loads(shown.stdout)["attempts"]] == ["s"]
    missing = remote(server, "reader", "action", "show", "nope")
    assert missing.exit_code == 2 and len(missing.stderr.splitlines()) == 1
