"""Brokerage pages. Each route checks access first (404 for what the user may
not see, 403 for actions not allowed on what they see), then calls a service
and commits once (`oims.web.actions.run_action`).

This module holds the blueprint, the case page (thread, answer, meeting,
outcome), the need owner's inbox, the coordinator's workspace and the
proposer's fit check; the coordinator's page of a need (ranked lists,
recommendations, invitations, shortlist) is in `shortlist_views.py`."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from oims.brokerage import meetings, services
from oims.brokerage.forms import FitCheckForm, MessageForm, OutcomeForm, PickSlotForm, RespondForm, SlotsForm
from oims.brokerage.ics import meeting_ics as make_ics
from oims.brokerage.workspace import bureau_needs, coordinator_workspace, response_stats, stalled_cases
from oims.core.timeutil import format_local, today_local
from oims.core.vocabulary import OUTCOME_STAGES, Party, ProposalStage, Role
from oims.extensions import db
from oims.matcher import service as ms
from oims.matchfeed.fitcheck import check, payload
from oims.models import Meeting, MeetingSlot, Need, Proposal, ThreadMessage
from oims.policy import can_view_need, owner_label, proposal_filter, proposal_role, roles_required, staff_required
from oims.proposals.workflow import allowed_targets, stage_labels
from oims.web.actions import run_action
from oims.web.i18n import current_locale

bp = Blueprint("brokerage", __name__, url_prefix="/brokerage")

#: The parties who answer a forwarded proposal.
ANSWERING_PARTIES = (Party.OWNER, Party.COORDINATOR)

# --- loaders (access first) -------------------------------------------------------------------

def _case(proposal_id: int) -> tuple[Proposal, str]:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.stage == ProposalStage.DRAFT and proposal.org_id != current_user.organisation_id:
        abort(404)
    role = proposal_role(current_user, proposal)
    if role is None:
        abort(404)
    return proposal, role


def _meeting(meeting_id: int) -> tuple[Meeting, Proposal, str]:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    proposal, role = _case(meeting.proposal_id)
    return meeting, proposal, role


# --- coordinator workspace --------------------------------------------------------------------

@bp.get("/workspace")
@staff_required
def workspace():
    data = coordinator_workspace(current_user)
    return render_template("brokerage/workspace.html", data=data, stages=stage_labels(),
                           needs=bureau_needs(current_user), today=today_local(),
                           stalled=stalled_cases(current_user), status=ms.service().status())


# --- need owner inbox ----------------------------------------------------------------------------

@bp.get("/inbox")
@roles_required(Role.NEED_OWNER)
def inbox():
    items = db.session.scalars(
        select(Proposal)
        .where(Proposal.need_id.in_(select(Need.id).where(Need.owner_org_id == current_user.organisation_id)),
               Proposal.forwarded_at.isnot(None), proposal_filter(current_user))
        .order_by(Proposal.responded_at.isnot(None), Proposal.response_due, Proposal.id)).all()
    return render_template("brokerage/inbox.html", items=items, today=today_local(), stages=stage_labels(),
                           stats=response_stats(current_user.organisation_id))


# --- a case: thread, answer, meeting, outcome -------------------------------------------------------

def _render_case(proposal: Proposal, role: str, status: int = 200, errors: list[str] | None = None, **forms):
    need = proposal.need
    messages = db.session.scalars(select(ThreadMessage).where(ThreadMessage.proposal_id == proposal.id)
                                  .order_by(ThreadMessage.id)).all()
    case_meetings = db.session.scalars(select(Meeting).where(Meeting.proposal_id == proposal.id,
                                                             Meeting.status != "cancelled")
                                       .order_by(Meeting.id.desc())).all()
    proposed = None if services.case_closed(proposal) else next(
        (m for m in case_meetings if m.status == "proposed"), None)
    pick_form = forms.get("pick_form") or PickSlotForm()
    if proposed is not None:
        pick_form.slot_id.choices = [(s.id, format_local(s.starts_at)) for s in proposed.slots]
    respond_form = forms.get("respond_form") or RespondForm()
    respond_form.fill_choices()
    outcome_form = forms.get("outcome_form") or OutcomeForm()
    labels = stage_labels()
    outcome_targets = [t for t in allowed_targets(proposal, current_user) if t in OUTCOME_STAGES]
    outcome_form.stage.choices = [(t, labels[t]) for t in outcome_targets]
    return render_template(
        "brokerage/case.html", proposal=proposal, need=need, role=role, stages=labels,
        owner=owner_label(need, current_user, current_locale(), proposal),
        messages=[(m, services.author_label(m, proposal, current_user)) for m in messages],
        meetings=case_meetings, proposed=proposed,
        can_pick=proposed is not None and meetings.can_pick(current_user, proposed, proposal),
        can_respond=proposal.stage == ProposalStage.SHORTLISTED and role in ANSWERING_PARTIES,
        can_arrange=proposal.stage == ProposalStage.MEETING_REQUESTED, closed=services.case_closed(proposal),
        outcome_targets=outcome_targets, message_form=forms.get("message_form") or MessageForm(),
        respond_form=respond_form, slots_form=forms.get("slots_form") or SlotsForm(),
        pick_form=pick_form, outcome_form=outcome_form, errors=errors or [], today=today_local(),
        stats=response_stats(need.owner_org_id) if role != Party.PROPOSER else None,
        events=proposal.events,
    ), status


def _case_action(action, proposal: Proposal, role: str, form_name: str, form, success: str,
                 anchor: str = "", category: str = "success"):
    """Run a case form's action: errors go back onto that form of the case page."""
    return run_action(
        action, success=success, category=category,
        redirect_to=url_for("brokerage.case", proposal_id=proposal.id) + anchor,
        on_invalid=lambda errors, status: _render_case(proposal, role, status, errors, **{form_name: form}),
        form=form,
    )


