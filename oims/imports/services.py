"""Bulk import of organisations and their capability profiles.

`create_job` stores the file and runs the dry run (nothing but the job row is
written); `run_job` applies the rows in chunks, each chunk committed together
with the job's progress (`last_row`), so a run cut off at any point resumes
after the last committed row and never applies a row twice. Re-importing the
same list is idempotent: rows are keyed by 法人番号 and a row that changes
nothing counts as unchanged.

Blank optional cells leave an existing organisation's value as it is (a
firm may have completed its profile itself since the last import); on a new
organisation they take the usual defaults.

Unlike most services this module commits: a run is many transactions by design.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update

from oims.audit.log import audit
from oims.core import reference as ref
from oims.extensions import db
from oims.imports.columns import (
    COLUMN_BY_KEY,
    INDUSTRY_INDEX,
    KIND_INDEX,
    LIST_COLUMNS,
    PREFECTURE_INDEX,
    employee_band_of,
    norm,
    split_list,
)
from oims.imports.corporate_number import is_valid, normalise
from oims.imports.reader import Sheet, UnreadableFile, format_of, read_sheet
from oims.models import ImportJob, Organisation, User
from oims.models.base import utcnow

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 1000
CHUNK_ROWS = 200
# A running job that has not reported progress for this long was interrupted.
STALE_AFTER = timedelta(seconds=60)
LIMITS = {"name": 200, "name_kana": 200, "name_en": 200, "website": 300, "profile": 5000}


@dataclass
class RowResult:
    values: dict | None                # Organisation attributes to set (None: the row is refused)
    errors: list[tuple[str, str]]      # (column header, message)


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def check_row(raw: dict[str, object], bureau: str | None) -> RowResult:
    """Validate one row; return the attribute values it would set."""
    errors: list[tuple[str, str]] = []
    values: dict = {}

    def err(key: str, message: str) -> None:
        errors.append((COLUMN_BY_KEY[key].header, message))

    _check_number(raw, values, err)
    _check_texts(raw, values, err)
    _check_prefecture(raw, values, err, bureau)
    _check_codes(raw, values, err)
    _check_lists(raw, values, err)
    return RowResult(None if errors else values, errors)


# Each check reads its columns of `raw`, puts what it accepts into `values`
# and reports each problem with `err(column key, message)`.

def _check_number(raw: dict[str, object], values: dict, err) -> None:
    number = normalise(raw.get("corporate_number"))
    if not number:
        err("corporate_number", _("Required."))
    elif not (len(number) == 13 and number.isdigit()):
        err("corporate_number", _("A corporate number has 13 digits (got %(value)s).", value=number[:20]))
    elif not is_valid(number):
        err("corporate_number", _("The check digit of %(value)s is wrong.", value=number))
    values["corporate_number"] = number


def _check_texts(raw: dict[str, object], values: dict, err) -> None:
    for key in ("name", "name_kana", "name_en", "website", "profile"):
        text = _text(raw.get(key))
        if key == "name" and not text:
            err(key, _("Required."))
        if len(text) > LIMITS[key]:
            err(key, _("At most %(n)d characters.", n=LIMITS[key]))
        if key == "website" and text and not text.lower().startswith(("http://", "https://")):
            err(key, _("Give an address starting with http:// or https://."))
        if text:
            values[key] = text


def _check_prefecture(raw: dict[str, object], values: dict, err, bureau: str | None) -> None:
    pref_text = _text(raw.get("prefecture"))
    pref = PREFECTURE_INDEX.get(norm(pref_text)) if pref_text else None
    if not pref_text:
        err("prefecture", _("Required."))
    elif pref is None:
        err("prefecture", _("Unknown prefecture: %(value)s.", value=pref_text[:40]))
    elif bureau and ref.BUREAU_OF_PREFECTURE[pref] != bureau:
        err("prefecture", _("%(pref)s is outside your bureau; only organisations of your bureau can be imported.",
                            pref=ref.PREFECTURE_BY_CODE[pref].ja))
    else:
        values["prefecture"] = pref


def _check_codes(raw: dict[str, object], values: dict, err) -> None:
    for key, index in (("kind", KIND_INDEX), ("industry", INDUSTRY_INDEX)):
        text = _text(raw.get(key))
        if text:
            code = index.get(norm(text))
            if code is None:
                err(key, _("Unknown value: %(value)s.", value=text[:40]))
            else:
                values[key] = code
    band_text = _text(raw.get("employee_band"))
    if band_text:
        band = employee_band_of(band_text)
        if band is None:
            err("employee_band", _("Unknown value: %(value)s.", value=band_text[:40]))
        else:
            values["employee_band"] = band


def _check_lists(raw: dict[str, object], values: dict, err) -> None:
    for key in LIST_COLUMNS:
        text = _text(raw.get(key))
        if text:
            items = split_list(text)
            if len(items) > 50 or any(len(i) > 200 for i in items):
                err(key, _("At most 50 items of 200 characters each."))
            values[key] = items


# --- the job ----------------------------------------------------------------------------------

def _messages_locale():
    """Report messages in the request's language; outside a request (CLI, the
    background runner) in the default one, as the locale selector needs a request."""
    if has_request_context():
        return nullcontext()
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "ja"))


def _report(errors: list, row: int, column: str, message: str) -> None:
    if len(errors) < MAX_REPORTED_ERRORS:
        errors.append({"row": row, "column": column, "message": message})


def _dry_run(sheet: Sheet, bureau: str | None) -> tuple[int, list[dict]]:
    """Check every row as the run would, without writing; returns (valid rows, errors)."""
    errors: list[dict] = []
    for header in sheet.unknown_headers:
        _report(errors, 1, header, _("Unknown column; it is ignored."))
    first_row: dict[str, int] = {}
    checked = []
    for number, raw in sheet.rows:
        result = check_row(raw, bureau)
        for column, message in result.errors:
            _report(errors, number, column, message)
        if result.values is not None:
            cn = result.values["corporate_number"]
            if cn in first_row:
                _report(errors, number, COLUMN_BY_KEY["corporate_number"].header,
                        _("The same corporate number is already on row %(row)d.", row=first_row[cn]))
                continue
            first_row[cn] = number
            checked.append((number, cn))
    valid = len(checked)
    if bureau and checked:
        # An organisation already registered in another bureau is that bureau's to update.
        numbers = [cn for _, cn in checked]
        foreign = set()
        for start in range(0, len(numbers), 1000):
            foreign |= set(db.session.scalars(select(Organisation.corporate_number).where(
                Organisation.corporate_number.in_(numbers[start:start + 1000]), Organisation.bureau != bureau)))
        for number, cn in checked:
            if cn in foreign:
                valid -= 1
                _report(errors, number, COLUMN_BY_KEY["corporate_number"].header,
                        _("This organisation is registered with another bureau."))
    errors.sort(key=lambda e: e["row"])
    return valid, errors


def create_job(data: bytes, filename: str, *, actor: User | None = None, bureau: str | None = None) -> ImportJob:
    """Store an uploaded list and dry-run it. Raises UnreadableFile. Flushes, never commits.

    A coordinator's job is confined to its bureau whatever `bureau` says."""
    file_format = format_of(filename)
    if file_format is None:
        with _messages_locale():
            raise UnreadableFile(_("Upload a .csv or .xlsx file."))
    if actor is not None and actor.is_coordinator:
        bureau = actor.bureau
    with _messages_locale():
        sheet = read_sheet(data, file_format)
        valid, errors = _dry_run(sheet, bureau)
    job = ImportJob(created_by_id=actor.id if actor else None, bureau=bureau, filename=filename[-255:],
                    file_format=file_format, sha256=hashlib.sha256(data).hexdigest(), content=data,
                    status="validated", total_rows=len(sheet.rows), valid_rows=valid, errors=errors, last_row=1)
    db.session.add(job)
    db.session.flush()
    if actor is not None:
        audit(actor, "import.validated", job, filename=job.filename, rows=job.total_rows, valid=valid)
    return job


