"""`flask oims send-checkins` (run daily from cron)."""

from __future__ import annotations

import click

from ..cli import oims_cli
from ..extensions import db


@oims_cli.command("send-checkins")
def send_checkins_command():
    """Send the follow-up check-ins due 2, 6 and 12 weeks after held first meetings (idempotent; run daily)."""
    from .services import send_checkins

    count = send_checkins()
    db.session.commit()
    click.echo(f"check-ins sent: {count}")
