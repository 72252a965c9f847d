"""`flask oims reindex` and `flask oims remind-meetings`."""

from __future__ import annotations

import click

from ..cli import oims_cli
from ..extensions import db


@oims_cli.command("reindex")
@click.option("--changed-only", is_flag=True, help="Only fix what differs from the database (the repair).")
def reindex(changed_only):
    """Rebuild the matcher's indexes (needs, proposals, capability profiles) from the database."""
    from .. import matching_service as ms

    svc = ms.service()
    if not svc.enabled:
        raise click.ClickException("Matching is disabled (OIMS_MATCHING_ENABLED=false).")
    try:
        svc.encoder()
    except Exception as exc:
        raise click.ClickException(f"The encoder is unavailable: {exc}") from exc
    total = svc.count_items()
    with click.progressbar(length=total, label="Indexing", show_pos=True) as bar:
        report = ms.reindex(progress=bar.update, force=not changed_only)
    for kind, (upserted, removed) in report.items():
        click.echo(f"{kind}: {upserted} indexed, {removed} removed, {len(svc.matcher(kind))} in index")


@oims_cli.command("remind-meetings")
@click.option("--loop", is_flag=True, help="Keep running, checking every --interval seconds.")
@click.option("--interval", default=900, show_default=True)
def remind_meetings(loop, interval):
    """Send reminders for first meetings that start within the next day (run hourly, or --loop)."""
    import time

    from .services import send_meeting_reminders

    while True:
        count = send_meeting_reminders()
        db.session.commit()
        click.echo(f"reminded {count} meeting(s)")
        if not loop:
            break
        time.sleep(interval)