def unfinished_job_for(data: bytes, bureau: str | None) -> ImportJob | None:
    """The latest job of the same file and scope that has not finished (to resume it)."""
    return db.session.scalar(select(ImportJob).where(
        ImportJob.sha256 == hashlib.sha256(data).hexdigest(), ImportJob.status == "running",
        ImportJob.bureau.is_(None) if bureau is None else ImportJob.bureau == bureau,
    ).order_by(ImportJob.id.desc()).limit(1))


def is_stalled(job: ImportJob) -> bool:
    return job.status == "running" and (job.heartbeat_at is None or utcnow() - job.heartbeat_at > STALE_AFTER)


def claim(job: ImportJob) -> bool:
    """Take a job to run it: only one runner at a time, across processes and hosts.

    A compare-and-set on the row: a validated job, or a running one whose
    heartbeat is stale (its runner died). Commits."""
    now = utcnow()
    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == job.id, or_(
            ImportJob.status == "validated",
            and_(ImportJob.status == "running",
                 or_(ImportJob.heartbeat_at.is_(None), ImportJob.heartbeat_at < now - STALE_AFTER))))
        .values(status="running", heartbeat_at=now,
                started_at=func.coalesce(ImportJob.started_at, now), message="")
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    db.session.refresh(job)
    return claimed


