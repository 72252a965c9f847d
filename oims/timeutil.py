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
