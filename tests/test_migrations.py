"""Schema migrations: the revisions equal the models on SQLite and PostgreSQL, a database
written before migrations is refused by the server and the CLI (one line, exit 2) until
``vigil db upgrade`` stamps it, and its data is then found intact (its plain-text secrets
sealed: tests/test_upgrade_sealing.py).

``tests/data/pre_migration.db`` is that database: written by the Vigil before migrations
(commit 7153e4a) running its own demo, as ``tests/data/make_pre_migration_db.py`` says.

A failure of the two ``head_equals_the_models`` tests means a model changed without a
revision: write one with ``vigil db revision -m "what changed"`` (see
:mod:`vigil.store.migrations`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import vigil
from pg_fixture import postgres_url  # noqa: F401
from vigil.app.bootstrap import open_database
from vigil.app.secrets import transform
from vigil.store.db import Database
from vigil.store.errors import SchemaOutdatedError, SchemaTooNewError
from vigil.store.migrations import config, differences, script, upgrade
from vigil.store.models import Base
from vigil.store.schema_version import VERSIONS_DIR, head, known_revisions, read_state, stamp
from vigil.store.secrets import SecretBox, SecretFields, unseal
from vigil.store.settings import Settings

FIXTURE = Path(__file__).resolve().parent / "data" / "pre_migration.db"
_LANDED_TABLES = {
    r[0]
    for r in sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
}
"""The tables of the schema before migrations (the fixture's)."""
SRC = Path(vigil.__file__).resolve().parents[1]
VIGIL = [sys.executable, "-m", "vigil.cli"]
REFUSAL = (
    "vigil: error: [schema_outdated] database sqlite:///{db} is at revision none, this Vigil "
    "needs {head}: run 'vigil db upgrade'"
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIGIL_DATABASE_URL", "VIGIL_DATA_DIR")}
    return {**env, "PYTHONPATH": str(SRC)}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``vigil ARGS`` in a subprocess running this tree's code."""
    return subprocess.run(
        [*VIGIL, *args], capture_output=True, text=True, timeout=120, env=_env(), check=False
    )


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of every Vigil table the SQLite file holds (tables later revisions added are
    left out while empty), read with sqlite3 (not our code)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        rows = {
            t: sorted((dict(r) for r in conn.execute(f'SELECT * FROM "{t}"')), key=repr)
            for t in Base.metadata.tables
            if t in present
        }
        return {t: r for t, r in rows.items() if r or t in _LANDED_TABLES}
    finally:
        conn.close()


def _added_columns(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> dict[str, set[str]]:
    """Per table, the columns the rows of ``after`` have beyond those of ``before``."""
    added = {}
    for table, rows in before.items():
        if rows and after.get(table):
            extra = set(after[table][0]) - set(rows[0])
            if extra:
                added[table] = extra
    return added


def _without(
    rows: dict[str, list[dict[str, Any]]], columns: dict[str, set[str]]
) -> dict[str, list[dict[str, Any]]]:
    """``rows`` with ``columns`` (per table) left out, sorted as :func:`_rows` sorts."""
    return {
        t: sorted(({k: v for k, v in r.items() if k not in columns.get(t, ())} for r in rs),
                  key=repr)
        for t, rs in rows.items()
    }


_SEALED_COLUMNS = {"subscriptions": "config", "delivery_outbox": "payload",
                   "action_definitions": "spec"}  # fmt: skip


def _opened(rows: dict[str, list[dict[str, Any]]], data: Path) -> dict[str, list[dict[str, Any]]]:
    """``rows`` with the columns holding secrets parsed and their sealed values opened with
    the installation's key (what the code reads), the audit trail (of the sealing) left out."""
    box = SecretBox.for_data_dir(data, environ={})

    def fn(fields: SecretFields, config: Any) -> dict[str, Any]:
        return unseal(fields, config, box)

    out = {t: r for t, r in rows.items() if t != "audit_log"}
    for table, column in _SEALED_COLUMNS.items():
        opened = []
        for row in out.get(table, []):
            value = json.loads(row[column])
            if table == "subscriptions":
                doc = {"protocol": row["protocol"], "config": value}
                value = transform("subscription", doc, fn)["config"]
            elif table == "delivery_outbox" and isinstance(value.get("subscription"), dict):
                inner = transform("subscription", value["subscription"], fn)
                value = {**value, "subscription": inner}
            elif table == "action_definitions":
                value = transform(row["kind"], value, fn)
            opened.append({**row, column: value})
        out[table] = sorted(opened, key=repr)
    return out


def _fresh_postgres(url: str, name: str) -> Database:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return Database(make_url(url).set(database=name).render_as_string(hide_password=False))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the revisions --------------------------------------------------------------------------


def test_the_revision_files_are_alembics_chain_oldest_first():
    """``schema_version`` reads revisions from file names (no alembic at start-up): they must
    be alembic's own chain, one after the other."""
    scripts = list(reversed(list(script().walk_revisions())))
    assert [s.revision for s in scripts] == list(known_revisions())
    assert [s.down_revision for s in scripts] == [None, *known_revisions()[:-1]]
    assert script().get_current_head() == head()
    for s in scripts:
        assert Path(s.path).parent == VERSIONS_DIR and Path(s.path).name.startswith(
            f"v{s.revision}_"
        )


def test_head_equals_the_models_on_sqlite(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'vigil.db'}")
    done = upgrade(db)
    assert (done.before, done.after, done.stamped) == (None, head(), False)
    assert differences(db) == []
    assert read_state(db.engine).status == "current"
    with db.engine.begin() as conn:  # the comparison sees what a missing revision would leave
        conn.exec_driver_sql("DROP INDEX ix_events_kind_time")
    assert [d[0] for d in differences(db)] == ["add_index"]


def test_head_equals_the_models_on_postgresql(postgres_url: str):  # noqa: F811
    db = _fresh_postgres(postgres_url, "migrate_head")
    try:
        assert upgrade(db).after == head()
        assert differences(db) == []
        assert read_state(db.engine).status == "current"
    finally:
        db.dispose()


def test_every_revision_downgrades_and_upgrades_again_on_sqlite(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'vigil.db'}")
    upgrade(db)
    with db.engine.connect() as conn:
        command.downgrade(config(conn), "base")
        conn.commit()
    with db.engine.connect() as conn:
        left = set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
    assert not left
    upgrade(db)
    assert differences(db) == []


# --- opening a database ---------------------------------------------------------------------


def test_an_empty_database_is_created_at_head_and_stamped(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path))
    assert read_state(db.engine).revision == head()
    assert differences(db) == []


def test_a_database_whose_tables_were_dropped_is_empty_again(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path))
    Base.metadata.drop_all(db.engine)  # alembic_version stays, at head
    assert read_state(db.engine).status == "empty"
    db.create_all()
    assert differences(db) == [] and read_state(db.engine).status == "current"
    Base.metadata.drop_all(db.engine)
    assert upgrade(db).after == head()
    assert differences(db) == []


def test_processes_opening_one_empty_database_together_create_it_once(tmp_path: Path):
    errors: list[str] = []

    def opener() -> None:
        try:
            open_database(Settings(data_dir=tmp_path)).dispose()
        except BaseException:  # reported below, with where it came from
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    conn = sqlite3.connect(tmp_path / "vigil.db")
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]


