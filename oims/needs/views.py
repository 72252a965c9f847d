"""Need pages. Each route: find the need and check it may be seen (404),
then check the action is allowed (403), then call one service through
`run_action` (commit once, or roll back and show why). What the pages show is
put together in `oims.needs.pages`."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.core.concurrency import check_version
from oims.core.vocabulary import SUBMITTABLE_NEED_STATUSES, NeedStatus, Role
from oims.extensions import db
from oims.insight.figures import badge_figures
from oims.models import Attachment, Need
from oims.models.base import utcnow
from oims.needs import identity, pages, services
from oims.needs.anonymity import require_anonymity
from oims.needs.forms import AttachmentForm, NeedForm, ReturnForm, SearchForm
from oims.needs.labels import field_labels, status_labels
from oims.needs.search import my_needs, proposal_counts, search_needs
from oims.needs.search import review_queue as needs_for_review
from oims.needs.uploads import send_attachment
from oims.needs.versions import version_diffs, versions_for
from oims.policy import (
    can_attach_to_need,
    can_edit_need,
    can_manage_need,
    can_view_need,
    is_need_owner,
    may_fulfil_need,
    may_withdraw_need,
    owner_label,
    roles_required,
    sees_owner,
    staff_required,
)
from oims.web.actions import run_action
from oims.web.conflicts import conflict_context
from oims.web.i18n import current_locale

bp = Blueprint("needs", __name__, url_prefix="/needs")


def _need_or_404(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not can_view_need(current_user, need):
        abort(404)  # the same answer whether it does not exist or may not be seen
    return need


def _need_url(need: Need) -> str:
    return url_for("needs.view", need_id=need.id)


def _files(field) -> list:
    return [f for f in (field.data or []) if f and getattr(f, "filename", "")]


def _acknowledged() -> bool:
    return request.form.get("identity_ack") == "y"


# --- lists ----------------------------------------------------------------------------

@bp.get("/")
@login_required
def browse():
    form = SearchForm(request.args)
    form.fill_choices(status_labels(), current_user.is_staff or current_user.is_need_owner)
    prev = session.get("needs_prev_visit")
    if prev is None:  # first visit in this session: remember the one before
        last = current_user.last_needs_visit_at
        prev = session["needs_prev_visit"] = last.isoformat() if last else ""
    current_user.last_needs_visit_at = utcnow()
    db.session.commit()
    filters = {
        "partnership": form.partnership.data, "keyword": form.keyword.data or "", "region": form.region.data,
        "deadline_before": form.deadline_before.data if not form.deadline_before.errors else None,
        "new": form.new.data, "since": datetime.fromisoformat(prev) if prev else None,
        "status": form.status.data if form.status.choices else NeedStatus.PUBLISHED,
        "industry": form.industry.data, "prefecture": form.prefecture.data, "org_kind": form.org_kind.data,
        "size": form.size.data,
    }
    form.validate()
    page = search_needs(current_user, form.q.data or "", filters, form.sort.data or "newest",
                        request.args.get("page", 1, type=int))
    labels = {n.id: owner_label(n, current_user, current_locale()) for n in page.items}
    return render_template("needs/browse.html", form=form, page=page, owner_labels=labels,
                           response_badges=badge_figures(page.items),
                           status_labels=status_labels(), since=filters["since"])


@bp.get("/mine")
@roles_required(Role.NEED_OWNER)
def mine():
    needs = my_needs(current_user)
    counts = proposal_counts([n.id for n in needs])
    return render_template("needs/mine.html", needs=needs, counts=counts, status_labels=status_labels())


@bp.get("/review")
@staff_required
def review_queue():
    needs = needs_for_review(current_user)
    return render_template("needs/review_queue.html", needs=needs,
                           owner_labels={n.id: n.owner_org.display_name(current_locale()) for n in needs})


# --- create and edit ------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.NEED_OWNER)
def new():
    if current_user.is_admin:
        abort(403)
    form = NeedForm()
    form.fill_choices()
    org = current_user.organisation
    if request.method == "POST" and request.form.get("action") == "check":
        form.validate()  # the draft is checked, not saved: no CSRF or field errors block the check
        return pages.edit_page(form, None, checked=True)
    if request.method == "POST" and request.form.get("redact") and form.validate_on_submit():
        pages.redact_form(form, org, None, request.form["redact"])
        return pages.edit_page(form, None,
                               findings=identity.check_values(org, form.values()) if form.anonymous.data else [])
    if not form.validate_on_submit():
        return pages.edit_page(form, None, status=400 if request.method == "POST" else 200)

    def create():
        need = services.create_need(current_user, form.values())
        services.attach_files(need, _files(form.attachments), current_user)
        if request.form.get("action") == "submit":
            services.submit_for_review(need, current_user, acknowledged=_acknowledged())
        elif need.anonymous:
            require_anonymity(need, current_user, acknowledged=_acknowledged())
        return need

    return run_action(create, redirect_to=_need_url, on_refused=pages.edit_page_refused(form, None),
                      success=lambda need: (_("The need was submitted for review.")
                                            if need.status == NeedStatus.REVIEW
                                            else _("The need was saved as a draft.")))


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@login_required
def edit(need_id: int):
    need = _need_or_404(need_id)
    if not can_edit_need(current_user, need):
        abort(403)
    form = NeedForm()
    form.fill_choices()
    if request.method == "GET":
        form.load(need)
        return pages.edit_page(form, need, findings=identity.check_need(need) if need.anonymous else [])
    if request.form.get("action") == "check":
        form.validate()
        return pages.edit_page(form, need, checked=True)
    if not form.validate_on_submit():
        return pages.edit_page(form, need, status=400)
    if request.form.get("redact"):
        pages.redact_form(form, need.owner_org, need, request.form["redact"])
        return pages.edit_page(form, need,
                               findings=identity.check_need(need, form.values()) if form.anonymous.data else [])
    submitting = request.form.get("action") == "submit"

    def save():
        check_version(need, form.row_version.data)
        changed = services.update_need(need, form.values(), current_user)
        services.attach_files(need, _files(form.attachments), current_user)
        if submitting and need.status in SUBMITTABLE_NEED_STATUSES:
            services.submit_for_review(need, current_user, acknowledged=_acknowledged())
        elif need.anonymous and (changed or _files(form.attachments)):
            require_anonymity(need, current_user, acknowledged=_acknowledged())
        return changed

    def saved(changed) -> str:
        if need.status == NeedStatus.REVIEW and submitting:
            return _("The need was submitted for review.")
        return _("The need was saved.") if changed else _("Nothing was changed.")

    return run_action(save, success=saved, redirect_to=_need_url(need),
                      on_refused=pages.edit_page_refused(form, need),
                      on_conflict=lambda: _edit_conflict(need, form, "needs/edit.html"))


def _edit_conflict(need: Need, form: NeedForm, template: str, **context):
    """The edit page again (409): the need as saved now next to the user's values."""
    need = _need_or_404(need.id)
    if not (can_edit_need(current_user, need) or can_manage_need(current_user, need)):
        abort(403)
    theirs = NeedForm(formdata=None, prefix=form._prefix.rstrip("-"))
    theirs.fill_choices()
    theirs.load(need)
    return render_template(template, form=form, need=need, general=[],
                           **context, **conflict_context(form, theirs, need)), 409


