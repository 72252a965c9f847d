"""Needs: the verbs of a need's life — create, edit, attach, submit, publish,
return, withdraw, fulfil.

Every function flushes and never commits; the caller (a view, the API, a
CLI command) commits once. Refusals are `NotAllowed` (the actor may not do
this) or `ValidationFailed` (the input or the state is wrong, with messages).

Lifecycle: draft → review → published | returned (→ review again) →
closed (deadline, `oims.needs.deadlines`) | withdrawn | fulfilled.

Next door: `validation` (the fields), `anonymity` (the identifying-text gate),
`versions` (history and diffs), `search` (search text and lists), `notices`
(who is told), `deadlines` (the daily jobs).
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.audit.log import audit
from oims.core import reference as ref
from oims.core.concurrency import claim_state
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.timeutil import today_local
from oims.core.vocabulary import (
    FULFILLABLE_NEED_STATUSES,
    SUBMITTABLE_NEED_STATUSES,
    WITHDRAWABLE_NEED_STATUSES,
    NeedStatus,
    Role,
)
from oims.extensions import db
from oims.matchfeed.alerts import safe_push_new_need
from oims.models import Attachment, Need, User
from oims.models.base import utcnow
from oims.needs.aliases import assign_alias
from oims.needs.anonymity import require_anonymity
from oims.needs.labels import status_labels
from oims.needs.notices import coordinators_of, proposer_users, tell, users_of_org
from oims.needs.search import refresh_search_text
from oims.needs.uploads import clean_for_anonymity, delete_attachment, save_upload
from oims.needs.validation import LIMITS, clean_need_data, too_long
from oims.needs.versions import COORDINATOR_EDIT, EDIT_AFTER_PUBLISH, coordinator_edits, record_version
from oims.policy import can_edit_need, can_manage_need, is_need_owner, may_fulfil_need, may_withdraw_need

MAX_ATTACHMENTS = 10


def accepts_proposals(need: Need, today: date | None = None) -> bool:
    """Published and the deadline not yet passed (the deadline day itself counts)."""
    return (need.status == NeedStatus.PUBLISHED and need.deadline is not None
            and need.deadline >= (today or today_local()))


# --- refusals -----------------------------------------------------------------------------------

def _require(cond: bool) -> None:
    if not cond:
        raise NotAllowed()


def state_error(need: Need) -> ValidationFailed:
    """The refusal of an action the need's status does not allow."""
    return ValidationFailed(_("This is not possible while the need is “%(status)s”.",
                              status=status_labels()[need.status]))


def stale_message(current: str | None) -> str:
    """What `claim_state` says when another request changed the need's status first."""
    if current is None:
        return _("Someone else changed this need in the meantime. Nothing was changed; reload the page.")
    return _("Someone else changed this need in the meantime: it is now “%(status)s”. Nothing was changed.",
             status=status_labels().get(current, current))


# --- creating and editing ------------------------------------------------------------------

def create_need(owner_user: User, data: dict) -> Need:
    if owner_user.role != Role.NEED_OWNER or owner_user.organisation.kind not in ref.OWNER_KINDS:
        raise NotAllowed()
    clean = clean_need_data(data)
    org = owner_user.organisation
    need = Need(owner_org_id=org.id, owner_org=org, created_by_id=owner_user.id, status=NeedStatus.DRAFT,
                bureau=org.bureau, **clean)
    db.session.add(need)
    if need.anonymous:
        assign_alias(need)
    refresh_search_text(need)
    db.session.flush()
    audit(owner_user, "need.created", need)
    return need


def _apply(need: Need, clean: dict) -> list[str]:
    changed = []
    for key, value in clean.items():
        if getattr(need, key) != value:
            setattr(need, key, value)
            changed.append(key)
    return changed


def update_need(need: Need, data: dict, actor: User, *, partial: bool = False) -> list[str]:
    """Change a need's fields; returns the names of the changed fields.

    The owner edits drafts, returned and published needs; the bureau's
    coordinator edits needs under review and published ones. Changes after
    publication are versioned and its proposers are told.
    """
    if not can_edit_need(actor, need):
        raise NotAllowed()
    clean = clean_need_data(data, partial=partial, current=need)
    if need.status == NeedStatus.PUBLISHED and need.anonymous and clean.get("anonymous") is False:
        # Proposers saw it anonymously; the owner is revealed through a meeting.
        raise ValidationFailed({"anonymous": [_("A published anonymous need cannot be made public.")]})
    changes = {k: v for k, v in clean.items() if getattr(need, k) != v}
    if not changes:
        return []
    was_anonymous = need.anonymous
    version = None
    if need.status in (NeedStatus.REVIEW, NeedStatus.PUBLISHED):
        reason = EDIT_AFTER_PUBLISH if need.status == NeedStatus.PUBLISHED else COORDINATOR_EDIT
        version = record_version(need, actor, reason)
    changed = _apply(need, changes)
    if need.anonymous and not was_anonymous:
        assign_alias(need)
    if need.anonymous:
        clean_for_anonymity(need)
    refresh_search_text(need)
    db.session.flush()
    audit(actor, "need.updated", need, fields=changed, version=need.version)
    if need.status == NeedStatus.PUBLISHED and version is not None:
        _tell_changed(need, changed)
    return changed


def _tell_changed(need: Need, changed: list[str]) -> None:
    tell(proposer_users(need), need, "need_changed",
         lambda n, o: _("The need “%(title)s” (%(owner)s) you proposed to was changed.", title=n.title, owner=o),
         lambda n, o: _("[OIMS] A need you proposed to was changed"),
         "need_changed", fields=changed)