def test_a_postgresql_database_written_before_migrations_is_refused_then_upgraded(
    postgres_url: str,  # noqa: F811
):
    db = _fresh_postgres(postgres_url, "migrate_legacy")
    try:
        # the schema of the code before migrations (revision 0001), without alembic_version
        with db.engine.begin() as conn:
            command.upgrade(config(conn), "0001")
            conn.execute(text("DROP TABLE alembic_version"))
        with db.session() as s:
            s.execute(text("INSERT INTO endpoints (name, variant, created_at) "
                           "VALUES ('e1', 'AllTraffic', now())"))
        settings = Settings(data_dir=Path("unused"), database_url=db.url)
        with pytest.raises(SchemaOutdatedError, match=r"at revision none.*run 'vigil db upgrade'"):
            open_database(settings)
        done = upgrade(db)
        assert (done.before, done.after, done.stamped) == (None, head(), True)
        opened = open_database(settings)
        with opened.session() as s:
            assert s.execute(text("SELECT name FROM endpoints")).scalars().all() == ["e1"]
        opened.dispose()
        assert differences(db) == []
    finally:
        db.dispose()


def test_a_newer_schema_is_refused_by_open_and_by_upgrade(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path))
    with db.engine.begin() as conn:
        stamp(conn, "9999")
    with pytest.raises(SchemaTooNewError, match="revision 9999, newer than this Vigil knows"):
        open_database(Settings(data_dir=tmp_path))
    with pytest.raises(SchemaTooNewError, match="nothing to upgrade"):
        upgrade(db)
    assert read_state(db.engine).revision == "9999"  # left as it was
    result = cli("server", "--data-dir", str(tmp_path), "--port", str(_port()))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"vigil: error: [schema_too_new] database sqlite:///{tmp_path.resolve() / 'vigil.db'} "
        f"is at revision 9999, newer than this Vigil knows (its newest is {head()}): run a "
        "Vigil that knows 9999"
    ]


# --- a database written before migrations, with data --------------------------------------


