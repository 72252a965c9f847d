"""Brokerage operations. Every function flushes; the caller commits once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.reference import DECLINE_REASON_BY_CODE, INDUSTRY_BY_CODE, PROPOSER_KINDS
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.matcher import service as ms
from oims.matcher.bands import Calibrated, calibrate
from oims.models import (
    Invitation,
    Meeting,
    MeetingSlot,
    Need,
    Organisation,
    Proposal,
    ProposalEvent,
    ThreadMessage,
    User,
)
from oims.models.base import utcnow
from oims.models.proposals import INACTIVE_STAGES, OUTCOME_STAGES
from oims.policy import owner_label, proposal_filter, proposal_role, sees_owner, visible_reasons
from oims.proposals.workflow import change_stage

# Stages in which a case is in the coordinator's hands and can stall.
LIVE_STAGES = ("shortlisted", "meeting_requested", "meeting_scheduled", "met", "nda", "poc")
MAX_SLOTS = 5


def _locale() -> str:
    return str(get_locale() or "ja")


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except Exception:  # noqa: BLE001 - endpoint of a feature not registered
        return ""


def _active_users(org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == org_id, User.status == "active").order_by(User.id)))


def case_url(proposal: Proposal) -> str:
    return _url("brokerage.case", proposal_id=proposal.id)


def _judged(need: Need, target, source: str, actor: User, **kwargs) -> None:
    """A decision on a matcher candidate, kept as a judgment (never blocks the decision)."""
    from oims.matchfeed.judgments import record_quietly

    record_quietly(need, target, source, actor=actor, **kwargs)


# --- ranking and recommendations -----------------------------------------------------------

@dataclass
class RankedProposal:
    proposal: Proposal
    rank: int | None = None
    score: float | None = None
    reasons: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    fit: Calibrated | None = None  # calibrated chance of relevance, with its band


def ranked_proposals(need: Need, user: User, industry: str | None = None) -> tuple[list[RankedProposal], bool]:
    """The proposals to `need` that `user` may see, best first; `industry` (a
    JSIC division code) keeps those of proposers in that industry.

    Returns (rows, ranked); rows the matcher has not indexed yet come last."""
    q = select(Proposal).where(Proposal.need_id == need.id, Proposal.stage != "draft", proposal_filter(user))
    if industry in INDUSTRY_BY_CODE:
        q = q.join(Organisation, Organisation.id == Proposal.org_id).where(Organisation.industry == industry)
    visible = db.session.scalars(q.order_by(Proposal.submitted_at, Proposal.id)
                                 .options(selectinload(Proposal.org))).all()
    by_id = {p.id: p for p in visible}
    ranking = ms.rank_proposals(need)
    rows: list[RankedProposal] = []
    if ranking is not None:
        for hit in ranking:
            if hit.id in by_id:
                proposal = by_id.pop(hit.id)
                reasons = visible_reasons(user, proposal, hit.reasons, hit.parts)  # staged disclosure
                rows.append(RankedProposal(proposal, len(rows) + 1, hit.score, reasons, hit.parts, calibrate(hit)))
    rows += [RankedProposal(p) for p in by_id.values()]
    return rows, ranking is not None


@dataclass
class Recommendation:
    org: Organisation
    rank: int
    score: float
    reasons: list
    invitation: Invitation | None = None
    fit: Calibrated | None = None


def recommendation_filters(args: dict) -> dict:
    """Matcher filters from the recommendation form (blank values ignored)."""
    out = {}
    for key in ("bureau", "prefecture", "kind", "employee_band", "certifications", "industry"):
        value = args.get(key)
        if value:
            out[key] = value
    return out


def recommendations(need: Need, filters: dict | None = None, k: int = 20) -> list[Recommendation] | None:
    """Organisations that could answer `need` and have not proposed (推薦候補)."""
    proposed = set(db.session.scalars(select(Proposal.org_id).where(Proposal.need_id == need.id)))
    results = ms.recommend_orgs(need, filters=filters, exclude_ids=proposed | {need.owner_org_id}, k=k)
    if results is None:
        return None
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_([r.id for r in results])))}
    invited = {i.org_id: i for i in db.session.scalars(
        select(Invitation).where(Invitation.need_id == need.id))}
    out = []
    for r in results:
        org = orgs.get(r.id)
        if org is not None and org.kind in PROPOSER_KINDS:
            out.append(Recommendation(org, len(out) + 1, r.score, r.reasons, invited.get(org.id),
                                      calibrate(r, kind="orgs")))
    return out


def invite_org(need: Need, org: Organisation, *, actor: User, message: str = "",
               score: float | None = None, rank: int | None = None) -> Invitation:
    """Invite a recommended organisation to propose; tells its users (anonymity respected)."""
    if need.status != "published":
        raise ValidationFailed(_("Only published needs can receive invitations."))
    if org.kind not in PROPOSER_KINDS or org.id == need.owner_org_id or org.is_disabled:
        raise ValidationFailed(_("This organisation cannot propose to this need."))
    if db.session.scalar(select(Invitation.id).where(Invitation.need_id == need.id,
                                                     Invitation.org_id == org.id)):
        raise ValidationFailed(_("This organisation has already been invited."))
    if db.session.scalar(select(Proposal.id).where(Proposal.need_id == need.id, Proposal.org_id == org.id,
                                                   Proposal.stage.notin_(("withdrawn", "declined")))):
        raise ValidationFailed(_("This organisation has already proposed."))
    inv = Invitation(need_id=need.id, org_id=org.id, coordinator_id=actor.id, message=message.strip(),
                     match_score=score, match_rank=rank)
    db.session.add(inv)
    db.session.flush()
    audit(actor, "brokerage.invited", inv, need_id=need.id, org_id=org.id, rank=rank)
    _judged(need, org, "invite", actor, fit=calibrate(score, kind="orgs") if score is not None else None,
            rank=rank)
    url = _url("needs.view", need_id=need.id) or _url("brokerage.fit_check", need_id=need.id)
    for user in _active_users(org.id):
        def text(u=user):
            return _("A coordinator invites you to propose to the need “%(title)s” (%(owner)s)",
                     title=need.title, owner=owner_label(need, u, _locale()))

        notify(user, "brokerage_invitation", text, url, email_template="brokerage_invitation",
               subject=lambda: _("[OIMS] Invitation to propose"), need=need,
               owner=lambda u=user: owner_label(need, u, _locale()), message=inv.message,
               coordinator=actor)
    return inv


def forward_shortlist(need: Need, proposals: list[Proposal], *, actor: User, comment: str,
                      ranks: dict[int, int] | None = None,
                      fits: dict[int, Calibrated | None] | None = None) -> list[Proposal]:
    """Shortlist proposals and forward them to the need's owner with a comment."""
    if not proposals:
        raise ValidationFailed({"proposal_ids": [_("Select at least one proposal.")]})
    ranks = ranks or {}
    due = today_local() + timedelta(days=current_app.config["OIMS_RESPONSE_DAYS"])
    for prop in proposals:
        if prop.need_id != need.id:
            raise NotAllowed()
        if prop.stage not in ("submitted", "screening"):
            raise ValidationFailed(_("“%(title)s” cannot be shortlisted in its current stage.",
                                     title=prop.title))
        if prop.stage == "submitted":
            change_stage(prop, "screening", actor, notify_proposer=False)
        change_stage(prop, "shortlisted", actor, note=comment)
        prop.forwarded_at = utcnow()
        prop.forward_comment = comment
        prop.shortlisted_by_id = actor.id
        prop.shortlist_rank = ranks.get(prop.id)
        prop.response_due = due
        _judged(need, prop, "shortlist", actor, fit=(fits or {}).get(prop.id), rank=ranks.get(prop.id))
    db.session.flush()
    for user in _active_users(need.owner_org_id):
        notify(user, "brokerage_forwarded",
               lambda: _("%(count)d proposal(s) were forwarded to you for “%(title)s”",
                         count=len(proposals), title=need.title),
               _url("brokerage.inbox"), email_template="brokerage_forwarded",
               subject=lambda: _("[OIMS] Proposals forwarded to you"), need=need, proposals=proposals,
               comment=comment, due=due)
    return proposals