# --- attachments --------------------------------------------------------------------------------

def attach_files(need: Need, files: list, actor: User) -> list:
    """Store uploaded files on `need` (ValidationFailed on a wrong type, size or count)."""
    files = [f for f in files or [] if f is not None and getattr(f, "filename", "")]
    if not files:
        return []
    existing = db.session.scalar(select(func.count(Attachment.id)).where(Attachment.need_id == need.id)) or 0
    if existing + len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed({"attachments": [
            _("At most %(max)d files can be attached to a need.", max=MAX_ATTACHMENTS)]})
    saved = [save_upload(f, need=need, actor=actor) for f in files]
    for att in saved:
        audit(actor, "need.attachment_added", need, filename=att.filename, sha256=att.sha256)
    return saved


def remove_attachment(need: Need, att, actor: User) -> None:
    audit(actor, "need.attachment_removed", need, filename=att.filename, sha256=att.sha256)
    delete_attachment(att)


# --- lifecycle ----------------------------------------------------------------------------------

def submit_for_review(need: Need, actor: User, *, acknowledged: bool = False) -> Need:
    _require(is_need_owner(actor, need))
    if need.status not in SUBMITTABLE_NEED_STATUSES:
        raise state_error(need)
    if need.deadline <= today_local():
        raise ValidationFailed({"deadline": [_("The proposal deadline must be in the future.")]})
    if need.anonymous:
        clean_for_anonymity(need)
        require_anonymity(need, actor, acknowledged=acknowledged)
    claim_state(need, "status", SUBMITTABLE_NEED_STATUSES, NeedStatus.REVIEW, stale_message,
                submitted_at=utcnow(), bureau=need.owner_org.bureau)
    audit(actor, "need.submitted", need)
    tell(coordinators_of(need.bureau), need, "need_submitted",
         lambda n, o: _("New need for review: “%(title)s” (%(owner)s)", title=n.title, owner=o),
         lambda n, o: _("[OIMS] A need was submitted for review"), "need_submitted")
    return need


def publish(need: Need, coordinator: User, edits: dict | None = None, *, override_reason: str = "") -> Need:
    _require(can_manage_need(coordinator, need))
    if need.status != NeedStatus.REVIEW:
        raise state_error(need)
    if need.deadline <= today_local() and not (edits and "deadline" in edits):
        raise ValidationFailed({"deadline": [_("The proposal deadline must be in the future.")]})
    if edits:
        clean = clean_need_data(edits, partial=True, current=need)
        if any(clean[k] != getattr(need, k) for k in clean):
            record_version(need, coordinator, COORDINATOR_EDIT)
            changed = _apply(need, clean)
            if need.anonymous and not need.alias:
                assign_alias(need)
            refresh_search_text(need)
            audit(coordinator, "need.edited_by_coordinator", need, fields=changed)
    if need.anonymous:
        # Whatever the path that made it anonymous, nothing is published uncleaned.
        assign_alias(need)
        refresh_search_text(need)
        clean_for_anonymity(need)
        require_anonymity(need, coordinator, override_reason=override_reason, stage="publication")
    claim_state(need, "status", NeedStatus.REVIEW, NeedStatus.PUBLISHED, stale_message,
                published_at=utcnow(), published_by_id=coordinator.id)
    audit(coordinator, "need.published", need)
    tell(users_of_org(need.owner_org_id), need, "need_published",
         lambda n, o: _("Your need “%(title)s” was published.", title=n.title),
         lambda n, o: _("[OIMS] Your need was published"), "need_published",
         edited=bool(coordinator_edits(need)))
    safe_push_new_need(need)  # matching proposers who opted in (capped per organisation per week)
    return need


def return_need(need: Need, coordinator: User, comment: str) -> Need:
    _require(can_manage_need(coordinator, need))
    if need.status != NeedStatus.REVIEW:
        raise state_error(need)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed({"comment": [_("Say what the owner should change.")]})
    if len(comment) > LIMITS["comment"]:
        raise ValidationFailed({"comment": [too_long(LIMITS["comment"], comment)]})
    claim_state(need, "status", NeedStatus.REVIEW, NeedStatus.RETURNED, stale_message, review_comment=comment)
    audit(coordinator, "need.returned", need)
    tell(users_of_org(need.owner_org_id), need, "need_returned",
         lambda n, o: _("Your need “%(title)s” was returned with comments.", title=n.title),
         lambda n, o: _("[OIMS] Your need was returned with comments"), "need_returned", comment=comment)
    return need


def withdraw(need: Need, actor: User) -> Need:
    _require(may_withdraw_need(actor, need))
    if need.status not in WITHDRAWABLE_NEED_STATUSES:
        raise state_error(need)
    was_published = need.status == NeedStatus.PUBLISHED
    claim_state(need, "status", need.status, NeedStatus.WITHDRAWN, stale_message, closed_at=utcnow())
    audit(actor, "need.withdrawn", need)
    if was_published:
        tell(proposer_users(need), need, "need_withdrawn",
             lambda n, o: _("The need “%(title)s” (%(owner)s) was withdrawn.", title=n.title, owner=o),
             lambda n, o: _("[OIMS] A need you proposed to was withdrawn"), "need_withdrawn")
    return need


def mark_fulfilled(need: Need, actor: User) -> Need:
    _require(may_fulfil_need(actor, need))
    if need.status not in FULFILLABLE_NEED_STATUSES:
        raise state_error(need)
    claim_state(need, "status", need.status, NeedStatus.FULFILLED, stale_message,
                closed_at=need.closed_at or utcnow())
    audit(actor, "need.fulfilled", need)
    return need