@bp.get("/case/<int:proposal_id>")
@login_required
def case(proposal_id: int):
    proposal, role = _case(proposal_id)
    return _render_case(proposal, role)


@bp.post("/case/<int:proposal_id>/message")
@login_required
def post_message(proposal_id: int):
    proposal, role = _case(proposal_id)
    if proposal.forwarded_at is None or services.case_closed(proposal):
        abort(403)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, message_form=form)
    return _case_action(lambda: services.post_message(proposal, actor=current_user, body=form.body.data),
                        proposal, role, "message_form", form, _("Your message was posted."), "#thread")


@bp.post("/case/<int:proposal_id>/respond")
@login_required
def respond(proposal_id: int):
    proposal, role = _case(proposal_id)
    if role not in ANSWERING_PARTIES:
        abort(403)
    form = RespondForm()
    form.fill_choices()
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, respond_form=form)
    if form.action.data == "meeting":
        return _case_action(
            lambda: services.request_meeting(proposal, actor=current_user, note=form.note.data or ""),
            proposal, role, "respond_form", form, _("A first meeting was requested. Propose time slots below."))
    return _case_action(
        lambda: services.decline_case(proposal, actor=current_user, reason=form.reason.data or "",
                                      note=form.note.data or ""),
        proposal, role, "respond_form", form, _("The proposal was declined."), category="info")


@bp.post("/case/<int:proposal_id>/slots")
@login_required
def propose_slots(proposal_id: int):
    proposal, role = _case(proposal_id)
    if services.case_closed(proposal):
        abort(403)
    form = SlotsForm()
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, slots_form=form)
    return _case_action(
        lambda: meetings.propose_slots(proposal, actor=current_user, slots=form.slot_pairs(), mode=form.mode.data,
                                       url=form.url.data or "", address=form.address.data or "",
                                       coordinator_attends=bool(form.coordinator_attends.data)),
        proposal, role, "slots_form", form, _("The time slots were sent to the other side."), "#meeting")


