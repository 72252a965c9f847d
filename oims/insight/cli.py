"""`flask oims refresh-kpi`: recompute the cached KPI panels (run it from cron)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app

from oims.insight.cache import refresh_all


@click.command("refresh-kpi")
def refresh_kpi_command():
    """Recompute the dashboard's fiscal-year KPI panel of every bureau into the cache."""
    today = datetime.now(ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo"))).date()
    click.echo(f"refreshed {refresh_all(today)} KPI panels")