# --- participants, threads and responses ------------------------------------------------------

def participants(proposal: Proposal) -> list[User]:
    """Owner users, proposer users and the coordinator who forwarded the case."""
    users = _active_users(proposal.need.owner_org_id) + _active_users(proposal.org_id)
    if proposal.shortlisted_by_id:
        coord = db.session.get(User, proposal.shortlisted_by_id)
        if coord is not None and coord.status == "active":
            users.append(coord)
    seen, out = set(), []
    for u in users:
        if u.id not in seen:
            seen.add(u.id)
            out.append(u)
    return out


def author_label(message: ThreadMessage, proposal: Proposal, viewer: User) -> str:
    """Who wrote a thread message, as `viewer` may know it (anonymous owners stay hidden)."""
    author = db.session.get(User, message.author_id)
    if author is None:
        return "—"
    need = proposal.need
    if author.organisation_id == need.owner_org_id and not sees_owner(viewer, need, proposal):
        return owner_label(need, viewer, _locale(), proposal)
    if author.is_staff:
        return f"{author.name} ({_('Coordinator')})"
    return f"{author.name} ({author.organisation.display_name(_locale())})"


def case_closed(proposal: Proposal) -> bool:
    """A declined or withdrawn case: no more messages, no meeting."""
    return proposal.stage in INACTIVE_STAGES


