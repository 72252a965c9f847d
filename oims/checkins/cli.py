"""`flask oims send-checkins` (run daily from cron)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from oims.checkins.services import send_checkins
from oims.extensions import db


@click.command("send-checkins")
@with_appcontext
def send_checkins_command():
    """Send the follow-up check-ins due 2, 6 and 12 weeks after held first meetings (idempotent; run daily)."""
    count = send_checkins()
    db.session.commit()
    click.echo(f"check-ins sent: {count}")