# --- detail ------------------------------------------------------------------------------

@bp.get("/<int:need_id>")
@login_required
def view(need_id: int):
    need = _need_or_404(need_id)
    return pages.view_page(need)


@bp.get("/<int:need_id>/versions")
@login_required
def versions(need_id: int):
    need = _need_or_404(need_id)
    visible = versions_for(need, current_user)
    terms = None if sees_owner(current_user, need) else identity.identifying_terms(need.owner_org)
    return render_template("needs/versions.html", need=need,
                           diffs=list(reversed(version_diffs(need, visible, redact_terms=terms))),
                           field_labels=field_labels(),
                           owner_name=owner_label(need, current_user, current_locale()))


# --- lifecycle actions ------------------------------------------------------------------------

@bp.post("/<int:need_id>/submit")
@login_required
def submit(need_id: int):
    need = _need_or_404(need_id)
    if not is_need_owner(current_user, need):
        abort(403)
    return run_action(lambda: services.submit_for_review(need, current_user, acknowledged=_acknowledged()),
                      success=_("The need was submitted for review."), redirect_to=_need_url(need),
                      on_refused=lambda exc, status: pages.view_page_refused(need, exc, status,
                                                                            identity_submit=True))


@bp.post("/<int:need_id>/withdraw")
@login_required
def withdraw(need_id: int):
    need = _need_or_404(need_id)
    if not may_withdraw_need(current_user, need):
        abort(403)
    return run_action(lambda: services.withdraw(need, current_user), success=_("The need was withdrawn."),
                      redirect_to=_need_url(need), on_invalid=lambda errors, status: pages.view_page(
                          need, status, errors))


