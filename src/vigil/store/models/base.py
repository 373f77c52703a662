"""The declarative base every Vigil table is declared on, and the longest name accepted.

Every timestamp column is a timezone-aware UTC datetime in Python (:class:`UTCDateTime`),
every ``dict`` column JSON, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from vigil.store.columns import UTCDateTime

NAME = 255  # longest name (endpoint, schedule, metric, dimension) accepted, as in AWS


class Base(DeclarativeBase):
    """Declarative base of every Vigil table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}
