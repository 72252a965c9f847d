"""Dates in the service's time zone. Deadlines and response dates are
calendar dates in Japan, whatever the server's own clock zone is."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def local_tz() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo") if has_app_context() else "Asia/Tokyo"
    return ZoneInfo(name)


def today_local() -> date:
    """Today's date in the service's time zone (OIMS_TIMEZONE, default Asia/Tokyo)."""
    return datetime.now(local_tz()).date()


DATETIME_FORMAT = "%Y/%m/%d %H:%M"
DATE_FORMAT = "%Y/%m/%d"


def format_local(value) -> str:
    """The one way the app shows a time or a date: in the service's zone,
    minutes not seconds, the same pattern in every language (2026/12/02 15:30).
    Naive datetimes are taken as UTC (how the database stores them)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value.astimezone(local_tz()).strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    return str(value)
