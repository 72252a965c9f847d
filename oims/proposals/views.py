"""Proposal pages. Each route finds the object, checks access (404 when the
user may not see it, 403 when it may see it but not do this), then calls one
service and commits once."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from oims.core.concurrency import check_version
from oims.core.vocabulary import PROPOSAL_STAGES, Party, ProposalStage, Role
from oims.extensions import db
from oims.insight.declines import own_decline_trend
from oims.models import Need, Organisation, Proposal, ProposalEvent, ProposalReceipt, User
from oims.policy import (
    anything_withheld,
    attachment_withheld,
    can_manage_need,
    can_view_need,
    can_view_proposal,
    is_need_owner,
    nda_recorded,
    owner_label,
    proposal_role,
    roles_required,
    visible_proposals,
    withheld_parts,
)
from oims.proposals import attachments as proposal_files
from oims.proposals import lookups, receipts, services, workflow
from oims.proposals.forms import DeclineForm, ProposalForm, WithdrawForm
from oims.web.actions import run_action
from oims.web.conflicts import conflict_context
from oims.web.forms import apply_errors
from oims.web.i18n import current_locale

bp = Blueprint("proposals", __name__, url_prefix="/proposals")

S = ProposalStage
STAGE_CLASSES = {
    S.DRAFT: "text-bg-light border", S.SUBMITTED: "text-bg-primary", S.SCREENING: "text-bg-info",
    S.SHORTLISTED: "text-bg-warning", S.MEETING_REQUESTED: "text-bg-warning",
    S.MEETING_SCHEDULED: "text-bg-success", S.MET: "text-bg-success", S.NDA: "text-bg-success",
    S.POC: "text-bg-success", S.CONTRACT: "text-bg-success", S.ENDED: "text-bg-secondary",
    S.DECLINED: "text-bg-danger", S.WITHDRAWN: "text-bg-secondary",
}


@bp.app_template_filter("proposal_stage")
def proposal_stage_label(stage: str) -> str:
    return workflow.stage_labels().get(stage, stage)


@bp.app_template_filter("proposal_stage_class")
def proposal_stage_class(stage: str) -> str:
    return STAGE_CLASSES.get(stage, "text-bg-light")


# --- helpers ------------------------------------------------------------------------

def proposal_or_404(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_proposal(current_user, proposal):
        abort(404)  # never confirm that another organisation's proposal exists
    return proposal


def _need_or_404(need_id: int | None) -> Need:
    need = db.session.get(Need, need_id) if need_id else None
    if need is None or not can_view_need(current_user, need):
        abort(404)
    return need


def render_view(proposal: Proposal, status: int = 200, *, general_errors=(), decline_form=None,
                 withdraw_form=None, preview: bool = False):
    role = proposal_role(current_user, proposal)
    if role is None and current_user.is_admin:
        role = Party.COORDINATOR
    # Staged disclosure: what this user sees; `preview` shows the proposer the owner's view.
    as_role = Party.OWNER if preview else None
    all_files = services.proposal_attachments(proposal)
    files = [a for a in all_files if not attachment_withheld(current_user, a, proposal, as_role=as_role)]
    disclosure = {"withheld": withheld_parts(current_user, proposal, as_role=as_role),
                  "hidden_files": len(all_files) - len(files), "nda": nda_recorded(proposal), "preview": preview}
    if preview:
        role = Party.OWNER
    targets = [] if preview else workflow.allowed_targets(proposal, current_user)
    if decline_form is None:
        decline_form = DeclineForm(formdata=None)
    decline_form.fill_choices()
    events = db.session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal.id)
                                .order_by(ProposalEvent.id)).all()
    actors = {}
    if current_user.is_staff:  # people's names in the history are for staff only
        ids = {e.actor_id for e in events if e.actor_id}
        actors = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return render_template(
        "proposals/view.html", proposal=proposal, need=proposal.need, role=role,
        org=db.session.get(Organisation, proposal.org_id),
        owner_name=owner_label(proposal.need, current_user, current_locale(), proposal),
        events=events, actors=actors, attachments=files, disclosure=disclosure,
        can_edit=not preview and services.can_edit(current_user, proposal),
        can_submit=role == Party.PROPOSER and proposal.stage == ProposalStage.DRAFT and services.accepts_proposals(proposal.need),
        can_withdraw=ProposalStage.WITHDRAWN in targets, can_screen=ProposalStage.SCREENING in targets,
        can_decline=ProposalStage.DECLINED in targets, decline_form=decline_form,
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        general_errors=list(general_errors), show_receipt=bool(proposal.receipt_hash) and role != Party.OWNER,
        receipt_download=role == Party.PROPOSER or not anything_withheld(current_user, proposal, all_files),
        receipt_time=receipts.receipt_time(proposal),
        history=_history(events, receipts.history(proposal) if proposal.receipt_hash and role != Party.OWNER else []),
    ), status


def _history(events, kept) -> list[dict]:
    """Stage changes and edits in one list, oldest first. Every receipt after the
    first one is an edit of the submitted proposal, with its own receipt."""
    items = [{"kind": "event", "at": e.created_at, "event": e} for e in events]
    for n, r in enumerate(kept):
        items.append({"kind": "edit" if n else "receipt", "at": receipts.receipt_time(None, r.content) or r.issued_at,
                      "receipt": r, "current": n == len(kept) - 1})
    return sorted(items, key=lambda i: (i["at"], 0 if i["kind"] == "event" else 1))


def _form_page(template: str, form: ProposalForm, need: Need, status: int, **ctx):
    return render_template(
        template, form=form, need=need, owner_name=owner_label(need, current_user, current_locale()),
        accepting=services.accepts_proposals(need), **ctx), status


# --- creating and editing -------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PROPOSER)
def new():
    # The need with the organisation's active proposal and invitation for it: one query.
    need_id = request.args.get("need_id", type=int)
    need, standing = lookups.need_with_standing(need_id, current_user.organisation_id) if need_id else (None, None)
    if need is None or not can_view_need(current_user, need):
        abort(404)
    if not services.may_propose(current_user):
        abort(403)
    existing_id = standing[0]
    if request.method == "GET" and existing_id is not None:
        flash(_("Your organisation already has an active proposal for this need."), "info")
        return redirect(url_for("proposals.view", proposal_id=existing_id))
    options = services.answer_options(need)
    form = ProposalForm()
    form.fill_choices(options)
    if request.method == "POST":
        if not form.validate_on_submit():
            existing = db.session.get(Proposal, existing_id) if existing_id else None
            return _form_page("proposals/new.html", form, need, 400, general_errors=[], existing=existing)
        submit = request.form.get("action") == "submit"
        # create_proposal refuses a second active proposal (DuplicateProposal
        # carries it); the action returns the new id, read before the commit
        # expires the object (the redirect needs no query).
        return run_action(
            lambda: services.create_proposal(
                need, form.service_data(options), actor=current_user, submit=submit, standing=standing,
                attach=lambda p: proposal_files.save_all(form.attachments.data, p, actor=current_user,
                                                         after_nda=bool(form.attachments_after_nda.data))).id,
            success=_("Your proposal was submitted. Keep the receipt below as proof of what you sent and when.")
            if submit else _("Your proposal was saved as a draft. Submit it before the deadline."),
            redirect_to=lambda proposal_id: url_for("proposals.view", proposal_id=proposal_id),
            # the page links the organisation's proposal that is already there (DuplicateProposal)
            on_refused=lambda exc, status: _form_page(
                "proposals/new.html", form, need, 400, general_errors=apply_errors(form, exc),
                existing=getattr(exc, "existing", None)))
    return _form_page("proposals/new.html", form, need, 200, general_errors=[], existing=None)


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    if proposal_role(current_user, proposal) != Party.PROPOSER:
        abort(403)
    need = proposal.need
    options = services.answer_options(need)
    form = ProposalForm()
    form.fill_choices(options)
    if request.method == "GET":
        if not services.is_editable(proposal):
            flash(_("This proposal can no longer be changed."), "warning")
            return redirect(url_for("proposals.view", proposal_id=proposal.id))
        form.load(proposal, options)
        return _form_page("proposals/edit.html", form, need, 200, proposal=proposal, general_errors=[],
                          attachments=services.proposal_attachments(proposal))
    if not form.validate_on_submit():
        return _form_page("proposals/edit.html", form, need, 400, proposal=proposal, general_errors=[],
                          attachments=services.proposal_attachments(proposal))
    submit = request.form.get("action") == "submit"

    def attach(p):
        proposal_files.remove(request.form.getlist("remove_attachment", type=int), p, actor=current_user)
        proposal_files.mark_after_nda(request.form.getlist("nda_attachment", type=int), p, actor=current_user)
        proposal_files.save_all(form.attachments.data, p, actor=current_user,
                                after_nda=bool(form.attachments_after_nda.data))

    def update():
        check_version(proposal, form.row_version.data)
        services.update_proposal(proposal, form.service_data(options), actor=current_user, submit=submit,
                                 attach=attach)

    return run_action(
        update,
        success=_("Your proposal was submitted. Keep the receipt below as proof of what you sent and when.")
        if submit else _("Your changes were saved."),
        redirect_to=url_for("proposals.view", proposal_id=proposal.id), form=form,
        on_invalid=lambda errors, status: _form_page(
            "proposals/edit.html", form, need, 400, proposal=proposal, general_errors=errors,
            attachments=services.proposal_attachments(proposal)),
        on_conflict=lambda: _edit_conflict(proposal, form, options))


def _edit_conflict(proposal: Proposal, form: ProposalForm, options: list[str]):
    """The edit page again (409): the proposal as saved now next to the user's values."""
    proposal = proposal_or_404(proposal.id)
    theirs = ProposalForm(formdata=None)
    theirs.fill_choices(options)
    theirs.load(proposal, options)
    return _form_page("proposals/edit.html", form, proposal.need, 409, proposal=proposal, general_errors=[],
                      attachments=services.proposal_attachments(proposal),
                      **conflict_context(form, theirs, proposal))