def post_message(proposal: Proposal, *, actor: User, body: str) -> ThreadMessage:
    if proposal_role(actor, proposal) is None or proposal.forwarded_at is None or case_closed(proposal):
        raise NotAllowed()
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"body": [_("Write a message.")]})
    msg = ThreadMessage(proposal_id=proposal.id, author_id=actor.id, body=body)
    db.session.add(msg)
    proposal.last_activity_at = utcnow()
    db.session.flush()
    for user in participants(proposal):
        if user.id == actor.id:
            continue
        notify(user, "brokerage_message",
               lambda: _("New message about the proposal “%(title)s”", title=proposal.title),
               case_url(proposal), email_template="brokerage_message",
               subject=lambda: _("[OIMS] New message"), body=body)
    return msg


def request_meeting(proposal: Proposal, *, actor: User, note: str = "") -> ProposalEvent:
    event = change_stage(proposal, "meeting_requested", actor, note=note)
    if proposal.responded_at is None:
        proposal.responded_at = utcnow()
    _judged(proposal.need, proposal, "meeting", actor)
    return event


def decline_case(proposal: Proposal, *, actor: User, reason: str, note: str = "") -> ProposalEvent:
    if reason not in DECLINE_REASON_BY_CODE:
        raise ValidationFailed({"reason": [_("Choose a reason.")]})
    proposal.decline_reason = reason
    proposal.decline_note = note.strip()
    event = change_stage(proposal, "declined", actor, note=note.strip())
    cancel_open_meetings(proposal)
    if proposal.responded_at is None and proposal_role(actor, proposal) == "owner":
        proposal.responded_at = utcnow()
    if proposal.forwarded_at is not None:
        _judged(proposal.need, proposal, "declined", actor)
    return event


def cancel_open_meetings(proposal: Proposal) -> None:
    """A closed case keeps no proposed or scheduled meeting."""
    for m in db.session.scalars(select(Meeting).where(Meeting.proposal_id == proposal.id,
                                                       Meeting.status.in_(("proposed", "scheduled")))):
        m.status = "cancelled"


# --- meetings --------------------------------------------------------------------------------

def _side(user: User, proposal: Proposal) -> str | None:
    return proposal_role(user, proposal)


