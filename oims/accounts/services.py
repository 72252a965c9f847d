"""Off-boarding and personal data: disable and re-enable users and
organisations, export a person's data, delete (pseudonymise) a person.

Every function flushes and never commits; the request handler commits once.
Business records (needs, proposals and their history, meetings, messages, the
audit log) are never deleted: APPI lets the bureau keep what its
record-keeping requires, and the history must stay consistent. What identifies
the person is replaced instead (see `delete_user`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.audit.log import audit
from oims.auth.passwords import hash_password
from oims.auth.services import end_sessions, revoke_api_tokens
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.vocabulary import INACTIVE_STAGES, OPEN_NEED_STATUSES, AccountStatus, ProposalStage, Role
from oims.extensions import db
from oims.models import (
    ApiToken,
    AuditLog,
    Meeting,
    Need,
    Notification,
    Organisation,
    OrgJoinRequest,
    OutboxMessage,
    PasswordResetToken,
    Proposal,
    User,
)
from oims.models.base import utcnow
from oims.needs import services as need_services
from oims.proposals import workflow


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed()


def _active_admins() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.status == AccountStatus.ACTIVE)) or 0


# --- users ------------------------------------------------------------------------------------

def end_user_sessions(user: User, *, actor: User) -> None:
    """An admin's "sign out everywhere" for `user`."""
    _require_admin(actor)
    end_sessions(user)
    audit(actor, "auth.sessions_ended", user, by="admin")


def disable_user(user: User, *, actor: User) -> int:
    """Refuse sign-in, end every session and revoke the API tokens (returns how many)."""
    _require_admin(actor)
    if user.id == actor.id:
        raise ValidationFailed(_("You cannot disable your own account."))
    if user.status == AccountStatus.DELETED:
        raise ValidationFailed(_("This account was deleted."))
    if user.status == AccountStatus.DISABLED:
        raise ValidationFailed(_("This account is already disabled."))
    user.status = AccountStatus.DISABLED
    user.disabled_reason = "admin"
    end_sessions(user)
    revoked = revoke_api_tokens(user, actor=actor, reason="user_disabled")
    audit(actor, "user.disabled", user, tokens_revoked=revoked)
    return revoked


def enable_user(user: User, *, actor: User) -> None:
    _require_admin(actor)
    if user.status != AccountStatus.DISABLED:
        raise ValidationFailed(_("Only a disabled account can be enabled."))
    if user.organisation.is_disabled:
        raise ValidationFailed(_("The organisation of this account is disabled; enable the organisation first."))
    user.status = AccountStatus.PENDING if user.disabled_reason == "org-pending" else AccountStatus.ACTIVE
    user.disabled_reason = ""
    audit(actor, "user.enabled", user)
    db.session.flush()


# --- organisations ----------------------------------------------------------------------------

@dataclass
class OrgOffboarding:
    users_disabled: int = 0
    tokens_revoked: int = 0
    proposals_withdrawn: list[int] = field(default_factory=list)
    proposals_left: list[int] = field(default_factory=list)  # past the meeting: for the coordinator to end
    needs_withdrawn: list[int] = field(default_factory=list)
    meetings_cancelled: int = 0


def disable_org(org: Organisation, *, actor: User) -> OrgOffboarding:
    """Disable an organisation and everything that would keep it acting.

    Its users are disabled (sessions end, tokens revoked). Its open proposals
    are withdrawn through the workflow (an event, an audit entry and the
    usual notifications, as if its proposer had withdrawn them), with their
    proposed meetings cancelled. Proposals past the meeting stage stay where
    they are: they record a relationship, and ending them would count as an
    outcome in the KPI; the report lists them for the coordinator. Its open
    needs are withdrawn through the needs workflow (proposers are told).
    """
    _require_admin(actor)
    if actor.organisation_id == org.id:
        raise ValidationFailed(_("You cannot disable your own organisation."))
    if org.is_disabled:
        raise ValidationFailed(_("This organisation is already disabled."))
    report = OrgOffboarding()
    for user in db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.id)):
        if user.status not in (AccountStatus.ACTIVE, AccountStatus.PENDING):
            continue
        user.disabled_reason = "org-pending" if user.status == AccountStatus.PENDING else "org"
        user.status = AccountStatus.DISABLED
        end_sessions(user)
        report.tokens_revoked += revoke_api_tokens(user, actor=actor, reason="organisation_disabled")
        report.users_disabled += 1
    note = _("Withdrawn because the organisation was disabled by the bureau.")
    proposals = db.session.scalars(select(Proposal).where(
        Proposal.org_id == org.id, Proposal.stage.notin_((*INACTIVE_STAGES, ProposalStage.ENDED))).order_by(Proposal.id)).all()
    for proposal in proposals:
        if proposal.stage not in workflow.WITHDRAWABLE:
            report.proposals_left.append(proposal.id)
            continue
        workflow.change_stage(proposal, ProposalStage.WITHDRAWN, actor, note=note, on_behalf_of=workflow.P)
        report.proposals_withdrawn.append(proposal.id)
        for meeting in db.session.scalars(select(Meeting).where(
                Meeting.proposal_id == proposal.id, Meeting.status.in_(("proposed", "scheduled")))):
            meeting.status = "cancelled"
            report.meetings_cancelled += 1
            audit(actor, "meeting.cancelled", meeting, reason="organisation_disabled")
    needs = db.session.scalars(select(Need).where(
        Need.owner_org_id == org.id, Need.status.in_(OPEN_NEED_STATUSES)).order_by(Need.id)).all()
    for need in needs:
        need_services.withdraw(need, actor)
        report.needs_withdrawn.append(need.id)
    org.status = AccountStatus.DISABLED
    org.disabled_at = utcnow()
    audit(actor, "org.disabled", org, users=report.users_disabled, tokens_revoked=report.tokens_revoked,
          proposals_withdrawn=report.proposals_withdrawn, proposals_left=report.proposals_left,
          needs_withdrawn=report.needs_withdrawn, meetings_cancelled=report.meetings_cancelled)
    db.session.flush()
    return report


