"""The first business meeting of a case: one side proposes time slots, the
other picks one (the owner is disclosed, an .ics invitation goes out), the
meeting is marked as held, and participants are reminded the day before.
Every function flushes; the caller commits once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from oims.audit.log import audit
from oims.brokerage.ics import meeting_ics
from oims.brokerage.services import case_closed, case_url, participants
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.timeutil import format_local
from oims.core.vocabulary import ProposalStage
from oims.extensions import db
from oims.models import Meeting, MeetingSlot, Proposal, ProposalEvent, User
from oims.models.base import utcnow
from oims.policy import proposal_role
from oims.proposals.workflow import change_stage

MAX_SLOTS = 5


def propose_slots(proposal: Proposal, *, actor: User, slots: list[tuple[datetime, datetime]],
                  mode: str, url: str = "", address: str = "", coordinator_attends: bool = False) -> Meeting:
    """One side proposes several time slots for the first meeting; the other picks one."""
    if proposal_role(actor, proposal) is None or case_closed(proposal):
        raise NotAllowed()
    if proposal.stage != ProposalStage.MEETING_REQUESTED:
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
    side = proposal_role(actor, proposal)
    for user in participants(proposal):
        if user.id != actor.id and proposal_role(user, proposal) != side:
            notify(user, "brokerage_slots",
                   lambda: _("Time slots were proposed for the first meeting on “%(title)s”",
                             title=proposal.title),
                   case_url(proposal), email_template="brokerage_message",
                   subject=lambda: _("[OIMS] Choose a meeting time"), body="")
    return meeting


def can_pick(user: User, meeting: Meeting, proposal: Proposal) -> bool:
    side = proposal_role(user, proposal)
    if side is None or meeting.status != "proposed" or case_closed(proposal):
        return False
    proposer_side = proposal_role(db.session.get(User, meeting.proposed_by_id), proposal)
    return side != proposer_side


def pick_slot(meeting: Meeting, slot: MeetingSlot, *, actor: User) -> Meeting:
    """The other side picks a slot: the meeting is agreed, the owner disclosed, .ics sent."""
    proposal = db.session.get(Proposal, meeting.proposal_id)
    if not can_pick(actor, meeting, proposal):
        raise NotAllowed()
    if slot.meeting_id != meeting.id:
        raise ValidationFailed({"slot_id": [_("Choose one of the proposed slots.")]})
    if slot.starts_at <= utcnow():
        raise ValidationFailed({"slot_id": [_("This time slot has passed.")]})
    meeting.starts_at, meeting.ends_at = slot.starts_at, slot.ends_at
    meeting.status = "scheduled"
    change_stage(proposal, ProposalStage.MEETING_SCHEDULED, actor, notify_proposer=False)
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
               meeting=meeting, when=format_local(meeting.starts_at), reminder=False)
    return meeting


def mark_meeting_held(meeting: Meeting, *, actor: User, note: str = "") -> ProposalEvent:
    proposal = db.session.get(Proposal, meeting.proposal_id)
    if meeting.status != "scheduled":
        raise ValidationFailed(_("Only a scheduled meeting can be marked as held."))
    # Compared as instants (UTC in the database); the message shows the time in
    # the service's zone (Asia/Tokyo), where "before it starts" is meant.
    if meeting.starts_at is None or meeting.starts_at > utcnow():
        raise ValidationFailed(_("A meeting cannot be marked as held before it starts (%(when)s).",
                                 when=format_local(meeting.starts_at) or "—"))
    event = change_stage(proposal, ProposalStage.MET, actor, note=note, on_date=meeting.starts_at.date())
    meeting.status = "held"
    return event


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
                   when=format_local(meeting.starts_at), reminder=True)
        meeting.reminder_sent_at = now
    db.session.flush()
    return len(meetings)
