"""Brokerage pages. Each route checks access first (404 for what the user may
not see, 403 for actions not allowed on what they see), then calls a service
and commits once."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from oims.brokerage import services
from oims.brokerage.forms import (
    CandidateFilterForm,
    FitCheckForm,
    InviteForm,
    MessageForm,
    OutcomeForm,
    PickSlotForm,
    RecommendFilterForm,
    RespondForm,
    ShortlistForm,
    SlotsForm,
)
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.matcher import service as ms
from oims.models import Invitation, Meeting, MeetingSlot, Need, Organisation, Proposal, ThreadMessage
from oims.models.proposals import OUTCOME_STAGES
from oims.policy import (
    can_manage_need,
    can_view_need,
    owner_label,
    proposal_filter,
    proposal_role,
    roles_required,
    staff_required,
)
from oims.proposals.workflow import allowed_targets, stage_labels
from oims.web.forms import apply_errors
from oims.web.i18n import current_locale
from oims.web.pagination import ListPage

bp = Blueprint("brokerage", __name__, url_prefix="/brokerage")

CANDIDATES_PER_PAGE = 50

# --- loaders (access first) -------------------------------------------------------------------

def _managed_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not can_manage_need(current_user, need):
        abort(404)
    return need


def _case(proposal_id: int) -> tuple[Proposal, str]:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.stage == "draft" and proposal.org_id != current_user.organisation_id:
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


# --- coordinator: a need ------------------------------------------------------------------------

def _render_need(need: Need, status: int = 200, errors: list[str] | None = None,
                 shortlist_form: ShortlistForm | None = None):
    filters = RecommendFilterForm(request.args, meta={"csrf": False})
    filters.fill_choices()
    if not filters.bureau.data and "bureau" not in request.args:
        filters.bureau.data = need.bureau
    chosen = services.recommendation_filters({f.name: f.data for f in filters})
    cand_filter = CandidateFilterForm(request.args, meta={"csrf": False})
    cand_filter.fill_choices()
    rows, ranked = services.ranked_proposals(need, current_user, cand_filter.cand_industry.data or None)
    # Ranked over all proposals, shown a page at a time; the page's organisations in one query.
    page = ListPage(rows, request.args.get("page", 1, type=int), CANDIDATES_PER_PAGE)
    page_org_ids = {r.proposal.org_id for r in page.items}
    # Held until the page is rendered: the session's identity map is weak, and
    # `proposal.org` then resolves from it without a query per row.
    page_orgs = db.session.scalars(select(Organisation).where(Organisation.id.in_(page_org_ids))).all() \
        if page_org_ids else []
    recs = services.recommendations(need, chosen) if need.status == "published" else []
    shortlist_form = shortlist_form or ShortlistForm()
    shortlist_form.proposal_ids.choices = [(r.proposal.id, r.proposal.title) for r in rows]
    invitations = db.session.scalars(select(Invitation).where(Invitation.need_id == need.id)
                                     .order_by(Invitation.id)).all()
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_({i.org_id for i in invitations})))} if invitations else {}
    return render_template(
        "brokerage/need.html", need=need, rows=rows, page=page, page_orgs=page_orgs, all_scores=[r.score for r in rows], ranked=ranked, recs=recs, filters=filters, cand_filter=cand_filter,
        shortlist_form=shortlist_form, invite_form=InviteForm(), invitations=invitations, inv_orgs=orgs,
        status=ms.service().status(), stats=services.response_stats(need.owner_org_id),
        errors=errors or [], stages=stage_labels(), owner=owner_label(need, current_user, current_locale()),
        marks=_marks(need),
    ), status


def _marks(need: Need) -> dict:
    try:
        from oims.matchfeed.judgments import marks_for
    except ImportError:  # the feedback feature is not installed
        return {}
    return marks_for(need)


@bp.get("/need/<int:need_id>")
@login_required
def need(need_id: int):
    return _render_need(_managed_need(need_id))


@bp.post("/need/<int:need_id>/invite")
@login_required
def invite(need_id: int):
    need = _managed_need(need_id)
    form = InviteForm()
    org = db.session.get(Organisation, int(form.org_id.data)) if (form.org_id.data or "").isdigit() else None
    if org is None:
        abort(404)
    if not form.validate_on_submit():
        return _render_need(need, 400, [m for ms_ in form.errors.values() for m in ms_])
    try:
        services.invite_org(need, org, actor=current_user, message=form.message.data or "",
                            score=_float(form.score.data), rank=_int(form.rank.data))
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_need(need, 400, [m for ms_ in exc.errors.values() for m in ms_])
    db.session.commit()
    flash(_("%(org)s was invited to propose.", org=org.display_name(current_locale())), "success")
    return redirect(url_for("brokerage.need", need_id=need.id))


@bp.post("/need/<int:need_id>/shortlist")
@login_required
def shortlist(need_id: int):
    need = _managed_need(need_id)
    form = ShortlistForm()
    visible = {p.id: p for p in db.session.scalars(select(Proposal).where(
        Proposal.need_id == need.id, Proposal.stage != "draft", proposal_filter(current_user)))}
    form.proposal_ids.choices = [(pid, p.title) for pid, p in visible.items()]
    if not form.validate_on_submit():
        return _render_need(need, 400, shortlist_form=form)
    chosen = [visible[pid] for pid in form.proposal_ids.data or [] if pid in visible]
    ranked = services.ranked_proposals(need, current_user)[0]
    ranks = {r.proposal.id: r.rank for r in ranked if r.rank}
    fits = {r.proposal.id: r.fit for r in ranked if r.fit}
    try:
        services.forward_shortlist(need, chosen, actor=current_user, comment=form.comment.data, ranks=ranks,
                                   fits=fits)
    except ValidationFailed as exc:
        db.session.rollback()
        general = apply_errors(form, exc)
        return _render_need(need, 400, general, shortlist_form=form)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("%(count)d proposal(s) were forwarded to the need owner.", count=len(chosen)), "success")
    return redirect(url_for("brokerage.need", need_id=need.id))


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- coordinator workspace --------------------------------------------------------------------

@bp.get("/workspace")
@staff_required
def workspace():
    data = services.coordinator_workspace(current_user)
    return render_template("brokerage/workspace.html", data=data, stages=stage_labels(),
                           needs=services.bureau_needs(current_user), today=today_local(),
                           stalled=services.stalled_cases(current_user), status=ms.service().status())


# --- need owner inbox ----------------------------------------------------------------------------

@bp.get("/inbox")
@roles_required("need_owner")
def inbox():
    items = db.session.scalars(
        select(Proposal)
        .where(Proposal.need_id.in_(select(Need.id).where(Need.owner_org_id == current_user.organisation_id)),
               Proposal.forwarded_at.isnot(None), proposal_filter(current_user))
        .order_by(Proposal.responded_at.isnot(None), Proposal.response_due, Proposal.id)).all()
    return render_template("brokerage/inbox.html", items=items, today=today_local(), stages=stage_labels(),
                           stats=services.response_stats(current_user.organisation_id))


# --- a case: thread, answer, meeting, outcome -------------------------------------------------------

def _render_case(proposal: Proposal, role: str, status: int = 200, errors: list[str] | None = None, **forms):
    need = proposal.need
    messages = db.session.scalars(select(ThreadMessage).where(ThreadMessage.proposal_id == proposal.id)
                                  .order_by(ThreadMessage.id)).all()
    meetings = db.session.scalars(select(Meeting).where(Meeting.proposal_id == proposal.id,
                                                        Meeting.status != "cancelled")
                                  .order_by(Meeting.id.desc())).all()
    proposed = None if services.case_closed(proposal) else next(
        (m for m in meetings if m.status == "proposed"), None)
    pick_form = forms.get("pick_form") or PickSlotForm()
    if proposed is not None:
        pick_form.slot_id.choices = [(s.id, services.local_time(s.starts_at)) for s in proposed.slots]
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
        meetings=meetings, proposed=proposed,
        can_pick=proposed is not None and services.can_pick(current_user, proposed, proposal),
        can_respond=proposal.stage == "shortlisted" and role in ("owner", "coordinator"),
        can_arrange=proposal.stage == "meeting_requested", closed=services.case_closed(proposal),
        outcome_targets=outcome_targets, message_form=forms.get("message_form") or MessageForm(),
        respond_form=respond_form, slots_form=forms.get("slots_form") or SlotsForm(),
        pick_form=pick_form, outcome_form=outcome_form, errors=errors or [], today=today_local(),
        stats=services.response_stats(need.owner_org_id) if role != "proposer" else None,
        events=proposal.events,
    ), status


def _fail(proposal, role, form_name, form, exc: ValidationFailed):
    db.session.rollback()
    general = apply_errors(form, exc)
    return _render_case(proposal, role, 400, general, **{form_name: form})


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
    try:
        services.post_message(proposal, actor=current_user, body=form.body.data)
    except ValidationFailed as exc:
        return _fail(proposal, role, "message_form", form, exc)
    except NotAllowed:
        abort(403)
    db.session.commit()
    flash(_("Your message was posted."), "success")
    return redirect(url_for("brokerage.case", proposal_id=proposal.id) + "#thread")


@bp.post("/case/<int:proposal_id>/respond")
@login_required
def respond(proposal_id: int):
    proposal, role = _case(proposal_id)
    if role not in ("owner", "coordinator"):
        abort(403)
    form = RespondForm()
    form.fill_choices()
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, respond_form=form)
    try:
        if form.action.data == "meeting":
            services.request_meeting(proposal, actor=current_user, note=form.note.data or "")
            flash(_("A first meeting was requested. Propose time slots below."), "success")
        else:
            services.decline_case(proposal, actor=current_user, reason=form.reason.data or "",
                                  note=form.note.data or "")
            flash(_("The proposal was declined."), "info")
    except ValidationFailed as exc:
        return _fail(proposal, role, "respond_form", form, exc)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    return redirect(url_for("brokerage.case", proposal_id=proposal.id))


@bp.post("/case/<int:proposal_id>/slots")
@login_required
def propose_slots(proposal_id: int):
    proposal, role = _case(proposal_id)
    if services.case_closed(proposal):
        abort(403)
    form = SlotsForm()
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, slots_form=form)
    try:
        services.propose_slots(proposal, actor=current_user, slots=form.slot_pairs(), mode=form.mode.data,
                               url=form.url.data or "", address=form.address.data or "",
                               coordinator_attends=bool(form.coordinator_attends.data))
    except ValidationFailed as exc:
        return _fail(proposal, role, "slots_form", form, exc)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("The time slots were sent to the other side."), "success")
    return redirect(url_for("brokerage.case", proposal_id=proposal.id) + "#meeting")


@bp.post("/meeting/<int:meeting_id>/pick")
@login_required
def pick_slot(meeting_id: int):
    meeting, proposal, role = _meeting(meeting_id)
    if not services.can_pick(current_user, meeting, proposal):
        abort(403)
    form = PickSlotForm()
    form.slot_id.choices = [(s.id, services.local_time(s.starts_at)) for s in meeting.slots]
    if not form.validate_on_submit():
        return _render_case(proposal, role, 400, pick_form=form)
    slot = db.session.get(MeetingSlot, form.slot_id.data)
    try:
        services.pick_slot(meeting, slot, actor=current_user)
    except ValidationFailed as exc:
        return _fail(proposal, role, "pick_form", form, exc)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("The first meeting is scheduled. A calendar invitation was sent."), "success")
    return redirect(url_for("brokerage.case", proposal_id=proposal.id) + "#meeting")


@bp.post("/meeting/<int:meeting_id>/held")
@login_required
def meeting_held(meeting_id: int):
    meeting, proposal, role = _meeting(meeting_id)
    try:
        services.mark_meeting_held(meeting, actor=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_case(proposal, role, 400, list(exc.errors.get("", [])) or [str(exc)])
    except NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("The meeting was recorded as held."), "success")
    return redirect(url_for("brokerage.case", proposal_id=proposal.id))


@bp.get("/meeting/<int:meeting_id>/invite.ics")
@login_required
def meeting_ics(meeting_id: int):
    from oims.brokerage.ics import meeting_ics as make_ics

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
    try:
        services.record_outcome(proposal, actor=current_user, stage=form.stage.data, on_date=form.on_date.data,
                                note=form.note.data or "")
    except ValidationFailed as exc:
        return _fail(proposal, role, "outcome_form", form, exc)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("The outcome was recorded."), "success")
    return redirect(url_for("brokerage.case", proposal_id=proposal.id))


# --- proposer: fit check -------------------------------------------------------------------------

def _fit_payload(result) -> dict:
    from oims.matchfeed.fitcheck import payload

    return payload(result)


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
    from oims.matchfeed.fitcheck import check

    result = check(need, text)
    if result is None:
        if wants_json:
            return jsonify({"error": _("Matching is catching up; try the fit check again in a moment."),
                            "catching_up": True}), 503
        return render_template("brokerage/fit_check.html", need=need, form=form, result=None,
                               status=ms.service().status(), unavailable=True), 503
    if wants_json:
        return jsonify(_fit_payload(result))
    return render_template("brokerage/fit_check.html", need=need, form=form, result=result,
                           status=ms.service().status())
