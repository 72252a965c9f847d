"""ORM events that keep the matcher in step with the database: every change to a
need, proposal or organisation profile appends an "app" entry to the change log
(MatchChange) in the same transaction; after the commit the worker is woken
(the request never waits for it)."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event, insert, select
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

from oims.extensions import db
from oims.matcher.documents import KIND_OF_MODEL, WATCHED
from oims.matcher.service import service
from oims.models import Invitation, MatchChange, Proposal
from oims.models.base import utcnow

log = logging.getLogger(__name__)

_PENDING = "oims_index_pending"
_SEEN = "oims_index_seen"


def _enabled_here() -> bool:
    return has_app_context() and bool(current_app.config.get("OIMS_MATCHING_ENABLED"))


def _changed(obj) -> bool:
    # Passive: an attribute that was never loaded cannot have changed, and loading
    # it here (one query per attribute) was most of this hook's cost in a request.
    return any(get_history(obj, name, passive=PASSIVE_NO_INITIALIZE).has_changes()
               for name in WATCHED[type(obj)])


def _after_flush(session, flush_context) -> None:
    if not _enabled_here():
        return
    keys = set()
    for obj in list(session.new) + list(session.deleted):
        kind = KIND_OF_MODEL.get(type(obj))
        if kind and obj.id is not None:
            keys.add((kind, obj.id))
    for obj in session.dirty:
        kind = KIND_OF_MODEL.get(type(obj))
        if kind and obj.id is not None and _changed(obj):
            keys.add((kind, obj.id))
    seen = session.info.setdefault(_SEEN, set())
    keys -= seen
    if not keys:
        return
    now = utcnow()
    session.connection().execute(
        insert(MatchChange.__table__),
        [{"origin": "app", "kind": k, "item_id": i, "created_at": now} for k, i in sorted(keys)],
    )
    seen |= keys
    session.info[_PENDING] = True


def _after_commit(session) -> None:
    session.info.pop(_SEEN, None)
    if not session.info.pop(_PENDING, False) or not _enabled_here():
        return
    service().kick()


def _after_rollback(session) -> None:
    session.info.pop(_SEEN, None)
    session.info.pop(_PENDING, None)


def _link_invitations(session, flush_context, instances) -> None:
    """A proposal from an invited organisation remembers its invitation (for hit rates).
    A proposal made with `invitation_id` given (None included: its maker looked) is left as it is."""
    new = [o for o in session.new if isinstance(o, Proposal) and o.invitation_id is None
           and not get_history(o, "invitation_id", passive=PASSIVE_NO_INITIALIZE).added]
    if not new:
        return
    with session.no_autoflush:
        for prop in new:
            if prop.need_id is None or prop.org_id is None:
                continue
            inv = session.scalar(select(Invitation.id).where(
                Invitation.need_id == prop.need_id, Invitation.org_id == prop.org_id
            ).order_by(Invitation.id.desc()).limit(1))
            if inv:
                prop.invitation_id = inv


_registered = False


def register_events() -> None:
    global _registered
    if _registered:
        return
    event.listen(db.session, "before_flush", _link_invitations)
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", lambda session, previous: _after_rollback(session))
    _registered = True