# --- viewing ----------------------------------------------------------------------------

@bp.get("/<int:proposal_id>")
@login_required
def view(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    if proposal_role(current_user, proposal) == Party.OWNER:
        services.record_owner_view(proposal, current_user)
        db.session.commit()
    return render_view(proposal)


@bp.get("/<int:proposal_id>/as-owner")
@login_required
def as_owner(proposal_id: int):
    """Staged disclosure: the proposer sees its proposal exactly as the need owner does."""
    proposal = proposal_or_404(proposal_id)
    if proposal_role(current_user, proposal) != Party.PROPOSER:
        abort(403)
    return render_view(proposal, preview=True)


@bp.get("/<int:proposal_id>/receipt")
@login_required
def receipt(proposal_id: int):
    """The receipt as the exact JSON that was hashed (default) or as text."""
    proposal = proposal_or_404(proposal_id)
    if proposal_role(current_user, proposal) == Party.OWNER:
        abort(403)
    if anything_withheld(current_user, proposal, services.proposal_attachments(proposal)):
        abort(403)  # the receipt holds the sections disclosed after the NDA only
    if not proposal.receipt_hash:
        abort(404)
    content, digest = proposal.receipt_content, proposal.receipt_hash
    wanted = request.args.get("receipt", type=int)
    if wanted is not None:  # an earlier receipt (each edit got its own)
        kept = db.session.get(ProposalReceipt, wanted)
        if kept is None or kept.proposal_id != proposal.id:
            abort(404)
        content, digest = kept.content, kept.receipt_hash
    if request.args.get("format") == "txt":
        body, mimetype, ext = receipts.receipt_text(proposal, content, digest), "text/plain", "txt"
    else:
        body, mimetype, ext = content, "application/json", "json"
    response = Response(body.encode("utf-8"), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="oims-proposal-{proposal.id}-receipt-{digest[:12]}.{ext}"')
    response.headers["X-Content-SHA256"] = digest
    return response


@bp.get("/<int:proposal_id>/files/<int:attachment_id>")
@login_required
def attachment(proposal_id: int, attachment_id: int):
    proposal = proposal_or_404(proposal_id)
    att = next((a for a in services.proposal_attachments(proposal) if a.id == attachment_id), None)
    if att is None or attachment_withheld(current_user, att, proposal):
        abort(404)
    return proposal_files.send(att, current_user)


@bp.get("/mine")
@roles_required(Role.PROPOSER)
def mine():
    stage = request.args.get("stage", "")
    base = visible_proposals(current_user).where(Proposal.org_id == current_user.organisation_id)
    query = base.order_by(Proposal.last_activity_at.desc(), Proposal.id.desc())
    if stage in PROPOSAL_STAGES:
        query = query.where(Proposal.stage == stage)
    page = db.paginate(query, per_page=30, error_out=False)
    counts = dict(db.session.execute(
        select(Proposal.stage, func.count(Proposal.id)).where(Proposal.org_id == current_user.organisation_id)
        .group_by(Proposal.stage)).all())
    labels = {p.id: owner_label(p.need, current_user, current_locale(), p) for p in page.items}
    return render_template("proposals/mine.html", page=page, stage=stage, counts=counts, owner_labels=labels,
                           stages=PROPOSAL_STAGES, decline_trend=own_decline_trend(current_user.organisation_id))


@bp.get("/need/<int:need_id>")
@login_required
def for_need(need_id: int):
    """Proposals to one need: all (but drafts) for its coordinators, the
    forwarded ones for its owner. The brokerage pages add ranking on top."""
    need = _need_or_404(need_id)
    if not (can_manage_need(current_user, need) or is_need_owner(current_user, need)):
        abort(403)
    stage = request.args.get("stage", "")
    query = visible_proposals(current_user).where(Proposal.need_id == need.id)
    counts = dict(db.session.execute(
        select(Proposal.stage, func.count(Proposal.id))
        .where(Proposal.id.in_(query.with_only_columns(Proposal.id))).group_by(Proposal.stage)).all())
    if stage in PROPOSAL_STAGES:
        query = query.where(Proposal.stage == stage)
    query = query.order_by(Proposal.submitted_at.asc().nulls_last(), Proposal.id)
    page = db.paginate(query, per_page=50, error_out=False)
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_({p.org_id for p in page.items})))} if page.items else {}
    return render_template("proposals/for_need.html", need=need, page=page, stage=stage, counts=counts,
                           orgs=orgs, stages=PROPOSAL_STAGES)