def enable_org(org: Organisation, *, actor: User) -> int:
    """Re-enable an organisation and the users its disabling disabled (not
    those an admin disabled by hand). Withdrawn proposals and needs stay
    withdrawn: that is their history. Returns how many users were re-enabled."""
    _require_admin(actor)
    if not org.is_disabled:
        raise ValidationFailed(_("This organisation is not disabled."))
    org.status = AccountStatus.ACTIVE
    org.disabled_at = None
    count = 0
    for user in db.session.scalars(select(User).where(
            User.organisation_id == org.id, User.status == AccountStatus.DISABLED,
            User.disabled_reason.in_(("org", "org-pending")))):
        user.status = AccountStatus.PENDING if user.disabled_reason == "org-pending" else AccountStatus.ACTIVE
        user.disabled_reason = ""
        count += 1
    audit(actor, "org.enabled", org, users=count)
    db.session.flush()
    return count


# --- deletion (pseudonymisation) --------------------------------------------------------------

def pseudonym(user: User) -> str:
    return f"退会済み利用者 #{user.id} (deleted user)"


def delete_user(user: User, *, actor: User) -> None:
    """Pseudonymise `user`: name and e-mail replaced, the password made
    unusable, sessions, tokens, reset links, notifications and queued e-mail
    removed, the addresses in their audit entries blanked. The row stays so
    proposals, needs, meetings, messages and the audit log keep their author.
    Sign-in is impossible afterwards (status "deleted", unknown e-mail)."""
    if actor.id != user.id:
        _require_admin(actor)
    if user.status == AccountStatus.DELETED:
        raise ValidationFailed(_("This account was already deleted."))
    if user.is_admin and user.status == AccountStatus.ACTIVE and _active_admins() <= 1:
        raise ValidationFailed(_("This is the last administrator account; create another one first."))
    old_email, old_name = user.email, user.name
    end_sessions(user)
    revoke_api_tokens(user, actor=actor, reason="user_deleted")
    db.session.execute(PasswordResetToken.__table__.delete().where(PasswordResetToken.user_id == user.id))
    db.session.execute(Notification.__table__.delete().where(Notification.user_id == user.id))
    db.session.execute(OutboxMessage.__table__.delete().where(func.lower(OutboxMessage.to) == old_email.lower()))
    db.session.execute(AuditLog.__table__.update().where(AuditLog.actor_id == user.id).values(ip=""))
    new_name = pseudonym(user)
    if len(old_name.strip()) >= 2:
        # Other people's notifications and e-mails name the person ("X asks to join ...").
        db.session.execute(Notification.__table__.update().where(Notification.text.contains(old_name, autoescape=True))
                           .values(text=func.replace(Notification.text, old_name, new_name)))
        for col in (OutboxMessage.body_text, OutboxMessage.body_html, OutboxMessage.subject):
            db.session.execute(OutboxMessage.__table__.update().where(col.contains(old_name, autoescape=True))
                               .values({col.key: func.replace(col, old_name, new_name)}))
    for req in db.session.scalars(select(OrgJoinRequest).where(
            OrgJoinRequest.user_id == user.id, OrgJoinRequest.status == "pending")):
        req.status = "rejected"
        req.decided_at = utcnow()
    for row in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        row.name = "—"
    user.name = new_name
    user.email = f"deleted-{user.id}-{secrets.token_hex(4)}@deleted.invalid"
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.language = None
    user.is_org_admin = False
    user.status = AccountStatus.DELETED
    user.disabled_reason = ""
    user.deleted_at = utcnow()
    user.last_login_at = None
    user.last_needs_visit_at = None
    entry = audit(actor, "user.deleted", user, by="self" if actor.id == user.id else "admin")
    if actor.id == user.id:
        entry.ip = ""
    db.session.flush()
