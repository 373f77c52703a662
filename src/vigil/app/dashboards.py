"""Dashboards as code, stored: each dashboard of ``vigil.yaml``'s ``dashboards:`` section is
a JSON document in the ``platform_settings`` table under the key ``dashboard/{name}`` (no
table of its own), written by ``vigil apply`` and read by the dashboard's pages and
``vigil export``.

>>> from vigil.store.db import Database
>>> db = Database("sqlite://"); db.create_all()
>>> spec = DashboardSpec.model_validate({"name": "ops", "widgets": [
...     {"type": "text", "x": 0, "y": 0, "text": "hello"}]})
>>> put_dashboard(db, spec)
>>> [d.name for d in stored_dashboards(db)], get_dashboard(db, "ops") == spec
(['ops'], True)
>>> get_dashboard(db, "nope")
Traceback (most recent call last):
...
vigil.app.dashboards.DashboardNotFoundError: [dashboard_not_found] no dashboard named 'nope'
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select

from vigil.app.config.dashboards import DashboardSpec
from vigil.errors import NotFoundError
from vigil.store.db import Database
from vigil.store.models import PlatformSetting

__all__ = ["KEY_PREFIX", "DashboardNotFoundError", "get_dashboard", "put_dashboard",
           "stored_dashboards"]  # fmt: skip

KEY_PREFIX = "dashboard/"


class DashboardNotFoundError(NotFoundError):
    """No dashboard has that name."""

    code = "dashboard_not_found"


def put_dashboard(db: Database, spec: DashboardSpec) -> None:
    """Create or replace the dashboard ``spec.name``."""
    key = KEY_PREFIX + spec.name
    with db.session() as s:
        row = s.get(PlatformSetting, key) or PlatformSetting(key=key)
        row.value = spec.model_dump(mode="json")
        s.add(row)


def _parse(value: object) -> DashboardSpec | None:
    try:
        return DashboardSpec.model_validate(value)
    except ValidationError:  # stored by an older version whose rules were looser
        return None


def stored_dashboards(db: Database) -> list[DashboardSpec]:
    """Every stored dashboard, by name (one that no longer validates is left out)."""
    with db.session() as s:
        rows = s.execute(
            select(PlatformSetting.key, PlatformSetting.value)
            .where(PlatformSetting.key.startswith(KEY_PREFIX, autoescape=True))
            .order_by(PlatformSetting.key)
        ).all()
    found = [_parse(value) for _, value in rows]
    return [d for d in found if d is not None]


def get_dashboard(db: Database, name: str) -> DashboardSpec:
    """The dashboard ``name``; :class:`DashboardNotFoundError` when there is none."""
    with db.session() as s:
        row = s.get(PlatformSetting, KEY_PREFIX + name)
        spec = _parse(row.value) if row is not None else None
    if spec is None:
        raise DashboardNotFoundError(f"no dashboard named {name!r}")
    return spec
