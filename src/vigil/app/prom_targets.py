"""Stored scrape configs: ``vigil apply`` writes them (credentials sealed), the scraper reads
them back in plain text, ``vigil export`` shows them with references or redactions.

>>> from vigil.store.db import Database
>>> db = Database("sqlite://"); db.create_all()
>>> spec = ScrapeConfigSpec(job_name="m", bearer_token="s3cret",
...                         static_configs=[{"targets": ["127.0.0.1:9"]}])
>>> put_scrape_config(db, spec)
>>> [s.token for s in scrape_configs(db)], [s.bearer_token for s in stored_scrape_configs(db)]
(['s3cret'], ['***'])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from vigil.app.config.scrape import ScrapeConfigSpec, map_secrets
from vigil.store.db import Database
from vigil.store.models import ScrapeConfigRecord
from vigil.store.secrets import box_of, exported, seal, unseal

__all__ = [
    "delete_scrape_config",
    "put_scrape_config",
    "scrape_configs",
    "stored_scrape_configs",
]


def put_scrape_config(
    db: Database, spec: ScrapeConfigSpec, environ: Mapping[str, str] | None = os.environ
) -> None:
    """Create or replace the job ``spec.job_name``; ``${env:NAME}`` credentials are resolved
    in ``environ`` (``vigil apply``), and every credential is sealed."""
    box = box_of(db)
    doc = map_secrets(
        spec.model_dump(mode="json", exclude_none=True),
        lambda f, c: seal(f, c, box, environ, what=f"scrape_configs.{spec.job_name}"),
    )
    with db.session() as s:
        row = s.get(ScrapeConfigRecord, spec.job_name)
        if row is None:
            s.add(ScrapeConfigRecord(job_name=spec.job_name, spec=doc))
        else:
            row.spec = doc


def delete_scrape_config(db: Database, job_name: str) -> bool:
    """Remove a job; whether it existed."""
    with db.session() as s:
        row = s.get(ScrapeConfigRecord, job_name)
        if row is None:
            return False
        s.delete(row)
        return True


def _rows(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.scalars(select(ScrapeConfigRecord).order_by(ScrapeConfigRecord.job_name))
        return [dict(r.spec) for r in rows]


def scrape_configs(db: Database) -> list[ScrapeConfigSpec]:
    """Every stored job with its credentials in plain text (to scrape with)."""
    box = box_of(db)
    return [
        ScrapeConfigSpec.model_validate(map_secrets(doc, lambda f, c: unseal(f, c, box)))
        for doc in _rows(db)
    ]


def stored_scrape_configs(db: Database, secrets: str = "export") -> list[ScrapeConfigSpec]:
    """Every stored job, credentials as :func:`vigil.store.secrets.exported` writes them in
    mode ``secrets`` (``export``, ``plain``, ``diff``)."""
    box = box_of(db)
    return [
        ScrapeConfigSpec.model_validate(
            map_secrets(doc, lambda f, c: exported(f, c, box, secrets))
        )
        for doc in _rows(db)
    ]