def propose_slots(proposal: Proposal, *, actor: User, slots: list[tuple[datetime, datetime]],
                  mode: str, url: str = "", address: str = "", coordinator_attends: bool = False) -> Meeting:
    """One side proposes several time slots for the first meeting; the other picks one."""
    if _side(actor, proposal) is None or case_closed(proposal):
        raise NotAllowed()
    if proposal.stage != "meeting_requested":
        raise ValidationFailed(_("A meeting can be arranged once the owner has requested it."))
    errors: dict[str, list[str]] = {}
    now = utcnow()
    slots = [(s, e) for s, e in slots if s is not None]
    if not slots:
        errors["slot1"] = [_("Propose at least one time slot.")]
    elif any(s <= now for s, _e in slots):
        errors["slot1"] = [_("Time slots must be in the future.")]
    if len(slots) > MAX_SLOTS:
        errors["slot1"] = [_("Propose at most %(n)d slots.", n=MAX_SLOTS)]
    if mode == "online" and not url.strip().startswith(("https://", "http://")):
        errors["url"] = [_("Give the meeting URL (https://...).")]
    if mode == "onsite" and not address.strip():
        errors["address"] = [_("Give the address of the meeting.")]
    if mode not in ("online", "onsite"):
        errors["mode"] = [_("Choose online or on-site.")]
    if errors:
        raise ValidationFailed(errors)
    for old in db.session.scalars(select(Meeting).where(Meeting.proposal_id == proposal.id,
                                                         Meeting.status == "proposed")):
        old.status = "cancelled"
    meeting = Meeting(proposal_id=proposal.id, status="proposed", mode=mode, url=url.strip() if mode == "online" else "",
                      address=address.strip() if mode == "onsite" else "", proposed_by_id=actor.id,
                      coordinator_attends=coordinator_attends, uid=f"{uuid.uuid4()}@oims")
    meeting.slots = [MeetingSlot(starts_at=s, ends_at=e) for s, e in sorted(slots)]
    db.session.add(meeting)
    proposal.last_activity_at = now
    db.session.flush()
    audit(actor, "brokerage.slots_proposed", meeting, proposal_id=proposal.id, count=len(slots))
    for user in participants(proposal):
        if user.id != actor.id and _side(user, proposal) != _side(actor, proposal):
            notify(user, "brokerage_slots",
                   lambda: _("Time slots were proposed for the first meeting on “%(title)s”",
                             title=proposal.title),
                   case_url(proposal), email_template="brokerage_message",
                   subject=lambda: _("[OIMS] Choose a meeting time"), body="")
    return meeting


def can_pick(user: User, meeting: Meeting, proposal: Proposal) -> bool:
    side = _side(user, proposal)
    if side is None or meeting.status != "proposed" or case_closed(proposal):
        return False
    proposer_side = _side(db.session.get(User, meeting.proposed_by_id), proposal)
    return side != proposer_side


def pick_slot(meeting: Meeting, slot: MeetingSlot, *, actor: User) -> Meeting:
    """The other side picks a slot: the meeting is agreed, the owner disclosed, .ics sent."""
    from oims.brokerage.ics import meeting_ics

    proposal = db.session.get(Proposal, meeting.proposal_id)
    if not can_pick(actor, meeting, proposal):
        raise NotAllowed()
    if slot.meeting_id != meeting.id:
        raise ValidationFailed({"slot_id": [_("Choose one of the proposed slots.")]})
    if slot.starts_at <= utcnow():
        raise ValidationFailed({"slot_id": [_("This time slot has passed.")]})
    meeting.starts_at, meeting.ends_at = slot.starts_at, slot.ends_at
    meeting.status = "scheduled"
    change_stage(proposal, "meeting_scheduled", actor, notify_proposer=False)
    proposal.owner_disclosed = True
    db.session.flush()
    for user in participants(proposal):
        if user.is_staff and not meeting.coordinator_attends and user.id != actor.id:
            attach = None
        else:
            attach = [("oims-meeting.ics", "text/calendar", meeting_ics(meeting, proposal, user))]
        notify(user, "brokerage_meeting",
               lambda: _("The first meeting on “%(title)s” is scheduled", title=proposal.title),
               case_url(proposal), email_template="brokerage_meeting",
               subject=lambda: _("[OIMS] First meeting scheduled"), attachments=attach,
               meeting=meeting, when=local_time(meeting.starts_at), reminder=False)
    return meeting


