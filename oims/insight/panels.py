"""Dashboard panel: this fiscal year's funnel, linking to the KPI page."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_timedelta

from oims.insight.cache import cached_funnel
from oims.insight.kpi import fiscal_year_start
from oims.insight.services import kpi_scope, may_view_kpi


def kpi_panel(user):
    if not may_view_kpi(user):
        return None
    today = datetime.now(ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo"))).date()
    args = {"from": fiscal_year_start(today).isoformat(), "to": today.isoformat()}
    scope, _top_n = kpi_scope(user, args)
    entry = cached_funnel(scope)
    return "insight/_panel.html", {"funnel": entry["funnel"], "args": args, "computed_at": entry["computed_at"],
                                   "age": format_timedelta(entry["computed_at"] - datetime.now(UTC),
                                                           threshold=1.0, add_direction=True)}
