"""Coordinators' import pages: upload → dry-run report → run → progress."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from oims.audit.log import audit
from oims.extensions import db
from oims.imports.columns import COLUMNS
from oims.imports.forms import UploadForm
from oims.imports.services import claim, create_job, run_job, start_in_background, status_of
from oims.imports.templates import template_csv, template_xlsx
from oims.models import ImportJob
from oims.policy import can_manage_import, import_job_filter, staff_required
from oims.web.actions import run_action

bp = Blueprint("imports", __name__, url_prefix="/imports")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None or not can_manage_import(current_user, job):
        abort(404)  # another bureau's jobs do not exist for this user
    return job


def _render_index(form: UploadForm, status: int = 200, errors: list[str] | None = None):
    jobs = db.session.scalars(db.select(ImportJob).where(import_job_filter(current_user))
                              .order_by(ImportJob.id.desc()).limit(20)).all()
    return render_template("imports/index.html", form=form, jobs=jobs, columns=COLUMNS,
                           errors=errors or []), status


@bp.get("/")
@staff_required
def index():
    return _render_index(UploadForm())


@bp.post("/")
@staff_required
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_index(form, 400)
    data = form.file.data.read()
    return run_action(
        lambda: create_job(data, form.file.data.filename or "upload", actor=current_user,
                           bureau=None if current_user.is_admin else current_user.bureau),
        success=None,
        redirect_to=lambda job: url_for("imports.job", job_id=job.id),
        on_invalid=lambda errors, _status: _render_index(form, 400, errors),  # an UnreadableFile
        form=form,
    )


@bp.get("/template.<fmt>")
@staff_required
def template(fmt: str):
    if fmt == "csv":
        return Response(template_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=oims_org_template.csv"})
    if fmt == "xlsx":
        return Response(template_xlsx(), mimetype=XLSX_TYPE,
                        headers={"Content-Disposition": "attachment; filename=oims_org_template.xlsx"})
    abort(404)


@bp.get("/<int:job_id>")
@staff_required
def job(job_id: int):
    job = _job_or_404(job_id)
    return render_template("imports/job.html", job=job, state=status_of(job))


@bp.get("/<int:job_id>/status")
@staff_required
def status(job_id: int):
    return jsonify(status_of(_job_or_404(job_id)))


@bp.post("/<int:job_id>/run")
@staff_required
def run(job_id: int):
    job = _job_or_404(job_id)
    if job.status not in ("validated", "running"):
        return redirect(url_for("imports.job", job_id=job.id))
    # Not run_action: claim() is a compare-and-set that commits by itself (one
    # runner across processes), and the job may start only once its audit row is committed.
    resuming = job.status == "running"
    if not claim(job):
        flash(_("This import is already running."), "info")
        return redirect(url_for("imports.job", job_id=job.id))
    audit(current_user, "import.resumed" if resuming else "import.started", job, after_row=job.last_row)
    db.session.commit()
    if current_app.config.get("OIMS_IMPORT_IN_BACKGROUND", True):
        start_in_background(job.id)
    else:
        run_job(job)
    return redirect(url_for("imports.job", job_id=job.id))
