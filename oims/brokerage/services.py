"""Brokerage operations on a case (a forwarded proposal): who takes part, the
message thread, the owner's answer and the outcome. Every function flushes; the
caller commits once.

The other concerns have their own modules: ranked lists, recommendations,
invitations and the shortlist in `shortlist.py`; first meetings and their
reminders in `meetings.py`; the coordinator's workspace and figures in
`workspace.py`. The small helpers below are shared by all of them.
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.reference import DECLINE_REASON_BY_CODE
from oims.core.timeutil import today_local
from oims.core.vocabulary import INACTIVE_STAGES, OUTCOME_STAGES, Party, ProposalStage
from oims.extensions import db
from oims.matchfeed.judgments import record_quietly
from oims.models import Meeting, Need, Proposal, ProposalEvent, ThreadMessage, User
from oims.models.base import utcnow
from oims.policy import owner_label, proposal_role, sees_owner
from oims.proposals.workflow import change_stage

# --- shared helpers ---------------------------------------------------------------------------

def ui_locale() -> str:
    return str(get_locale() or "ja")


def link(endpoint: str, **values) -> str:
    """The URL of `endpoint`, or "" when its feature is not registered."""
    try:
        return url_for(endpoint, **values)
    except Exception:  # noqa: BLE001 - endpoint of a feature not registered
        return ""


def active_users(org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == org_id, User.status == "active").order_by(User.id)))


def case_url(proposal: Proposal) -> str:
    return link("brokerage.case", proposal_id=proposal.id)


def judged(need: Need, target, source: str, actor: User, **kwargs) -> None:
    """A decision on a matcher candidate, kept as a judgment (never blocks the decision)."""
    record_quietly(need, target, source, actor=actor, **kwargs)


# --- participants, threads and responses ------------------------------------------------------

def participants(proposal: Proposal) -> list[User]:
    """Owner users, proposer users and the coordinator who forwarded the case."""
    users = active_users(proposal.need.owner_org_id) + active_users(proposal.org_id)
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
        return owner_label(need, viewer, ui_locale(), proposal)
    if author.is_staff:
        return f"{author.name} ({_('Coordinator')})"
    return f"{author.name} ({author.organisation.display_name(ui_locale())})"


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
    event = change_stage(proposal, ProposalStage.MEETING_REQUESTED, actor, note=note)
    if proposal.responded_at is None:
        proposal.responded_at = utcnow()
    judged(proposal.need, proposal, "meeting", actor)
    return event


def decline_case(proposal: Proposal, *, actor: User, reason: str, note: str = "") -> ProposalEvent:
    if reason not in DECLINE_REASON_BY_CODE:
        raise ValidationFailed({"reason": [_("Choose a reason.")]})
    proposal.decline_reason = reason
    proposal.decline_note = note.strip()
    event = change_stage(proposal, ProposalStage.DECLINED, actor, note=note.strip())
    cancel_open_meetings(proposal)
    if proposal.responded_at is None and proposal_role(actor, proposal) == Party.OWNER:
        proposal.responded_at = utcnow()
    if proposal.forwarded_at is not None:
        judged(proposal.need, proposal, "declined", actor)
    return event


def cancel_open_meetings(proposal: Proposal) -> None:
    """A closed case keeps no proposed or scheduled meeting."""
    for m in db.session.scalars(select(Meeting).where(Meeting.proposal_id == proposal.id,
                                                       Meeting.status.in_(("proposed", "scheduled")))):
        m.status = "cancelled"


def record_outcome(proposal: Proposal, *, actor: User, stage: str, on_date: date | None,
                   note: str = "") -> ProposalEvent:
    if stage not in OUTCOME_STAGES:
        raise ValidationFailed({"stage": [_("Choose an outcome.")]})
    if stage == ProposalStage.ENDED and not note.strip():
        raise ValidationFailed({"note": [_("Say why the case ended.")]})
    return change_stage(proposal, stage, actor, note=note.strip(), on_date=on_date or today_local())