@bp.post("/<int:need_id>/fulfil")
@login_required
def fulfil(need_id: int):
    need = _need_or_404(need_id)
    if not may_fulfil_need(current_user, need):
        abort(403)
    return run_action(lambda: services.mark_fulfilled(need, current_user),
                      success=_("The need was marked as fulfilled."), redirect_to=_need_url(need),
                      on_invalid=lambda errors, status: pages.view_page(need, status, errors))


@bp.route("/<int:need_id>/review", methods=["GET", "POST"])
@staff_required
def review(need_id: int):
    """The coordinator's page: edit the wording, then publish, or return with comments."""
    need = _need_or_404(need_id)
    if not can_manage_need(current_user, need):
        abort(403)
    form = NeedForm(prefix="pub")
    form.fill_choices()
    return_form = ReturnForm(prefix="ret")
    if need.status != NeedStatus.REVIEW:
        if request.method == "POST":
            return pages.view_page(need, 400, [services.state_error(need).errors[""][0]])
        return redirect(_need_url(need))
    override_reason = (request.form.get("identity_override_reason") or "").strip()
    if request.method == "GET" or request.form.get("redact"):
        return pages.review_findings_page(need, form, return_form, override_reason)
    if request.form.get("action") == "return":
        form.load(need)
        if not return_form.validate_on_submit():
            return pages.review_page(need, form, return_form, override_reason=override_reason, status=400)
        return run_action(lambda: services.return_need(need, current_user, return_form.comment.data),
                          success=_("The need was returned to its owner with your comments."),
                          redirect_to=url_for("needs.review_queue"), form=return_form,
                          on_invalid=lambda general, status: pages.review_page(
                              need, form, return_form, general=general, override_reason=override_reason,
                              status=status))
    if not form.validate_on_submit():
        return pages.review_page(need, form, return_form, override_reason=override_reason, status=400)

    def publish():
        check_version(need, form.row_version.data)
        services.publish(need, current_user, form.values(), override_reason=override_reason)

    return run_action(publish, success=_("The need was published."), redirect_to=_need_url(need),
                      on_refused=pages.review_page_refused(need, form, return_form, override_reason),
                      on_conflict=lambda: _edit_conflict(
                          need, form, "needs/review.html", return_form=return_form,
                          owner_name=need.owner_org.display_name(current_locale())))


# --- attachments ------------------------------------------------------------------------------

@bp.post("/<int:need_id>/attachments")
@login_required
def upload(need_id: int):
    need = _need_or_404(need_id)
    if not can_attach_to_need(current_user, need):
        abort(403)
    form = AttachmentForm()
    files = _files(form.attachments)
    if not form.validate_on_submit() or not files:
        return pages.view_page(need, 400, [_("Choose a file to upload.")])

    def attach():
        services.attach_files(need, files, current_user)
        if need.anonymous and need.status != NeedStatus.DRAFT:
            require_anonymity(need, current_user, acknowledged=_acknowledged())

    return run_action(attach, success=_("The file was attached."), redirect_to=_need_url(need),
                      on_refused=lambda exc, status: pages.view_page_refused(need, exc, status,
                                                                            identity_upload=True))


@bp.post("/<int:need_id>/attachments/<int:att_id>/delete")
@login_required
def delete_upload(need_id: int, att_id: int):
    need = _need_or_404(need_id)
    att = db.session.get(Attachment, att_id)
    if att is None or att.need_id != need.id:
        abort(404)
    if not can_attach_to_need(current_user, need):
        abort(403)
    return run_action(lambda: services.remove_attachment(need, att, current_user),
                      success=_("The attachment was removed."), redirect_to=_need_url(need))


@bp.get("/attachments/<int:att_id>")
@login_required
def download(att_id: int):
    att = db.session.get(Attachment, att_id)
    if att is None or att.need_id is None:
        abort(404)
    return send_attachment(att, current_user)
