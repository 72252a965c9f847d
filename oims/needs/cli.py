"""`flask oims remind-deadlines` and `flask oims close-needs` (run daily)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.command("remind-deadlines")
@with_appcontext
def remind_deadlines_command():
    """Tell owners and drafting proposers about proposal deadlines 7 and 1 days ahead."""
    from .services import remind_deadlines

    count = remind_deadlines()
    db.session.commit()
    click.echo(f"reminded {count} needs")


@click.command("close-needs")
@with_appcontext
def close_needs_command():
    """Close published needs whose proposal deadline has passed."""
    from .services import close_expired

    count = close_expired()
    db.session.commit()
    click.echo(f"closed {count} needs")
