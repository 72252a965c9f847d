"""`flask oims export-judgments` and `flask oims send-digest`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from oims.extensions import db
from oims.matchfeed import alerts
from oims.matchfeed.judgments import verdicts, write_corpus_and_queries, write_qrels


@click.command("export-judgments")
@with_appcontext
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="qrels file (default: standard output)")
@click.option("--corpus", "corpus_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the judged candidates' texts (JSONL) for `python -m matching evaluate --corpus`")
@click.option("--queries", "queries_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the judged needs' texts (JSONL) for `--queries`")
@click.option("--kind", type=click.Choice(["all", "proposal", "org"]), default="all", show_default=True,
              help="judged proposals (ranked lists) or organisations (recommendations)")
def export_judgments(out, corpus_out, queries_out, kind):
    """Write coordinators' judgments as qrels (query-id, corpus-id, relevance)."""
    items = [v for v in verdicts() if kind == "all" or v.kind == kind]
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            n = write_qrels(fh, items)
    else:
        n = write_qrels(sys.stdout, items)
    if corpus_out or queries_out:
        if not (corpus_out and queries_out):
            raise click.UsageError("--corpus and --queries go together.")
        with open(corpus_out, "w", encoding="utf-8") as cf, open(queries_out, "w", encoding="utf-8") as qf:
            docs, queries = write_corpus_and_queries(cf, qf, items)
        click.echo(f"{docs} candidate(s) and {queries} need(s) written", err=True)
    click.echo(f"{n} judgment(s) exported", err=True)


@click.command("send-digest")
@with_appcontext
@click.option("--force", is_flag=True, help="Send even to users who had a digest in the past 7 days.")
def send_digest(force):
    """E-mail each opted-in proposer the new needs of the week that match its organisation (run daily or weekly)."""
    count = alerts.send_digest(force=force)
    db.session.commit()
    click.echo(f"queued {count} digest e-mail(s); deliver them with `flask oims send-mail`")
