"""`flask oims remind-deadlines` and `flask oims close-needs` (run daily)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from oims.core.exceptions import ValidationFailed
from oims.extensions import db
from oims.models import Need
from oims.needs.deadlines import close_expired, remind_deadlines
from oims.needs.uploads import clean_for_anonymity


@click.command("remind-deadlines")
@with_appcontext
def remind_deadlines_command():
    """Tell owners and drafting proposers about proposal deadlines 7 and 1 days ahead."""
    count = remind_deadlines()
    db.session.commit()
    click.echo(f"reminded {count} needs")


@click.command("close-needs")
@with_appcontext
def close_needs_command():
    """Close published needs whose proposal deadline has passed."""
    count = close_expired()
    db.session.commit()
    click.echo(f"closed {count} needs")


@click.command("clean-anonymous-attachments")
@with_appcontext
def clean_anonymous_attachments_command():
    """Rebuild the files of anonymous needs that were stored before cleaning existed."""
    changed, refused = 0, 0
    for need in db.session.scalars(select(Need).where(Need.anonymous.is_(True)).order_by(Need.id)).all():
        try:
            with db.session.begin_nested():
                changed += clean_for_anonymity(need)
        except ValidationFailed as exc:
            refused += 1
            click.echo(f"need {need.id}: {exc}", err=True)
    db.session.commit()
    click.echo(f"rebuilt {changed} files; {refused} needs have a file that cannot be rebuilt")