def test_the_pre_migration_database_is_refused_then_upgraded_with_its_data_intact(
    tmp_path: Path,
):
    data = tmp_path / "data"
    data.mkdir()
    path = data / "vigil.db"
    shutil.copy(FIXTURE, path)
    before = _rows(path)
    assert sum(len(rows) for rows in before.values()) > 200  # every area holds data
    refusal = REFUSAL.format(db=path.resolve(), head=head())

    # the server and every other command refuse it, one line, exit 2, nothing written
    for args in (
        ["server", "--data-dir", str(data), "--port", str(_port())],
        ["token", "create", "--name", "reader", "--data-dir", str(data)],
        ["alarm", "list", "--data-dir", str(data)],
        ["db", "check", "--data-dir", str(data)],
    ):
        result = cli(*args)
        assert (result.returncode, result.stderr.splitlines()) == (2, [refusal]), args
    assert _rows(path) == before
    assert "outdated" in cli("db", "current", "--data-dir", str(data)).stdout

    upgraded = cli("db", "upgrade", "--data-dir", str(data))
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.splitlines() == [
        f"database sqlite:///{path.resolve()} upgraded from revision none (written before "
        f"migrations) to {head()}",
        "sealed 16 plain-text secret value(s) with the secret key (2 in subscriptions, "
        "14 in deliveries)",
    ]
    after = _rows(path)
    # the columns later revisions added hold their backfilled values (issue 11: the events'
    # envelope, endpoint config, subscription min_severity)
    added = _added_columns(before, after)
    assert added == {"endpoints": {"config"}, "subscriptions": {"min_severity"}, "events": {
        "source", "detail_type", "account", "region", "resources", "extra", "dedup_key",
        "received_at", "run_kind", "run_name", "run_key", "run_status", "published_at",
    }}  # fmt: skip
    assert all(r["config"] is None for r in after["endpoints"])
    assert all(r["min_severity"] is None for r in after["subscriptions"])
    for row in after["events"]:
        assert (row["source"], row["account"], row["region"], json.loads(row["resources"])) == (
            "vigil", "000000000000", "local", [])
        assert row["received_at"] == row["published_at"] == row["created_at"]
        assert row["dedup_key"] is None
        assert row["detail_type"].startswith("Vigil ") and row["detail_type"] != "Vigil "
    kinds = {r["kind"]: r["detail_type"] for r in after["events"]}
    assert kinds.get("execution_completed", "Vigil Monitoring Execution Completed") == (
        "Vigil Monitoring Execution Completed")
    assert _opened(_without(after, added), data) == _opened(before, data)  # secrets sealed
    assert differences(Database(f"sqlite:///{path}")) == []
    again = cli("db", "upgrade", "--data-dir", str(data), "--output", "json")
    assert '"changed": false' in again.stdout
    assert cli("db", "check", "--data-dir", str(data)).returncode == 0

    # the objects come back through a live server
    token = cli("token", "create", "--name", "reader", "--data-dir", str(data))
    assert token.returncode == 0, token.stderr
    port = _port()
    server = subprocess.Popen(
        [*VIGIL, "server", "--no-scheduler", "--port", str(port), "--data-dir", str(data)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
            timeout=10,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                client.get("/endpoints").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        _same_objects(client, before)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _same_objects(client: httpx.Client, before: dict[str, list[dict[str, Any]]]) -> None:
    """What the API shows is what the old database held (names, ids, states, counts)."""

    def col(table: str, *names: str) -> list[Any]:
        picked = [tuple(r[n] for n in names) for r in before[table]]
        return sorted(p[0] if len(names) == 1 else p for p in picked)

    for kind in ("endpoints", "baselines", "schedules"):
        got = client.get(f"/{kind}").json()[kind]
        assert sorted(o["name"] for o in got) == col(kind, "name")
    alarms = client.get("/alarms").json()["alarms"]
    assert sorted((a["name"], a["state"]) for a in alarms) == col("alarms", "name", "state")
    history = [
        h for a in alarms for h in client.get(f"/alarms/{a['name']}/history").json()["history"]
    ]
    assert sorted(h["new_state"] for h in history) == col("alarm_history", "new_state")
    got = client.get("/executions", params={"limit": 1000}).json()["executions"]
    assert sorted(e["id"] for e in got) == col("executions", "id")
    assert sorted(e["status"] for e in got) == col("executions", "status")
    topics = client.get("/topics").json()["topics"]
    assert sorted(topics) == col("topics", "name")
    subscriptions = [
        s["id"] for t in topics for s in client.get(f"/topics/{t}/subscriptions").json()[
            "subscriptions"
        ]
    ]
    assert sorted(subscriptions) == col("subscriptions", "id")
    metrics = client.get("/metrics").json()["metrics"]
    assert sorted((m["namespace"], m["name"]) for m in metrics) == col(
        "metric_series", "namespace", "name"
    )