def mark_meeting_held(meeting: Meeting, *, actor: User, note: str = "") -> ProposalEvent:
    proposal = db.session.get(Proposal, meeting.proposal_id)
    if meeting.status != "scheduled":
        raise ValidationFailed(_("Only a scheduled meeting can be marked as held."))
    # Compared as instants (UTC in the database); the message shows the time in
    # the service's zone (Asia/Tokyo), where "before it starts" is meant.
    if meeting.starts_at is None or meeting.starts_at > utcnow():
        raise ValidationFailed(_("A meeting cannot be marked as held before it starts (%(when)s).",
                                 when=local_time(meeting.starts_at) or "—"))
    event = change_stage(proposal, "met", actor, note=note, on_date=meeting.starts_at.date())
    meeting.status = "held"
    return event


def local_time(value: datetime | None) -> str:
    from oims.core.timeutil import format_local

    return format_local(value)


def send_meeting_reminders(now: datetime | None = None) -> int:
    """Remind every participant of a meeting that starts within the next day."""
    now = now or utcnow()
    meetings = db.session.scalars(select(Meeting).where(
        Meeting.status == "scheduled", Meeting.reminder_sent_at.is_(None),
        Meeting.starts_at > now, Meeting.starts_at <= now + timedelta(days=1))).all()
    for meeting in meetings:
        proposal = db.session.get(Proposal, meeting.proposal_id)
        for user in participants(proposal):
            if user.is_staff and not meeting.coordinator_attends:
                continue
            notify(user, "brokerage_reminder",
                   lambda p=proposal: _("Reminder: first meeting on “%(title)s” tomorrow", title=p.title),
                   case_url(proposal), email_template="brokerage_meeting",
                   subject=lambda: _("[OIMS] Meeting reminder"), meeting=meeting,
                   when=local_time(meeting.starts_at), reminder=True)
        meeting.reminder_sent_at = now
    db.session.flush()
    return len(meetings)


def record_outcome(proposal: Proposal, *, actor: User, stage: str, on_date: date | None,
                   note: str = "") -> ProposalEvent:
    if stage not in OUTCOME_STAGES:
        raise ValidationFailed({"stage": [_("Choose an outcome.")]})
    if stage == "ended" and not note.strip():
        raise ValidationFailed({"note": [_("Say why the case ended.")]})
    return change_stage(proposal, stage, actor, note=note.strip(), on_date=on_date or today_local())


# --- figures -----------------------------------------------------------------------------------

def response_stats(org_id: int, today: date | None = None) -> dict:
    """How a need owner answers forwarded proposals (insight.figures: response
    rate, on-time rate, median days)."""
    from oims.insight.figures import owner_response

    return owner_response(org_id, today=today)


def stalled_cases(user: User, now: datetime | None = None) -> list[Proposal]:
    """Live cases without activity for OIMS_STALL_DAYS, in the user's bureau."""
    now = now or utcnow()
    limit = now - timedelta(days=current_app.config["OIMS_STALL_DAYS"])
    q = (select(Proposal).join(Need, Need.id == Proposal.need_id)
         .where(Proposal.stage.in_(LIVE_STAGES), Proposal.last_activity_at < limit)
         .order_by(Proposal.last_activity_at))
    if not user.is_admin:
        q = q.where(Need.bureau == user.bureau)
    return list(db.session.scalars(q))


