"""Needs: creation, lifecycle, versions, search, reminders.

Every function flushes and never commits; the caller (a view, the API, a
CLI command) commits once. Refusals are `NotAllowed` (the actor may not do
this) or `ValidationFailed` (the input or the state is wrong, with messages).

Lifecycle: draft → review → published | returned (→ review again) →
closed (deadline) | withdrawn | fulfilled.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.audit.log import audit
from oims.core import reference as ref
from oims.core.concurrency import claim_state
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.models import AuditLog, Need, NeedVersion, Proposal, User
from oims.models.base import utcnow
from oims.models.proposals import INACTIVE_STAGES
from oims.needs.aliases import assign_alias
from oims.needs.uploads import clean_for_anonymity, save_upload, send_attachment
from oims.policy import can_edit_need, can_manage_need, is_need_owner, owner_label

LIMITS = {"title": 200, "summary": 2000, "background": 5000, "sought": 5000, "budget": 200,
          "desired_start": 100, "keyword": 50, "comment": 2000}
MAX_KEYWORDS = 15
WITHDRAWABLE = ("draft", "review", "returned", "published")
REMINDER_DAYS = (7, 1)


# --- helpers -----------------------------------------------------------------------

def normalise(text: str) -> str:
    """NFKC + lower case: full-width letters, half-width kana and case all match."""
    return unicodedata.normalize("NFKC", text or "").lower()


def search_terms(q: str) -> list[str]:
    return [t for t in normalise(q).split() if t][:10]


def keyword_tag(keyword: str) -> str:
    return f"[{normalise(keyword).strip()}]"


def refresh_search_text(need: Need) -> None:
    """Rebuild Need.search_text. Anonymous needs carry their alias, never the
    owner's name, so searching for the firm cannot find them."""
    org = need.owner_org
    if need.anonymous:
        who = [need.alias, need.alias_en]
    else:
        who = [org.name, org.name_en, org.name_kana] if org else []
    parts = [need.title, need.summary, need.background, need.sought, " ".join(need.keywords or []),
             " ".join(w for w in who if w), " ".join(keyword_tag(k) for k in need.keywords or [])]
    need.search_text = normalise("\n".join(p for p in parts if p))


def accepts_proposals(need: Need, today: date | None = None) -> bool:
    """Published and the deadline not yet passed (the deadline day itself counts)."""
    return need.status == "published" and need.deadline is not None and need.deadline >= (today or today_local())


def _users_of_org(org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == org_id, User.status == "active").order_by(User.id)))


def _coordinators_of(bureau: str) -> list[User]:
    from oims.models import Organisation

    return list(db.session.scalars(select(User).join(Organisation, User.organisation_id == Organisation.id).where(
        User.role == "coordinator", User.status == "active", Organisation.bureau == bureau).order_by(User.id)))


def proposer_users(need: Need, *, drafts_only: bool = False) -> list[User]:
    """Active users of organisations with an active (or, with drafts_only, a draft) proposal."""
    cond = Proposal.stage == "draft" if drafts_only else Proposal.stage.notin_(INACTIVE_STAGES)
    org_ids = select(Proposal.org_id).where(Proposal.need_id == need.id, cond)
    return list(db.session.scalars(select(User).where(
        User.organisation_id.in_(org_ids), User.status == "active").order_by(User.id)))


def _need_url(need: Need) -> str:
    try:
        return url_for("needs.view", need_id=need.id)
    except Exception:  # noqa: BLE001 - outside a request with no SERVER_NAME
        return f"/needs/{need.id}"


def _tell(users, need: Need, kind: str, text_fn, subject_fn, template: str, **context) -> None:
    """Notify each user in their language; the owner is named as each may see it."""
    for user in users:
        locale = user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "ja")
        owner = owner_label(need, user, locale)
        notify(user, kind, lambda u=user, o=owner: text_fn(need, o), _need_url(need),
               email_template=template, subject=lambda o=owner: subject_fn(need, o),
               need=need, owner=owner, **context)


# --- validation --------------------------------------------------------------------------

