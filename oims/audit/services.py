"""Queries over the audit log (AuditLog); who may see what is `oims.policy`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from math import ceil
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from oims.extensions import db
from oims.models import AuditLog, Proposal, User
from oims.policy import audit_filter, owner_view_filter
from oims.web.pagination import ListPage

OBJECT_TYPES = ("need", "proposal", "meeting", "organisation", "user", "importjob", "endorsement", "apitoken")


class BadFilters(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass
class TrailFilters:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    since: date | None = None
    until: date | None = None


def _date(value: str, name: str, errors: dict) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Use a date like 2026-04-01.")
        return None


def parse_filters(args) -> TrailFilters:
    """Filters from query arguments; raises BadFilters with a message per field."""
    errors: dict[str, str] = {}
    f = TrailFilters(actor=(args.get("actor") or "").strip()[:200], action=(args.get("action") or "").strip()[:60])
    kind = args.get("object_type") or ""
    if kind and kind not in OBJECT_TYPES:
        errors["object_type"] = _("Unknown object type.")
    f.object_type = kind
    raw_id = (args.get("object_id") or "").strip()
    if raw_id:
        if raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10:
            f.object_id = int(raw_id)
        else:
            errors["object_id"] = _("Give a whole number.")
    f.since = _date(args.get("from") or "", "from", errors)
    f.until = _date(args.get("to") or "", "to", errors)
    if f.since and f.until and f.since > f.until:
        errors["to"] = _("The end date is before the start date.")
    if errors:
        raise BadFilters(errors)
    return f


def _day_start(day: date) -> datetime:
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo"))
    return datetime.combine(day, time.min, tzinfo=tz)


def trail_query(user: User, f: TrailFilters) -> Select:
    """(AuditLog, actor User or None) rows `user` may see, newest first."""
    q = (select(AuditLog, User).outerjoin(User, User.id == AuditLog.actor_id)
         .where(audit_filter(user)))
    if f.actor:
        like = f"%{f.actor.replace('%', '').replace('_', '')}%"
        q = q.where((User.name.ilike(like)) | (User.email.ilike(like)))
    if f.action:
        q = q.where(AuditLog.action.startswith(f.action, autoescape=True))
    if f.object_type:
        q = q.where(AuditLog.object_type == f.object_type)
    if f.object_id is not None:
        q = q.where(AuditLog.object_id == f.object_id)
    if f.since:
        q = q.where(AuditLog.created_at >= _day_start(f.since))
    if f.until:
        q = q.where(AuditLog.created_at < _day_start(f.until + timedelta(days=1)))
    return q.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())


def actions_for(user: User) -> list[str]:
    """The distinct actions in the part of the trail `user` may see (for the filter)."""
    return list(db.session.scalars(select(AuditLog.action).where(audit_filter(user)).distinct()
                                   .order_by(AuditLog.action)))


def owner_views_query(user: User) -> Select:
    """(AuditLog, viewer User, Proposal): views of the proposals forwarded to `user`'s organisation."""
    return (select(AuditLog, User, Proposal)
            .outerjoin(User, User.id == AuditLog.actor_id)
            .join(Proposal, Proposal.id == AuditLog.object_id)
            .where(owner_view_filter(user))
            .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()))


def first_owner_view(proposal: Proposal) -> datetime | None:
    """When the need owner first opened `proposal` (None if never). Says
    nothing about who: the proposer may not know an anonymous owner."""
    return db.session.scalar(select(func.min(AuditLog.created_at)).where(
        AuditLog.action == "proposal.viewed_by_owner", AuditLog.object_type == "proposal",
        AuditLog.object_id == proposal.id))


class RowPage(ListPage):
    """A page of result rows (tuples) read with LIMIT/OFFSET, with the
    interface `_partials/pagination.html` reads."""

    def __init__(self, query: Select, page: int, per_page: int):  # noqa: D107 - no super().__init__: rows come from SQL
        self.total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        self.per_page = per_page
        self.pages = max(ceil(self.total / per_page), 1)
        self.page = min(max(page, 1), self.pages)
        self.items = db.session.execute(query.limit(per_page).offset((self.page - 1) * per_page)).all()


def page_number(args) -> int:
    raw = args.get("page") or "1"
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
