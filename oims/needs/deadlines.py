"""The daily jobs on needs' proposal deadlines (`flask oims close-needs`, `remind-deadlines`).

Both flush and never commit; the command commits once."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from oims.audit.log import audit
from oims.core.concurrency import claim_state
from oims.core.timeutil import today_local
from oims.core.vocabulary import NeedStatus
from oims.extensions import db
from oims.models import AuditLog, Need
from oims.models.base import utcnow
from oims.needs.notices import proposer_users, tell, users_of_org
from oims.needs.services import stale_message

REMINDER_DAYS = (7, 1)


def close_expired(today: date | None = None) -> int:
    """Close published needs whose deadline has passed; returns how many."""
    today = today or today_local()
    needs = db.session.scalars(select(Need).where(
        Need.status == NeedStatus.PUBLISHED, Need.deadline < today)).all()
    for need in needs:
        claim_state(need, "status", NeedStatus.PUBLISHED, NeedStatus.CLOSED, stale_message, closed_at=utcnow())
        audit(None, "need.closed", need, reason="deadline")
    db.session.flush()
    return len(needs)


def remind_deadlines(today: date | None = None) -> int:
    """Tell owners and drafting proposers that a published need's deadline is
    near (7 days and 1 day before). Each reminder is sent once, whenever the
    command runs; returns the number of needs reminded."""
    today = today or today_local()
    needs = db.session.scalars(select(Need).where(
        Need.status == NeedStatus.PUBLISHED, Need.deadline >= today,
        Need.deadline <= today + timedelta(days=max(REMINDER_DAYS)))).all()
    count = 0
    for need in needs:
        days_left = (need.deadline - today).days
        threshold = min(d for d in REMINDER_DAYS if days_left <= d)
        action = f"need.reminded_{threshold}"
        done = db.session.scalar(select(AuditLog.id).where(
            AuditLog.action == action, AuditLog.object_type == "need", AuditLog.object_id == need.id).limit(1))
        if done:
            continue
        users = users_of_org(need.owner_org_id) + proposer_users(need, drafts_only=True)
        tell(users, need, "need_deadline",
             lambda n, o, d=days_left: _("The proposal deadline of “%(title)s” is in %(days)d day(s) (%(date)s).",
                                         title=n.title, days=d, date=n.deadline.isoformat()),
             lambda n, o: _("[OIMS] A proposal deadline is approaching"), "need_deadline", days_left=days_left)
        audit(None, action, need, days_left=days_left)
        count += 1
    db.session.flush()
    return count