def _funnel(proposals: list[Proposal]) -> tuple[int, int]:
    """(meetings held, 成約) by the one definition in insight.figures."""
    from oims.insight.figures import is_deal, is_meeting, levels_of

    levels = levels_of([p.id for p in proposals])
    return (sum(1 for v in levels.values() if is_meeting(v)), sum(1 for v in levels.values() if is_deal(v)))


def coordinator_workspace(user: User) -> dict:
    """Every invitation and shortlist `user` made, what became of them, and hit rates."""
    invitations = db.session.scalars(select(Invitation).where(Invitation.coordinator_id == user.id)
                                     .order_by(Invitation.created_at.desc(), Invitation.id.desc())).all()
    need_ids = {i.need_id for i in invitations}
    needs = {n.id: n for n in db.session.scalars(select(Need).where(Need.id.in_(need_ids)))} if need_ids else {}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_({i.org_id for i in invitations})))} if invitations else {}
    props = {}
    if invitations:
        for p in db.session.scalars(select(Proposal).where(Proposal.need_id.in_(need_ids),
                                                           Proposal.stage != "draft")
                                    .order_by(Proposal.id)):
            props[(p.need_id, p.org_id)] = p
    inv_rows = [{"invitation": i, "need": needs.get(i.need_id), "org": orgs.get(i.org_id),
                 "proposal": props.get((i.need_id, i.org_id))} for i in invitations]
    invited_props = [r["proposal"] for r in inv_rows if r["proposal"] is not None]
    inv_meetings, inv_deals = _funnel(invited_props)
    shortlisted = db.session.scalars(select(Proposal).where(Proposal.shortlisted_by_id == user.id)
                                     .order_by(Proposal.forwarded_at.desc())).all()
    sl_meetings, sl_deals = _funnel(shortlisted)
    return {
        "invitations": inv_rows,
        "shortlisted": shortlisted,
        "funnel": {"invitations": len(invitations), "proposals": len(invited_props),
                   "meetings": inv_meetings, "deals": inv_deals},
        "shortlist_funnel": {"shortlisted": len(shortlisted),
                             "answered": sum(1 for p in shortlisted if p.responded_at),
                             "meetings": sl_meetings, "deals": sl_deals},
    }


def needs_for_org(org: Organisation, k: int = 8) -> list[tuple[Need, Calibrated | None, list]] | None:
    """Open published needs ranked against the organisation's capability profile,
    with their calibrated band; never its own needs, closed ones (deadline passed,
    even before the closing job ran) or needs it has already proposed to."""
    proposed = set(db.session.scalars(select(Proposal.need_id).where(Proposal.org_id == org.id)))
    own = set(db.session.scalars(select(Need.id).where(Need.owner_org_id == org.id)))
    results = ms.needs_for_org(org, exclude_ids=proposed | own, k=2 * k)
    if results is None:
        return None
    needs = {n.id: n for n in db.session.scalars(select(Need).where(
        Need.id.in_([r.id for r in results]), Need.status == "published", Need.owner_org_id != org.id,
        Need.deadline >= today_local()))}
    return [(needs[r.id], calibrate(r), r.reasons) for r in results if r.id in needs][:k]


def bureau_needs(user: User) -> list[tuple[Need, int, int]]:
    """Published needs the coordinator brokers, with (proposals, forwarded) counts."""
    from sqlalchemy import func

    q = select(Need).where(Need.status == "published").order_by(Need.deadline, Need.id)
    if not user.is_admin:
        q = q.where(Need.bureau == user.bureau)
    needs = db.session.scalars(q).all()
    counts = {nid: (n, f) for nid, n, f in db.session.execute(
        select(Proposal.need_id, func.count(Proposal.id), func.count(Proposal.forwarded_at))
        .where(Proposal.need_id.in_([n.id for n in needs]), Proposal.stage != "draft")
        .group_by(Proposal.need_id))} if needs else {}
    return [(n, *counts.get(n.id, (0, 0))) for n in needs]