def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        for sep in ("、", "，", ",", "\n", ";"):
            value = value.replace(sep, ",")
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _as_date(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return "invalid"


def clean_need_data(data: dict, *, partial: bool = False, current: Need | None = None) -> dict:
    """Validate need fields (from a form or JSON); return clean values or raise
    ValidationFailed with a message per field. `partial`: only the keys given."""
    errors: dict[str, list[str]] = {}
    out: dict = {}

    def err(field, message):
        errors.setdefault(field, []).append(message)

    def has(key):
        return key in data or not partial

    for field in ("title", "summary", "background", "sought", "budget", "desired_start"):
        if not has(field):
            continue
        value = str(data.get(field) or "").strip()
        if field in ("title", "summary") and not value:
            err(field, _("This field is required."))
        elif len(value) > LIMITS[field]:
            err(field, _("At most %(max)d characters (now %(n)d).", max=LIMITS[field], n=len(value)))
        out[field] = value
    if has("partnership_types"):
        types = _as_list(data.get("partnership_types"))
        if not types:
            err("partnership_types", _("Choose at least one partnership type."))
        elif any(t not in ref.PARTNERSHIP_BY_CODE for t in types):
            err("partnership_types", _("Unknown partnership type."))
        out["partnership_types"] = list(dict.fromkeys(types))
    if has("keywords"):
        kws = list(dict.fromkeys(_as_list(data.get("keywords"))))
        if len(kws) > MAX_KEYWORDS:
            err("keywords", _("At most %(max)d keywords.", max=MAX_KEYWORDS))
        elif any(len(k) > LIMITS["keyword"] for k in kws):
            err("keywords", _("Each keyword may have at most %(max)d characters.", max=LIMITS["keyword"]))
        out["keywords"] = kws
    if has("regions"):
        regions = _as_list(data.get("regions"))
        if any(r not in ref.BUREAU_BY_CODE for r in regions):
            err("regions", _("Unknown region."))
        out["regions"] = list(dict.fromkeys(regions))
    if has("deadline"):
        deadline = _as_date(data.get("deadline"))
        if deadline is None:
            err("deadline", _("This field is required."))
        elif deadline == "invalid":
            err("deadline", _("Enter a date as YYYY-MM-DD."))
        elif deadline <= today_local() and not (current is not None and current.deadline == deadline):
            err("deadline", _("The proposal deadline must be in the future."))
        elif deadline > today_local() + timedelta(days=730):
            err("deadline", _("The proposal deadline may be at most two years ahead."))
        else:
            out["deadline"] = deadline
    if has("anonymous"):
        value = data.get("anonymous")
        out["anonymous"] = value in (True, "y", "on", "true", "1", 1) if not isinstance(value, bool) else value
    if errors:
        raise ValidationFailed(errors)
    return out


# --- the identifying-text check --------------------------------------------------------------

class IdentifyingText(ValidationFailed):
    """An anonymous need's text or files name its owner; `findings` says where."""

    def __init__(self, findings: list, message: str):
        self.findings = findings
        super().__init__({"": [message]})


def require_anonymity(need: Need, actor: User, *, acknowledged: bool = False, override_reason: str = "",
                      stage: str = "submission") -> list:
    """Before submission (owner) and publication (coordinator) of an anonymous need.

    The owner goes on after acknowledging the findings; the coordinator only
    with a reason. Either is audit-logged with what was found. Returns the findings.
    """
    from oims.needs import identity

    if not need.anonymous:
        return []
    findings = identity.check_need(need)
    if not findings:
        return []
    if stage == "publication":
        reason = (override_reason or "").strip()
        if not reason:
            raise IdentifyingText(findings, _(
                "The need is to be published anonymously but its text or files name the owner. Redact them, "
                "return the need to its owner, or publish anyway with a reason."))
        if len(reason) > LIMITS["comment"]:
            raise ValidationFailed({"": [_("At most %(max)d characters (now %(n)d).", max=LIMITS["comment"],
                                          n=len(reason))]})
        audit(actor, "need.anonymity_override", need, reason=reason, findings=identity.summary(findings))
    else:
        if not acknowledged:
            raise IdentifyingText(findings, _(
                "Your need is anonymous, but its text or files name your organisation. Redact the marked "
                "words, or confirm that they may stay."))
        audit(actor, "need.identifying_text_acknowledged", need, findings=identity.summary(findings))
    return findings


# --- creating and editing ------------------------------------------------------------------

def create_need(owner_user: User, data: dict) -> Need:
    if owner_user.role != "need_owner" or owner_user.organisation.kind not in ref.OWNER_KINDS:
        raise NotAllowed()
    clean = clean_need_data(data)
    org = owner_user.organisation
    need = Need(owner_org_id=org.id, owner_org=org, created_by_id=owner_user.id, status="draft",
                bureau=org.bureau, **clean)
    db.session.add(need)
    if need.anonymous:
        assign_alias(need)
    refresh_search_text(need)
    db.session.flush()
    audit(owner_user, "need.created", need)
    return need


def _record_version(need: Need, actor: User, reason: str) -> NeedVersion:
    version = NeedVersion(need=need, version=need.version, snapshot=need.snapshot(),
                          changed_by_id=actor.id, reason=reason)
    db.session.add(version)
    need.version += 1
    return version


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
    if need.status == "published" and need.anonymous and clean.get("anonymous") is False:
        # Proposers saw it anonymously; the owner is revealed through a meeting.
        raise ValidationFailed({"anonymous": [_("A published anonymous need cannot be made public.")]})
    changes = {k: v for k, v in clean.items() if getattr(need, k) != v}
    if not changes:
        return []
    was_anonymous = need.anonymous
    version = None
    if need.status in ("review", "published"):
        reason = "edit_after_publish" if need.status == "published" else "coordinator_edit"
        version = _record_version(need, actor, reason)
    changed = _apply(need, changes)
    if need.anonymous and not was_anonymous:
        assign_alias(need)
    if need.anonymous:
        clean_for_anonymity(need)
    refresh_search_text(need)
    db.session.flush()
    audit(actor, "need.updated", need, fields=changed, version=need.version)
    if need.status == "published" and version is not None:
        _tell_changed(need, changed)
    return changed


def _tell_changed(need: Need, changed: list[str]) -> None:
    _tell(proposer_users(need), need, "need_changed",
          lambda n, o: _("The need “%(title)s” (%(owner)s) you proposed to was changed.", title=n.title, owner=o),
          lambda n, o: _("[OIMS] A need you proposed to was changed"),
          "need_changed", fields=changed)


# --- attachments --------------------------------------------------------------------------------

MAX_ATTACHMENTS = 10


def attach_files(need: Need, files: list, actor: User) -> list:
    """Store uploaded files on `need` (ValidationFailed on a wrong type, size or count)."""
    from oims.models import Attachment

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
    from oims.needs.uploads import delete_attachment

    audit(actor, "need.attachment_removed", need, filename=att.filename, sha256=att.sha256)
    delete_attachment(att)


# --- lifecycle ----------------------------------------------------------------------------------

def _require(cond: bool) -> None:
    if not cond:
        raise NotAllowed()


def _state_error(need: Need) -> ValidationFailed:
    return ValidationFailed(_("This is not possible while the need is “%(status)s”.",
                              status=status_labels()[need.status]))


def _stale_message(current: str | None) -> str:
    if current is None:
        return _("Someone else changed this need in the meantime. Nothing was changed; reload the page.")
    return _("Someone else changed this need in the meantime: it is now “%(status)s”. Nothing was changed.",
             status=status_labels().get(current, current))


def submit_for_review(need: Need, actor: User, *, acknowledged: bool = False) -> Need:
    _require(is_need_owner(actor, need))
    if need.status not in ("draft", "returned"):
        raise _state_error(need)
    if need.deadline <= today_local():
        raise ValidationFailed({"deadline": [_("The proposal deadline must be in the future.")]})
    if need.anonymous:
        clean_for_anonymity(need)
        require_anonymity(need, actor, acknowledged=acknowledged)
    claim_state(need, "status", ("draft", "returned"), "review", _stale_message,
                submitted_at=utcnow(), bureau=need.owner_org.bureau)
    audit(actor, "need.submitted", need)
    _tell(_coordinators_of(need.bureau), need, "need_submitted",
          lambda n, o: _("New need for review: “%(title)s” (%(owner)s)", title=n.title, owner=o),
          lambda n, o: _("[OIMS] A need was submitted for review"), "need_submitted")
    return need


def publish(need: Need, coordinator: User, edits: dict | None = None, *, override_reason: str = "") -> Need:
    _require(can_manage_need(coordinator, need))
    if need.status != "review":
        raise _state_error(need)
    if need.deadline <= today_local() and not (edits and "deadline" in edits):
        raise ValidationFailed({"deadline": [_("The proposal deadline must be in the future.")]})
    if edits:
        clean = clean_need_data(edits, partial=True, current=need)
        if any(clean[k] != getattr(need, k) for k in clean):
            _record_version(need, coordinator, "coordinator_edit")
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
    claim_state(need, "status", "review", "published", _stale_message,
                published_at=utcnow(), published_by_id=coordinator.id)
    audit(coordinator, "need.published", need)
    _tell(_users_of_org(need.owner_org_id), need, "need_published",
          lambda n, o: _("Your need “%(title)s” was published.", title=n.title),
          lambda n, o: _("[OIMS] Your need was published"), "need_published",
          edited=bool(coordinator_edits(need)))
    from oims.matchfeed.alerts import safe_push_new_need

    safe_push_new_need(need)  # matching proposers who opted in (capped per organisation per week)
    return need


def return_need(need: Need, coordinator: User, comment: str) -> Need:
    _require(can_manage_need(coordinator, need))
    if need.status != "review":
        raise _state_error(need)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed({"comment": [_("Say what the owner should change.")]})
    if len(comment) > LIMITS["comment"]:
        raise ValidationFailed({"comment": [_("At most %(max)d characters (now %(n)d).",
                                              max=LIMITS["comment"], n=len(comment))]})
    claim_state(need, "status", "review", "returned", _stale_message, review_comment=comment)
    audit(coordinator, "need.returned", need)
    _tell(_users_of_org(need.owner_org_id), need, "need_returned",
          lambda n, o: _("Your need “%(title)s” was returned with comments.", title=n.title),
          lambda n, o: _("[OIMS] Your need was returned with comments"), "need_returned", comment=comment)
    return need


def withdraw(need: Need, actor: User) -> Need:
    _require(is_need_owner(actor, need) or (actor.is_admin))
    if need.status not in WITHDRAWABLE:
        raise _state_error(need)
    was_published = need.status == "published"
    claim_state(need, "status", need.status, "withdrawn", _stale_message, closed_at=utcnow())
    audit(actor, "need.withdrawn", need)
    if was_published:
        _tell(proposer_users(need), need, "need_withdrawn",
              lambda n, o: _("The need “%(title)s” (%(owner)s) was withdrawn.", title=n.title, owner=o),
              lambda n, o: _("[OIMS] A need you proposed to was withdrawn"), "need_withdrawn")
    return need


def mark_fulfilled(need: Need, actor: User) -> Need:
    _require(is_need_owner(actor, need) or can_manage_need(actor, need))
    if need.status not in ("published", "closed"):
        raise _state_error(need)
    claim_state(need, "status", need.status, "fulfilled", _stale_message, closed_at=need.closed_at or utcnow())
    audit(actor, "need.fulfilled", need)
    return need


def close_expired(today: date | None = None) -> int:
    """Close published needs whose deadline has passed; returns how many."""
    today = today or today_local()
    needs = db.session.scalars(select(Need).where(Need.status == "published", Need.deadline < today)).all()
    for need in needs:
        claim_state(need, "status", "published", "closed", _stale_message, closed_at=utcnow())
        audit(None, "need.closed", need, reason="deadline")
    db.session.flush()
    return len(needs)


def remind_deadlines(today: date | None = None) -> int:
    """Tell owners and drafting proposers that a published need's deadline is
    near (7 days and 1 day before). Each reminder is sent once, whenever the
    command runs; returns the number of needs reminded."""
    today = today or today_local()
    needs = db.session.scalars(select(Need).where(
        Need.status == "published", Need.deadline >= today,
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
        users = _users_of_org(need.owner_org_id) + proposer_users(need, drafts_only=True)
        _tell(users, need, "need_deadline",
              lambda n, o, d=days_left: _("The proposal deadline of “%(title)s” is in %(days)d day(s) (%(date)s).",
                                          title=n.title, days=d, date=n.deadline.isoformat()),
              lambda n, o: _("[OIMS] A proposal deadline is approaching"), "need_deadline", days_left=days_left)
        audit(None, action, need, days_left=days_left)
        count += 1
    db.session.flush()
    return count


def status_labels() -> dict[str, str]:
    return {"draft": _("Draft"), "review": _("Under review"), "returned": _("Returned with comments"),
            "published": _("Published"), "closed": _("Closed"), "withdrawn": _("Withdrawn"),
            "fulfilled": _("Fulfilled")}


def field_labels() -> dict[str, str]:
    return {"title": _("Title"), "summary": _("Public summary"), "background": _("Background and problem"),
            "sought": _("Technology or capability sought"), "partnership_types": _("Partnership types"),
            "keywords": _("Fields / keywords"), "regions": _("Preferred regions"),
            "budget": _("Expected scale / budget"), "deadline": _("Proposal deadline"),
            "desired_start": _("Desired start"), "anonymous": _("Post anonymously")}


__all__ = [
    "accepts_proposals", "close_expired", "create_need", "mark_fulfilled", "publish",
    "remind_deadlines", "return_need", "save_upload", "search_needs", "send_attachment", "submit_for_review",
    "update_need", "withdraw",
]


# Re-exported: callers (views, API) use needs.services as the one entry point.
from oims.needs.search import (  # noqa: F401
    SORTS,
    has_active_proposal,
    my_needs,
    proposal_counts,
    review_queue,
    search_needs,
)
from oims.needs.versions import coordinator_edits, diff_snapshots, version_diffs, versions_for  # noqa: F401
