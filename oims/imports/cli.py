"""`flask oims import-orgs FILE [--dry-run] [--bureau CODE]`."""

from __future__ import annotations

from pathlib import Path

import click
from tqdm import tqdm

from oims.core import reference as ref
from oims.extensions import db
from oims.imports.services import UnreadableFile, create_job, run_job, unfinished_job_for


@click.command("import-orgs")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and print the report; write nothing.")
@click.option("--bureau", type=click.Choice([b.code for b in ref.BUREAUS]), default=None,
              help="Import only organisations of this bureau (as its coordinators would).")
@click.option("--chunk", default=200, show_default=True, help="Rows per transaction.")
def import_orgs_command(path: Path, dry_run: bool, bureau: str | None, chunk: int):
    """Import organisations and capability profiles from a CSV or XLSX file.

    Re-running the same file after an interruption resumes after the last
    committed row; re-importing a list changes only what changed (key: 法人番号)."""
    data = path.read_bytes()
    job = None if dry_run else unfinished_job_for(data, bureau)
    if job is not None:
        click.echo(f"Resuming import job {job.id} after row {job.last_row}.")
    else:
        try:
            job = create_job(data, path.name, bureau=bureau)
        except UnreadableFile as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{job.total_rows} rows, {job.valid_rows} valid, {len(job.errors)} problem(s).")
        for e in job.errors:
            click.echo(f"  row {e['row']}: {e['column']}: {e['message']}")
        if dry_run:
            db.session.rollback()  # a dry run leaves no trace
            click.echo("Dry run: nothing was saved.")
            return
        db.session.commit()
    bar = tqdm(total=job.total_rows, initial=job.processed, unit="row", desc="import", disable=None)

    def progress(j) -> None:
        bar.update(j.processed - bar.n)

    try:
        run_job(job, chunk_rows=chunk, progress=progress)
    finally:
        bar.close()
    click.echo(f"Done: {job.created_count} created, {job.updated_count} updated, "
               f"{job.unchanged_count} unchanged, {job.skipped_count} skipped (job {job.id}).")
