"""An action run's stored definition holds no secret in plain text (issue 9, item 6): the
engine seals the targets' declared settings when it records a run and opens them to run it."""

from __future__ import annotations

import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from vigil.actions import Runner, Workflow
from vigil.actions.spec import HttpTarget, Step
from vigil.app.bootstrap import open_database
from vigil.app.sealing import seal_stored_secrets
from vigil.store.models import ActionRun
from vigil.store.settings import Settings

SECRET = "Bearer run-secret-4f1c"


class Receiver(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.seen.append(self.headers.get("Authorization", ""))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args: object) -> None:
        pass


def _raw(path: Path) -> str:
    """Every text value of the action_runs table, read with sqlite3 (not our code)."""
    with sqlite3.connect(path) as conn:
        return "\n".join(str(r) for r in conn.execute("SELECT * FROM action_runs"))


def test_a_runs_definition_is_sealed_and_the_run_still_sends_the_secret(tmp_path: Path):
    Receiver.seen = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    db = open_database(Settings(data_dir=tmp_path))
    try:
        url = f"http://127.0.0.1:{http.server_port}/hook?token=q-secret-77"
        target = HttpTarget(url=url, headers={"Authorization": SECRET})
        wf = Workflow(name="notify", steps=[Step(name="call", target=target)])
        run = Runner(db, {"notify": wf}, owner="t").run_workflow("notify", {"a": 1})
        assert run.status == "Succeeded", run.error
        assert Receiver.seen == [SECRET]
        raw = _raw(tmp_path / "vigil.db")
        assert "run-secret-4f1c" not in raw and "q-secret-77" not in raw
        assert "vigil-secret:" in raw
    finally:
        db.dispose()
        http.shutdown()


def test_upgrade_seals_a_definition_an_older_vigil_stored_in_plain_text(tmp_path: Path):
    db = open_database(Settings(data_dir=tmp_path))
    try:
        wf = Workflow(name="w", steps=[Step(name="s", target=HttpTarget(url="https://x.org/h"))])
        run = Runner(db, {"w": wf}, owner="t").start(wf.steps[0].target, {})
        plain = {  # what the code before sealing stored
            "workflow": {"name": "http", "steps": [{"name": "http", "target": {
                "type": "http", "url": "https://x.org/h", "method": "POST",
                "headers": {"Authorization": SECRET}, "timeout_seconds": 30}}]},
            "workflows": {},
        }  # fmt: skip
        with db.session() as s:
            s.get(ActionRun, run.id).definition = plain
        assert "run-secret-4f1c" in _raw(tmp_path / "vigil.db")
        done = seal_stored_secrets(db)
        assert done.counts["runs"] == 2  # the header and the URL (declared: sealed whole)
        assert "run-secret-4f1c" not in _raw(tmp_path / "vigil.db")
        assert seal_stored_secrets(db).total == 0
        with db.session() as s:
            stored = s.get(ActionRun, run.id)
            assert Runner(db, {}, owner="t").can_resume(stored)
    finally:
        db.dispose()
