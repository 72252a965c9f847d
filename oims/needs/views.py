"""Need pages. Each route: find the need and check it may be seen (404),
then check the action is allowed (403), then call one service and commit."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from oims.core.concurrency import check_version
from oims.core.exceptions import EditConflict, NotAllowed, StaleState, ValidationFailed
from oims.core.vocabulary import OWNER_EDITABLE_STATUSES
from oims.extensions import db
from oims.insight.figures import badge_figures
from oims.models import Attachment, Need
from oims.models.base import utcnow
from oims.needs import drafting, identity, services
from oims.needs.forms import AttachmentForm, NeedForm, ReturnForm, SearchForm
from oims.needs.uploads import attachments_of, display_name, send_attachment
from oims.policy import (
    can_edit_need,
    can_manage_need,
    can_view_need,
    is_need_owner,
    owner_label,
    roles_required,
    sees_owner,
    staff_required,
)
from oims.web.conflicts import commit_or_conflict, conflict_context
from oims.web.forms import apply_errors
from oims.web.i18n import current_locale

bp = Blueprint("needs", __name__, url_prefix="/needs")


def _need_or_404(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not can_view_need(current_user, need):
        abort(404)  # the same answer whether it does not exist or may not be seen
    return need


def _files(field) -> list:
    return [f for f in (field.data or []) if f and getattr(f, "filename", "")]




def _page_context(need: Need) -> dict:
    user = current_user
    owner = is_need_owner(user, need)
    manager = can_manage_need(user, need)
    atts = attachments_of(need)
    return {
        "need": need,
        "owner_name": owner_label(need, user, current_locale()),
        "sees_owner": sees_owner(user, need),
        "is_owner": owner,
        "is_manager": manager,
        "can_edit": can_edit_need(user, need),
        "can_submit": owner and need.status in ("draft", "returned"),
        "can_withdraw": (owner or user.is_admin) and need.status in services.WITHDRAWABLE,
        "can_fulfil": (owner or manager) and need.status in ("published", "closed"),
        "can_review": manager and need.status == "review",
        "can_propose": (user.is_proposer and services.accepts_proposals(need) and not owner
                        and user.organisation.is_proposer_kind),
        "has_proposal": services.has_active_proposal(user, need),
        "attachments": [(a, display_name(a, user)) for a in atts],
        "can_attach": owner and need.status in OWNER_EDITABLE_STATUSES,
        "versions": services.versions_for(need, user),
        "coordinator_edits": services.version_diffs(need, services.coordinator_edits(need)) if (owner or manager) else [],
        "status_labels": services.status_labels(),
        "field_labels": services.field_labels(),
        "attach_form": AttachmentForm(),
        "response_badge": badge_figures([need])[need.id] if need.status in ("published", "closed") else None,
    }


def _view_page(need: Need, status: int = 200, errors: list[str] | None = None):
    return render_template("needs/view.html", errors=errors or [], **_page_context(need)), status


# --- lists ----------------------------------------------------------------------------

@bp.get("/")
@login_required
def browse():
    form = SearchForm(request.args)
    form.fill_choices(services.status_labels(), current_user.is_staff or current_user.is_need_owner)
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
        "status": form.status.data if form.status.choices else "published",
        "industry": form.industry.data, "prefecture": form.prefecture.data, "org_kind": form.org_kind.data,
        "size": form.size.data,
    }
    form.validate()
    page = services.search_needs(current_user, form.q.data or "", filters, form.sort.data or "newest",
                                 request.args.get("page", 1, type=int))
    labels = {n.id: owner_label(n, current_user, current_locale()) for n in page.items}
    return render_template("needs/browse.html", form=form, page=page, owner_labels=labels,
                           response_badges=badge_figures(page.items),
                           status_labels=services.status_labels(), since=filters["since"])


@bp.get("/mine")
@roles_required("need_owner")
def mine():
    needs = services.my_needs(current_user)
    counts = services.proposal_counts([n.id for n in needs])
    return render_template("needs/mine.html", needs=needs, counts=counts, status_labels=services.status_labels())


@bp.get("/review")
@staff_required
def review_queue():
    needs = services.review_queue(current_user)
    return render_template("needs/review_queue.html", needs=needs,
                           owner_labels={n.id: n.owner_org.display_name(current_locale()) for n in needs})


# --- the identifying-text check -------------------------------------------------------------

def _findings_context(findings, mode: str, override_reason: str = "") -> dict:
    return {"findings": findings or [], "kind_labels": identity.kind_labels(), "mode": mode,
            "override_reason": override_reason}


def _redact_form(form, org, need: Need | None, value: str) -> None:
    """Apply a one-click redaction ("stars:<key>", "alias:<key>", "stars:*") to the posted text."""
    mode, _sep, key = (value or "").partition(":")
    terms = identity.identifying_terms(org)
    chosen = [t for t in terms if key == "*" or t.key == key]
    if not chosen:
        return
    from oims.needs.aliases import descriptor

    base_ja, base_en = descriptor(org)
    alias_ja = need.alias if need is not None and need.alias else base_ja
    alias_en = need.alias_en if need is not None and need.alias_en else base_en
    for name in identity.TEXT_FIELDS:
        field = getattr(form, name)
        if not isinstance(field.data, str):
            continue
        text = field.data
        for _term, start, end in reversed(identity.find_in(text, terms)):
            if _term in chosen:
                if mode == "alias":
                    repl = alias_en if _term.key.isascii() else alias_ja
                else:
                    repl = "＊＊＊"
                text = text[:start] + repl + text[end:]
        field.data = text


def _acknowledged() -> bool:
    return request.form.get("identity_ack") == "y"


# --- create and edit ------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required("need_owner")
def new():
    if current_user.is_admin:
        abort(403)
    form = NeedForm()
    form.fill_choices()
    general: list[str] = []
    findings: list = []
    org = current_user.organisation
    if request.method == "POST" and request.form.get("action") == "check":
        form.validate()  # the draft is checked, not saved: no CSRF or field errors block the check
        return render_template("needs/edit.html", form=form, need=None, general=[],
                               drafting=_drafting(form.values(), None, checked=True),
                               **_findings_context([], "owner"))
    if request.method == "POST" and request.form.get("redact") and form.validate_on_submit():
        _redact_form(form, org, None, request.form["redact"])
        findings = identity.check_values(org, form.values()) if form.anonymous.data else []
        return render_template("needs/edit.html", form=form, need=None, general=general,
                               drafting=_drafting(form.values(), None), **_findings_context(findings, "owner"))
    if form.validate_on_submit():
        try:
            need = services.create_need(current_user, form.values())
            services.attach_files(need, _files(form.attachments), current_user)
            if request.form.get("action") == "submit":
                services.submit_for_review(need, current_user, acknowledged=_acknowledged())
            elif need.anonymous:
                services.require_anonymity(need, current_user, acknowledged=_acknowledged())
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except services.IdentifyingText as exc:
            db.session.rollback()
            general, findings = apply_errors(form, exc), exc.findings
        except ValidationFailed as exc:
            db.session.rollback()
            general = apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The need was submitted for review.") if need.status == "review"
                  else _("The need was saved as a draft."), "success")
            return redirect(url_for("needs.view", need_id=need.id))
    status = 400 if request.method == "POST" else 200
    return render_template("needs/edit.html", form=form, need=None, general=general,
                           drafting=_drafting(form.values(), None), **_findings_context(findings, "owner")), status


def _drafting(values: dict, need_id: int | None, checked: bool = False) -> dict:
    """The drafting-help panel: quality checklist and score, similar past needs, proposers' words."""
    items, score = drafting.quality_check(values)
    return {"items": items, "score": score, "checked": checked,
            "similar": drafting.similar_needs(values, user=current_user, exclude_id=need_id),
            "words": drafting.proposer_words(values)}


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@login_required
def edit(need_id: int):
    need = _need_or_404(need_id)
    if not can_edit_need(current_user, need):
        abort(403)
    form = NeedForm()
    form.fill_choices()
    general: list[str] = []
    findings: list = []
    if request.method == "POST" and request.form.get("action") == "check":
        form.validate()
        return render_template("needs/edit.html", form=form, need=need, general=[],
                               drafting=_drafting(form.values(), need.id, checked=True),
                               **_findings_context([], "owner"))
    if request.method == "GET":
        form.load(need)
        if need.anonymous:
            findings = identity.check_need(need)
    elif request.form.get("redact") and form.validate_on_submit():
        _redact_form(form, need.owner_org, need, request.form["redact"])
        findings = identity.check_need(need, form.values()) if form.anonymous.data else []
        return render_template("needs/edit.html", form=form, need=need, general=general,
                               drafting=_drafting(form.values(), need.id), **_findings_context(findings, "owner"))
    elif form.validate_on_submit():
        try:
            check_version(need, form.row_version.data)
            changed = services.update_need(need, form.values(), current_user)
            services.attach_files(need, _files(form.attachments), current_user)
            if request.form.get("action") == "submit" and need.status in ("draft", "returned"):
                services.submit_for_review(need, current_user, acknowledged=_acknowledged())
            elif need.anonymous and (changed or _files(form.attachments)):
                services.require_anonymity(need, current_user, acknowledged=_acknowledged())
        except (EditConflict, StaleDataError):  # stale form, or changed since it was read
            db.session.rollback()
            return _edit_conflict(need, form, "needs/edit.html")
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except services.IdentifyingText as exc:
            db.session.rollback()
            need = _need_or_404(need_id)
            general, findings = apply_errors(form, exc), exc.findings
        except ValidationFailed as exc:
            db.session.rollback()
            general = apply_errors(form, exc)
        else:
            if not commit_or_conflict():
                return _edit_conflict(need, form, "needs/edit.html")
            if need.status == "review" and request.form.get("action") == "submit":
                flash(_("The need was submitted for review."), "success")
            else:
                flash(_("The need was saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("needs.view", need_id=need.id))
    status = 400 if request.method == "POST" else 200
    return render_template("needs/edit.html", form=form, need=need, general=general,
                           drafting=_drafting(form.values(), need.id), **_findings_context(findings, "owner")), status


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
    return _view_page(need)


@bp.get("/<int:need_id>/versions")
@login_required
def versions(need_id: int):
    need = _need_or_404(need_id)
    visible = services.versions_for(need, current_user)
    terms = None if sees_owner(current_user, need) else identity.identifying_terms(need.owner_org)
    return render_template("needs/versions.html", need=need,
                           diffs=list(reversed(services.version_diffs(need, visible, redact_terms=terms))),
                           field_labels=services.field_labels(),
                           owner_name=owner_label(need, current_user, current_locale()))


# --- lifecycle actions ------------------------------------------------------------------------

def _act(need_id: int, allowed, action, done_message: str):
    need = _need_or_404(need_id)
    if not allowed(need):
        abort(403)
    try:
        action(need)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationFailed as exc:
        db.session.rollback()
        need = _need_or_404(need_id)
        status = 409 if isinstance(exc, StaleState) else 400  # lost a race to another user's change
        return _view_page(need, status, [m for ms in exc.errors.values() for m in ms])
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("needs.view", need_id=need.id))


@bp.post("/<int:need_id>/submit")
@login_required
def submit(need_id: int):
    need = _need_or_404(need_id)
    if not is_need_owner(current_user, need):
        abort(403)
    try:
        services.submit_for_review(need, current_user, acknowledged=_acknowledged())
    except services.IdentifyingText as exc:
        db.session.rollback()
        need = _need_or_404(need_id)
        return render_template("needs/view.html", errors=[m for ms in exc.errors.values() for m in ms],
                               identity_submit=True, **_findings_context(exc.findings, "owner"),
                               **_page_context(need)), 400
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationFailed as exc:
        db.session.rollback()
        need = _need_or_404(need_id)
        return _view_page(need, 400, [m for ms in exc.errors.values() for m in ms])
    db.session.commit()
    flash(_("The need was submitted for review."), "success")
    return redirect(url_for("needs.view", need_id=need.id))


@bp.post("/<int:need_id>/withdraw")
@login_required
def withdraw(need_id: int):
    return _act(need_id, lambda n: is_need_owner(current_user, n) or current_user.is_admin,
                lambda n: services.withdraw(n, current_user), _("The need was withdrawn."))


@bp.post("/<int:need_id>/fulfil")
@login_required
def fulfil(need_id: int):
    return _act(need_id, lambda n: is_need_owner(current_user, n) or can_manage_need(current_user, n),
                lambda n: services.mark_fulfilled(n, current_user), _("The need was marked as fulfilled."))


def _review_findings_page(need: Need, form, return_form, override_reason: str):
    """The review page as loaded, or after a one-click redaction of the posted wording (nothing saved)."""
    status = 200
    if request.method == "GET":
        form.load(need)
        findings = identity.check_need(need) if need.anonymous else []
    elif form.validate_on_submit():
        _redact_form(form, need.owner_org, need, request.form["redact"])
        findings = identity.check_need(need, form.values()) if form.anonymous.data else []
    else:
        findings, status = [], 400
    return render_template("needs/review.html", need=need, form=form, return_form=return_form, general=[],
                           owner_name=need.owner_org.display_name(current_locale()),
                           **_findings_context(findings, "coordinator", override_reason)), status


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
    general: list[str] = []
    if need.status != "review":
        if request.method == "POST":
            return _view_page(need, 400, [services._state_error(need).errors[""][0]])
        return redirect(url_for("needs.view", need_id=need.id))
    findings: list = []
    override_reason = (request.form.get("identity_override_reason") or "").strip()
    if request.method == "GET" or request.form.get("redact"):
        return _review_findings_page(need, form, return_form, override_reason)
    if request.form.get("action") == "return":
        if return_form.validate_on_submit():
            try:
                services.return_need(need, current_user, return_form.comment.data)
            except ValidationFailed as exc:
                db.session.rollback()
                general = apply_errors(return_form, exc)
            else:
                db.session.commit()
                flash(_("The need was returned to its owner with your comments."), "success")
                return redirect(url_for("needs.review_queue"))
        form.load(need)
    elif form.validate_on_submit():
        try:
            check_version(need, form.row_version.data)
            services.publish(need, current_user, form.values(), override_reason=override_reason)
        except (EditConflict, StaleDataError):  # stale form, or changed since it was read
            db.session.rollback()
            return _edit_conflict(need, form, "needs/review.html", return_form=return_form,
                                  owner_name=need.owner_org.display_name(current_locale()))
        except services.IdentifyingText as exc:
            db.session.rollback()
            need = _need_or_404(need_id)
            general, findings = apply_errors(form, exc), exc.findings
        except ValidationFailed as exc:
            db.session.rollback()
            general = apply_errors(form, exc)
        else:
            if not commit_or_conflict():
                return _edit_conflict(need, form, "needs/review.html", return_form=return_form,
                                      owner_name=need.owner_org.display_name(current_locale()))
            flash(_("The need was published."), "success")
            return redirect(url_for("needs.view", need_id=need.id))
    status = 400 if request.method == "POST" else 200
    return render_template("needs/review.html", need=need, form=form, return_form=return_form, general=general,
                           owner_name=need.owner_org.display_name(current_locale()),
                           **_findings_context(findings, "coordinator", override_reason)), status


# --- attachments ------------------------------------------------------------------------------

@bp.post("/<int:need_id>/attachments")
@login_required
def upload(need_id: int):
    need = _need_or_404(need_id)
    if not (is_need_owner(current_user, need) and need.status in OWNER_EDITABLE_STATUSES):
        abort(403)
    form = AttachmentForm()
    files = _files(form.attachments)
    if not form.validate_on_submit() or not files:
        return _view_page(need, 400, [_("Choose a file to upload.")])
    try:
        services.attach_files(need, files, current_user)
        if need.anonymous and need.status != "draft":
            services.require_anonymity(need, current_user, acknowledged=_acknowledged())
    except services.IdentifyingText as exc:
        db.session.rollback()
        need = _need_or_404(need_id)
        return render_template("needs/view.html", errors=[m for ms in exc.errors.values() for m in ms],
                               identity_upload=True, **_findings_context(exc.findings, "owner"),
                               **_page_context(need)), 400
    except ValidationFailed as exc:
        db.session.rollback()
        need = _need_or_404(need_id)
        status = 409 if isinstance(exc, StaleState) else 400  # lost a race to another user's change
        return _view_page(need, status, [m for ms in exc.errors.values() for m in ms])
    db.session.commit()
    flash(_("The file was attached."), "success")
    return redirect(url_for("needs.view", need_id=need.id))


@bp.post("/<int:need_id>/attachments/<int:att_id>/delete")
@login_required
def delete_upload(need_id: int, att_id: int):
    need = _need_or_404(need_id)
    att = db.session.get(Attachment, att_id)
    if att is None or att.need_id != need.id:
        abort(404)
    if not (is_need_owner(current_user, need) and need.status in OWNER_EDITABLE_STATUSES):
        abort(403)
    services.remove_attachment(need, att, current_user)
    db.session.commit()
    flash(_("The attachment was removed."), "success")
    return redirect(url_for("needs.view", need_id=need.id))


@bp.get("/attachments/<int:att_id>")
@login_required
def download(att_id: int):
    att = db.session.get(Attachment, att_id)
    if att is None or att.need_id is None:
        abort(404)
    return send_attachment(att, current_user)
