"""Themed calls: create, edit, attach and detach needs, list open calls, KPI.

Every function flushes and never commits; the caller commits once.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.audit.log import audit
from oims.core import reference as ref
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.timeutil import today_local
from oims.core.vocabulary import NeedStatus, ProposalStage
from oims.extensions import db
from oims.models import Meeting, Need, Proposal, ThemedCall, ThemedCallNeed, User
from oims.policy import call_needs_filter, can_manage_call, can_run_calls

FIELDS = ("title", "title_en", "description", "deadline", "bureau")


def bureau_choices(user: User) -> list[str]:
    """The bureaus `user` may run a call for: admins any, others their own."""
    return [b.code for b in ref.BUREAUS] if user.is_admin else [user.bureau]


def _clean(data: dict, actor: User, *, is_new: bool, keep_bureau: str = "") -> dict:
    errors: dict[str, list[str]] = {}
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = [_("Give the call a title.")]
    elif len(title) > 200:
        errors["title"] = [_("At most 200 characters.")]
    title_en = (data.get("title_en") or "").strip()
    if len(title_en) > 200:
        errors["title_en"] = [_("At most 200 characters.")]
    deadline = data.get("deadline")
    if not isinstance(deadline, date):
        errors["deadline"] = [_("Give the deadline for proposals.")]
    elif is_new and deadline < today_local():
        errors["deadline"] = [_("The deadline cannot be in the past.")]
    bureau = data.get("bureau") or keep_bureau or actor.bureau
    if bureau not in bureau_choices(actor) and bureau != keep_bureau:
        errors["bureau"] = [_("Choose your own bureau.")]
    if errors:
        raise ValidationFailed(errors)
    return {"title": title, "title_en": title_en, "description": (data.get("description") or "").strip(),
            "deadline": deadline, "bureau": bureau}


def create_call(data: dict, *, actor: User) -> ThemedCall:
    if not can_run_calls(actor):
        raise NotAllowed
    call = ThemedCall(org_id=actor.organisation_id, created_by_id=actor.id, **_clean(data, actor, is_new=True))
    db.session.add(call)
    db.session.flush()
    audit(actor, "call.created", call, title=call.title)
    return call


def update_call(call: ThemedCall, data: dict, *, actor: User) -> ThemedCall:
    if not can_manage_call(actor, call):
        raise NotAllowed
    values = _clean(data, actor, is_new=False, keep_bureau=call.bureau)
    for key, value in values.items():
        setattr(call, key, value)
    db.session.flush()
    audit(actor, "call.updated", call)
    return call


def attachable_needs(call: ThemedCall) -> list[Need]:
    """Published needs not yet in the call, newest first."""
    taken = select(ThemedCallNeed.need_id).where(ThemedCallNeed.call_id == call.id)
    return list(db.session.scalars(select(Need).where(call_needs_filter(), Need.id.notin_(taken))
                                   .order_by(Need.published_at.desc(), Need.id.desc()).limit(500)))


def attach_need(call: ThemedCall, need: Need | None, *, actor: User) -> ThemedCallNeed:
    if not can_manage_call(actor, call):
        raise NotAllowed
    if need is None or need.status != NeedStatus.PUBLISHED:
        # Publication is the owner's consent to being listed; drafts and closed needs are not.
        raise ValidationFailed({"need_id": [_("Only published needs can join a call.")]})
    if db.session.scalar(select(ThemedCallNeed.id).where(ThemedCallNeed.call_id == call.id,
                                                         ThemedCallNeed.need_id == need.id)):
        raise ValidationFailed({"need_id": [_("This need is already in the call.")]})
    entry = ThemedCallNeed(call_id=call.id, need_id=need.id, added_by_id=actor.id)
    db.session.add(entry)
    db.session.flush()
    audit(actor, "call.need_added", call, need_id=need.id)
    return entry


def detach_need(call: ThemedCall, need_id: int, *, actor: User) -> bool:
    if not can_manage_call(actor, call):
        raise NotAllowed
    entry = db.session.scalar(select(ThemedCallNeed).where(ThemedCallNeed.call_id == call.id,
                                                           ThemedCallNeed.need_id == need_id))
    if entry is None:
        return False
    db.session.delete(entry)
    db.session.flush()
    audit(actor, "call.need_removed", call, need_id=need_id)
    return True


def listed_needs(call: ThemedCall) -> list[Need]:
    """The needs the call's public page lists: attached and still published."""
    return list(db.session.scalars(
        select(Need).join(ThemedCallNeed, ThemedCallNeed.need_id == Need.id)
        .where(ThemedCallNeed.call_id == call.id, call_needs_filter()).order_by(ThemedCallNeed.id)))


def open_calls(limit: int = 10) -> list[ThemedCall]:
    """Calls whose deadline has not passed, soonest deadline first."""
    return list(db.session.scalars(select(ThemedCall).where(ThemedCall.deadline >= today_local())
                                   .order_by(ThemedCall.deadline, ThemedCall.id).limit(limit)))


def all_calls() -> tuple[list[ThemedCall], list[ThemedCall]]:
    today = today_local()
    calls = list(db.session.scalars(select(ThemedCall).order_by(ThemedCall.deadline.desc(), ThemedCall.id)))
    return ([c for c in reversed(calls) if c.deadline >= today], [c for c in calls if c.deadline < today])


def needs_count(call_ids: list[int]) -> dict[int, int]:
    if not call_ids:
        return {}
    rows = db.session.execute(
        select(ThemedCallNeed.call_id, func.count()).join(Need, Need.id == ThemedCallNeed.need_id)
        .where(ThemedCallNeed.call_id.in_(call_ids), call_needs_filter()).group_by(ThemedCallNeed.call_id))
    return dict(rows.all())


def call_kpi(call: ThemedCall) -> dict:
    """Per need of the call (all attached, whatever their state): proposals
    submitted (not drafts), meetings agreed or held, and the totals."""
    entries = list(db.session.scalars(select(ThemedCallNeed).where(ThemedCallNeed.call_id == call.id)
                                      .order_by(ThemedCallNeed.id)))
    ids = [e.need_id for e in entries]
    proposals, meetings = {}, {}
    if ids:
        proposals = dict(db.session.execute(
            select(Proposal.need_id, func.count()).where(Proposal.need_id.in_(ids), Proposal.stage != ProposalStage.DRAFT)
            .group_by(Proposal.need_id)).all())
        meetings = dict(db.session.execute(
            select(Proposal.need_id, func.count(Meeting.id)).join(Meeting, Meeting.proposal_id == Proposal.id)
            .where(Proposal.need_id.in_(ids), Meeting.status.in_(("scheduled", "held")))
            .group_by(Proposal.need_id)).all())
    rows = [{"need": e.need, "proposals": proposals.get(e.need_id, 0), "meetings": meetings.get(e.need_id, 0)}
            for e in entries]
    return {"rows": rows, "needs": len(rows), "proposals": sum(r["proposals"] for r in rows),
            "meetings": sum(r["meetings"] for r in rows)}
