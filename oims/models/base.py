"""Shared column types and helpers for the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone type, so values are stored as naive UTC and handed
    back aware; comparing them with utcnow() then works on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# JSON lists (technologies, keywords...): portable across SQLite and PostgreSQL.
JSONList = JSON


def include_in_schema_for(dialect_name: str):
    """Alembic `include_object` filter: leaves out of the comparison of models and
    database what a model declares for other dialects only (an index with
    info={"only_dialects": (...)} and a matching `ddl_if`)."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "info", {}).get("only_dialects")
        return not only or dialect_name in only

    return include_object
