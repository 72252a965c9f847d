"""`flask oims reindex`, `flask oims worker` and `flask oims remind-meetings`."""

from __future__ import annotations

import logging
import time

import click
from flask.cli import with_appcontext

from oims.brokerage.meetings import send_meeting_reminders
from oims.extensions import db
from oims.matcher import service as ms
from oims.matcher.worker import prune_log


@click.command("reindex")
@with_appcontext
@click.option("--changed-only", is_flag=True, help="Only fix what differs from the database (the repair).")
def reindex(changed_only):
    """Rebuild the matcher's indexes (needs, proposals, capability profiles) from the database."""
    svc = ms.service()
    if not svc.enabled:
        raise click.ClickException("Matching is disabled (OIMS_MATCHING_ENABLED=false).")
    try:
        svc.encoder()
    except Exception as exc:
        raise click.ClickException(f"The encoder is unavailable: {exc}") from exc
    total = ms.count_items()
    with click.progressbar(length=total, label="Indexing", show_pos=True) as bar:
        report = ms.reindex(progress=bar.update, force=not changed_only)
    for kind in ms.KINDS:
        upserted, removed = report.get(kind, (0, 0))
        click.echo(f"{kind}: {upserted} indexed, {removed} removed, {len(svc.matcher(kind))} in index")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Handle what is pending, then exit.")
@click.option("--poll", default=0.5, show_default=True, help="Seconds between looks at the change log.")
def worker(once, poll):
    """Encode changed needs, proposals and profiles into the index stored in the database.

    Run one per host (or one in all) with OIMS_INDEX_WORKER=external on the web hosts;
    several may run: one holds the lease, the others take over if it dies."""
    logging.basicConfig(level=logging.INFO)
    svc = ms.service()
    if not svc.enabled:
        raise click.ClickException("Matching is disabled (OIMS_MATCHING_ENABLED=false).")
    try:
        svc.encoder()
    except Exception as exc:
        raise click.ClickException(f"The encoder is unavailable: {exc}") from exc
    click.echo(f"worker {svc.worker.owner}: encoder {svc.encoder().name}")
    last_prune = 0.0
    with ms._own_session() as session:
        while True:
            try:
                handled = svc.worker.step(session)
            except Exception:
                logging.getLogger(__name__).warning("worker step failed", exc_info=True)
                session.rollback()
                handled = 0
                time.sleep(5)
            if once and not handled:
                break
            if time.monotonic() - last_prune > 3600:
                prune_log(session)
                last_prune = time.monotonic()
            if not handled:
                time.sleep(poll)


@click.command("remind-meetings")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep running, checking every --interval seconds.")
@click.option("--interval", default=900, show_default=True)
def remind_meetings(loop, interval):
    """Send reminders for first meetings that start within the next day (run hourly, or --loop)."""
    while True:
        count = send_meeting_reminders()
        db.session.commit()
        click.echo(f"reminded {count} meeting(s)")
        if not loop:
            break
        time.sleep(interval)