@bp.post("/meeting/<int:meeting_id>/pick")
@login_required
def pick_slot(meeting_id: int):
    meeting, proposal, role = _meeting(meeting_id)
    if not meetings.can_pick(current_user, meeting, proposal):
        abort(403)
    form = PickSlotForm()
    form.slot_id.choices = [(s.id, format_local(s.starts_at)) for s in meeting.slots]
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, pick_form=form)
    slot = db.session.get(MeetingSlot, form.slot_id.data)
    return _case_action(lambda: meetings.pick_slot(meeting, slot, actor=current_user), proposal, role,
                        "pick_form", form, _("The first meeting is scheduled. A calendar invitation was sent."),
                        "#meeting")


@bp.post("/meeting/<int:meeting_id>/held")
@login_required
def meeting_held(meeting_id: int):
    meeting, proposal, role = _meeting(meeting_id)
    return run_action(
        lambda: meetings.mark_meeting_held(meeting, actor=current_user),
        success=_("The meeting was recorded as held."),
        redirect_to=url_for("brokerage.case", proposal_id=proposal.id),
        on_invalid=lambda errors, status: _render_case(proposal, role, status, errors),
    )


@bp.get("/meeting/<int:meeting_id>/invite.ics")
@login_required
def meeting_ics(meeting_id: int):
    meeting, proposal, _role = _meeting(meeting_id)
    if meeting.status not in ("scheduled", "held") or meeting.starts_at is None:
        abort(404)
    body = make_ics(meeting, proposal, current_user)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="oims-meeting-{meeting.id}.ics"'})


@bp.post("/case/<int:proposal_id>/outcome")
@login_required
def record_outcome(proposal_id: int):
    proposal, role = _case(proposal_id)
    form = OutcomeForm()
    labels = stage_labels()
    targets = [t for t in allowed_targets(proposal, current_user) if t in OUTCOME_STAGES]
    if not targets:
        abort(403)
    form.stage.choices = [(t, labels[t]) for t in targets]
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, outcome_form=form)
    return _case_action(
        lambda: services.record_outcome(proposal, actor=current_user, stage=form.stage.data,
                                        on_date=form.on_date.data, note=form.note.data or ""),
        proposal, role, "outcome_form", form, _("The outcome was recorded."))


# --- proposer: fit check -------------------------------------------------------------------------

@bp.route("/fit-check", methods=["GET", "POST"])
@login_required
def fit_check():
    wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
    if request.is_json:
        data = request.get_json(silent=True) or {}
        form = None
        need_id, text = data.get("need_id"), (data.get("text") or "")
    else:
        form = FitCheckForm(request.form if request.method == "POST" else None,
                            data={"need_id": request.args.get("need_id", type=int)})
        need_id, text = form.need_id.data, (form.text.data or "")
    need = db.session.get(Need, int(need_id)) if str(need_id or "").isdigit() else None
    if need is None or not can_view_need(current_user, need):
        abort(404)
    if request.method == "GET":
        return render_template("brokerage/fit_check.html", need=need, form=form, result=None,
                               status=ms.service().status())
    if not text.strip() or (form is not None and not form.validate()):
        if wants_json:
            return jsonify({"error": _("Write your draft proposal first.")}), 400
        return render_template("brokerage/fit_check.html", need=need, form=form, result=None,
                               status=ms.service().status()), 400
    result = check(need, text)
    if result is None:
        if wants_json:
            return jsonify({"error": _("Matching is catching up; try the fit check again in a moment."),
                            "catching_up": True}), 503
        return render_template("brokerage/fit_check.html", need=need, form=form, result=None,
                               status=ms.service().status(), unavailable=True), 503
    if wants_json:
        return jsonify(payload(result))
    return render_template("brokerage/fit_check.html", need=need, form=form, result=result,
                           status=ms.service().status())