def _apply(org: Organisation | None, values: dict) -> tuple[Organisation, str]:
    """Create or update one organisation; returns it and created|updated|unchanged."""
    if org is None:
        org = Organisation(kind="sme", industry="E", employee_band="1-20", name_kana="", name_en="", website="",
                           profile="", technologies=[], certifications=[], patents=[])
        for key, value in values.items():
            if key != "prefecture":
                setattr(org, key, value)
        org.set_prefecture(values["prefecture"])
        db.session.add(org)
        return org, "created"
    changed = False
    for key, value in values.items():
        if key == "prefecture":
            if org.prefecture != value:
                org.set_prefecture(value)
                changed = True
        elif getattr(org, key) != value:
            setattr(org, key, value)
            changed = True
    return org, "updated" if changed else "unchanged"


def run_job(job: ImportJob, *, chunk_rows: int = CHUNK_ROWS, actor: User | None = None,
            progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Apply the job's rows after `job.last_row`, committing each chunk with the progress.

    `progress` is called after every committed chunk (the CLI's bar; tests use it
    to simulate an interruption). An exception leaves the job "running" at the
    last committed row, which is exactly where a resumed run starts."""
    if job.status not in ("validated", "running"):
        return job
    with _messages_locale():
        return _run(job, chunk_rows, actor, progress)


def _run(job: ImportJob, chunk_rows: int, actor: User | None, progress) -> ImportJob:
    sheet = read_sheet(job.content, job.file_format)
    job.total_rows = len(sheet.rows)
    if job.started_at is None:
        job.started_at = utcnow()
    if actor is not None and job.status == "validated":
        audit(actor, "import.started", job, filename=job.filename)
    job.status = "running"
    job.heartbeat_at = utcnow()
    db.session.commit()
    # Rows that repeat an earlier row's corporate number are refused (as the dry run said).
    first_row: dict[str, int] = {}
    for number, raw in sheet.rows:
        cn = normalise(raw.get("corporate_number"))
        first_row.setdefault(cn, number)
    todo = [(n, raw) for n, raw in sheet.rows if n > job.last_row]
    for start in range(0, len(todo), chunk_rows):
        chunk = todo[start:start + chunk_rows]
        checked = []
        for number, raw in chunk:
            result = check_row(raw, job.bureau)
            if result.values is None or first_row.get(result.values["corporate_number"]) != number:
                job.skipped_count += 1
            else:
                checked.append(result.values)
        existing = {o.corporate_number: o for o in db.session.scalars(select(Organisation).where(
            Organisation.corporate_number.in_([v["corporate_number"] for v in checked])))} if checked else {}
        for values in checked:
            org = existing.get(values["corporate_number"])
            if org is not None and job.bureau and org.bureau != job.bureau:
                job.skipped_count += 1
                continue
            _org, outcome = _apply(org, values)
            setattr(job, f"{outcome}_count", getattr(job, f"{outcome}_count") + 1)
        job.last_row = chunk[-1][0]
        job.heartbeat_at = utcnow()
        db.session.commit()
        if progress is not None:
            progress(job)
    job.status = "done"
    job.finished_at = utcnow()
    job.message = ""
    audit(actor, "import.finished", job, created=job.created_count, updated=job.updated_count,
          unchanged=job.unchanged_count, skipped=job.skipped_count)
    db.session.commit()
    return job


def start_in_background(job_id: int) -> threading.Thread:
    """Run (or resume) a job on a thread of this process; the progress page polls the database."""
    app = current_app._get_current_object()

    def work() -> None:
        with app.app_context():
            job = db.session.get(ImportJob, job_id)
            try:
                run_job(job)
            except Exception as exc:  # the job stays resumable; say why on the progress page
                log.exception("import job %s stopped", job_id)
                db.session.rollback()
                job = db.session.get(ImportJob, job_id)
                job.message = str(exc)[:500]
                job.heartbeat_at = None  # shows as interrupted at once
                db.session.commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"oims-import-{job_id}", daemon=True)
    thread.start()
    return thread


def status_of(job: ImportJob) -> dict:
    """What the progress page polls."""
    total = job.total_rows
    done_rows = job.processed if job.status != "validated" else 0
    return {
        "id": job.id, "status": job.status, "stalled": is_stalled(job), "total_rows": total,
        "processed_rows": done_rows, "percent": round(100 * done_rows / total) if total else 100,
        "created": job.created_count, "updated": job.updated_count, "unchanged": job.unchanged_count,
        "skipped": job.skipped_count, "last_row": job.last_row, "message": job.message,
    }


__all__ = ["UnreadableFile", "create_job", "run_job", "start_in_background", "status_of", "unfinished_job_for"]
