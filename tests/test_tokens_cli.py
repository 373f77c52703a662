"""``vigil token list|revoke``: what an operator sees of the tokens (never a secret), and a
revocation from the CLI that a running server honours from the next request on."""

from __future__ import annotations

import json
from pathlib import Path

from live_server import LiveServer
from test_runtime import cli
from vigil.store.settings import Settings


def test_token_list_and_revoke(tmp_path: Path):
    data = tmp_path / "data"
    made = cli(data, "token", "create", "--name", "model-server", "--scopes", "ingest")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert cli(data, "token", "create", "--name", "ops", "--scopes", "admin").returncode == 0
    bad = cli(data, "token", "create", "--name", "x", "--scopes", "root")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "read, ingest, write, admin" in bad.stderr

    srv = LiveServer(Settings(data_dir=data))
    try:
        client = srv.client(secret)
        sent = client.post("/metrics", json={"namespace": "a", "data": [{"name": "x", "value": 1}]})
        assert sent.status_code == 200, sent.text

        listed = cli(data, "token", "list", "--output", "json")
        assert listed.returncode == 0, listed.stderr
        assert secret not in listed.stdout
        tokens = json.loads(listed.stdout)["tokens"]
        assert [t["name"] for t in tokens] == ["model-server", "ops"]
        first = tokens[0]
        assert set(first) == {"name", "scopes", "created_at", "last_used_at", "revoked"}
        assert first["scopes"] == ["ingest"] and first["revoked"] is False
        assert first["last_used_at"] is not None and tokens[1]["last_used_at"] is None

        text = cli(data, "token", "list")
        assert text.returncode == 0 and secret not in text.stdout
        lines = text.stdout.splitlines()
        assert lines[1].split() == ["name", "scopes", "created", "last", "used", "status"]
        assert lines[2].split()[:2] == ["model-server", "ingest"] and lines[2].endswith("active")
        assert lines[3].split()[3] == "never"

        revoked = cli(data, "token", "revoke", "model-server")
        assert revoked.returncode == 0 and revoked.stdout.strip() == "revoked model-server"
        assert client.get("/metrics").status_code == 401  # at once, on the running server
        again = json.loads(cli(data, "token", "list", "--output", "json").stdout)["tokens"]
        assert again[0]["revoked"] is True
        assert "revoked" in cli(data, "token", "list").stdout.splitlines()[2]
    finally:
        srv.stop()
    missing = cli(data, "token", "revoke", "nobody")
    assert (
        missing.returncode == 2
        and missing.stderr.strip() == "vigil: error: no token named 'nobody'"
    )
    assert cli(data, "token", "revoke", "--name", "ops").returncode == 0  # the old spelling
