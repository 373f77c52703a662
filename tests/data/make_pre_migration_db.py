"""Write ``pre_migration.db``: a SQLite database written by the Vigil that came before
migrations (no ``alembic_version``), with data in every area, for ``tests/test_migrations.py``.

It runs that code's own demo (``vigil demo --exit``: an endpoint, a baseline, an hourly schedule
with seven executions, their metrics, three alarms with history, a topic with two
subscriptions and its outbox, a rule, a workflow and its run, events, an API token) and keeps
its database, checkpointed and vacuumed (about 300 KB). It was made once, at commit 7153e4a,
with::

    PYTHONPATH=/work/main/src python tests/data/make_pre_migration_db.py

(``/work/main/src`` being that commit's tree: to make it again, run it with ``PYTHONPATH``
pointing at a checkout of 7153e4a). Run with the current code it would write a database at
the current revision instead, which is not what the test needs.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "pre_migration.db"


def main() -> None:
    """Run the demo into a scratch directory and keep its compacted database."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        code = "from vigil.cli import main; main()"
        subprocess.run(
            [sys.executable, "-c", code, "demo", "--output", str(out), "--exit", "--port", "18431"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        scratch = Path(tmp) / "vigil.db"
        for suffix in ("", "-wal", "-shm"):  # the demo exits without a checkpoint
            if (out / "data" / f"vigil.db{suffix}").exists():
                shutil.copy(out / "data" / f"vigil.db{suffix}", f"{scratch}{suffix}")
        conn = sqlite3.connect(scratch)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" in tables:
            raise SystemExit("this Vigil already versions its schema: run the code before 0001")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("VACUUM")
        conn.close()
        shutil.copy(scratch, TARGET)
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
