"""Accounts: sign-up, authentication, password reset, joining organisations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.audit.log import audit
from oims.auth.passwords import dummy_verify, hash_password, needs_rehash, policy_errors, verify_password
from oims.core import reference as ref
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import enqueue, notify
from oims.core.vocabulary import CLOSED_ACCOUNT_STATUSES, AccountStatus, Role
from oims.extensions import db
from oims.imports import corporate_number
from oims.models import ApiToken, Organisation, OrgJoinRequest, PasswordResetToken, User
from oims.models.base import utcnow

SELF_SIGNUP_ROLES = {Role.NEED_OWNER: ref.OWNER_KINDS, Role.PROPOSER: ref.PROPOSER_KINDS}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(*, email: str, name: str, password: str, role: str, organisation: Organisation,
                is_org_admin: bool = False, status: str = AccountStatus.ACTIVE, language: str | None = None) -> User:
    """Create a user after checking the password policy and e-mail uniqueness."""
    email = normalise_email(email)
    errors: dict[str, list[str]] = {}
    if role not in ref.ROLE_BY_CODE:
        errors["role"] = [_("Unknown role.")]
    if find_user(email):
        errors["email"] = [_("An account with this e-mail already exists.")]
    if problems := policy_errors(password, email=email):
        errors["password"] = problems
    if errors:
        raise ValidationFailed(errors)
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), role=role,
                organisation=organisation, is_org_admin=is_org_admin, status=status, language=language)
    db.session.add(user)
    db.session.flush()
    return user


def register(data: dict) -> User:
    """Self sign-up for need owners and proposers.

    Creating an organisation makes the user its administrator; joining one
    leaves the account pending until the organisation's administrator or a
    coordinator of its bureau approves.
    """
    role = data.get("role")
    if role not in SELF_SIGNUP_ROLES:
        raise ValidationFailed({"role": [_("Choose whether you post needs or propose.")]})
    if data.get("org_mode") == "join":
        return _register_joining(data, role)
    return _register_with_new_org(data, role)


def _register_joining(data: dict, role: str) -> User:
    org = org_by_join_key(data.get("join_key") or "")
    if org is None or org.kind not in SELF_SIGNUP_ROLES[role] or org.is_disabled:
        # One message whatever the reason, so the form tells nothing about who is registered.
        raise ValidationFailed({"join_key": [_("No organisation that fits your role matches this corporate "
                                               "number or invitation code.")]})
    user = create_user(email=data["email"], name=data["name"], password=data["password"], role=role,
                       organisation=org, status=AccountStatus.PENDING)
    req = OrgJoinRequest(user=user, organisation=org)
    db.session.add(req)
    db.session.flush()
    for approver in join_approvers(org):
        notify(approver, "join_request",
               lambda: _("%(name)s asks to join %(org)s", name=user.name, org=org.name),
               url_for("orgs.join_requests"), email_template="join_request",
               subject=lambda: _("[OIMS] Request to join your organisation"), requester=user, org=org)
    audit(user, "org.join_requested", org)
    return user


def _register_with_new_org(data: dict, role: str) -> User:
    number = corporate_number.normalise(data.get("org_corporate_number"))
    errors = _new_org_errors(data, SELF_SIGNUP_ROLES[role])
    if number_error := _corporate_number_error(number):
        errors["org_corporate_number"] = [number_error]
    if errors:
        # Check the user part too, so the form shows every problem at once.
        if problems := policy_errors(data.get("password", ""), email=data.get("email", "")):
            errors["password"] = problems
        raise ValidationFailed(errors)
    org = Organisation(name=data["org_name"].strip(), name_kana=data.get("org_name_kana") or "",
                       name_en=data.get("org_name_en") or "", kind=data["org_kind"],
                       industry=data["org_industry"], employee_band=data["org_employee_band"],
                       website=data.get("org_website") or "", corporate_number=number,
                       status=AccountStatus.PENDING)
    org.set_prefecture(data["org_prefecture"])
    db.session.add(org)
    user = create_user(email=data["email"], name=data["name"], password=data["password"], role=role,
                       organisation=org, is_org_admin=True)
    audit(user, "org.created", org)
    for coordinator in bureau_coordinators(org.bureau):
        notify(coordinator, "org_pending",
               lambda: _("New organisation to check: %(org)s", org=org.name),
               url_for("orgs.pending"))
    return user


def _new_org_errors(data: dict, allowed_kinds) -> dict[str, list[str]]:
    """The organisation part of a sign-up form, but its corporate number."""
    errors: dict[str, list[str]] = {}
    if not (data.get("org_name") or "").strip():
        errors["org_name"] = [_("Enter the organisation's name.")]
    if data.get("org_kind") not in allowed_kinds:
        errors["org_kind"] = [_("Choose a kind of organisation that fits your role.")]
    if data.get("org_prefecture") not in ref.PREFECTURE_BY_CODE:
        errors["org_prefecture"] = [_("Choose a prefecture.")]
    if data.get("org_industry") not in ref.INDUSTRY_BY_CODE:
        errors["org_industry"] = [_("Choose an industry.")]
    if data.get("org_employee_band") not in ref.EMPLOYEE_BAND_BY_CODE:
        errors["org_employee_band"] = [_("Choose the number of employees.")]
    return errors


def _corporate_number_error(number: str) -> str | None:
    if not number:
        return _("Enter the organisation's corporate number (法人番号).")
    if len(number) != 13 or not number.isdigit():
        return _("A corporate number has 13 digits.")
    if not corporate_number.is_valid(number):
        return _("This is not a valid corporate number: its check digit is wrong.")
    if db.session.scalar(select(Organisation.id).where(Organisation.corporate_number == number)):
        return _("An organisation with this corporate number is already registered: choose to join it instead.")
    return None


def bureau_coordinators(bureau: str) -> list[User]:
    return list(db.session.scalars(select(User).join(Organisation, User.organisation_id == Organisation.id).where(
        User.role == Role.COORDINATOR, User.status == AccountStatus.ACTIVE, Organisation.bureau == bureau)))


def invitation_code(org: Organisation) -> str:
    """A code an organisation's administrator hands to colleagues: the id plus a
    keyed hash of it (no table, nothing to enumerate without the app's secret)."""
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), f"org-invite:{org.id}".encode(), hashlib.sha256)
    return f"{org.id}-{base64.b32encode(mac.digest()).decode()[:12]}"


def org_by_join_key(key: str) -> Organisation | None:
    """The organisation whose exact corporate number or invitation code is `key`."""
    key = unicodedata.normalize("NFKC", key).strip().upper()
    number = corporate_number.normalise(key)
    if len(number) == 13 and number.isdigit():
        return db.session.scalar(select(Organisation).where(Organisation.corporate_number == number))
    head, _sep, _tail = key.partition("-")
    if not head.isdigit():
        return None
    org = db.session.get(Organisation, int(head))
    if org is None or not hmac.compare_digest(invitation_code(org), key):
        return None
    return org


def join_approvers(org: Organisation) -> list[User]:
    """Who may approve a request to join `org`: its admins and its bureau's coordinators."""
    admins = db.session.scalars(select(User).where(
        User.organisation_id == org.id, User.is_org_admin.is_(True), User.status == AccountStatus.ACTIVE)).all()
    coordinators = db.session.scalars(select(User).join(Organisation).where(
        User.role == Role.COORDINATOR, User.status == AccountStatus.ACTIVE, Organisation.bureau == org.bureau)).all()
    return list(admins) + list(coordinators)


def can_decide_join(actor: User, req: OrgJoinRequest) -> bool:
    if actor.is_admin:
        return True
    if actor.is_coordinator:
        return actor.bureau == req.organisation.bureau
    return actor.is_org_admin and actor.organisation_id == req.organisation_id and actor.is_active


def decide_join(actor: User, req: OrgJoinRequest, approve: bool) -> None:
    if not can_decide_join(actor, req):
        raise NotAllowed()
    if req.status != "pending":
        raise ValidationFailed(_("This request was already decided."))
    if approve and req.organisation.is_disabled:
        raise ValidationFailed(_("This organisation is disabled."))
    req.status = "approved" if approve else "rejected"
    req.decided_by_id = actor.id
    req.decided_at = utcnow()
    req.user.status = AccountStatus.ACTIVE if approve else AccountStatus.DISABLED
    audit(actor, "org.join_" + req.status, req.organisation, user_id=req.user_id)
    notify(req.user, "join_decided",
           (lambda: _("Your request to join %(org)s was approved.", org=req.organisation.name)) if approve
           else (lambda: _("Your request to join %(org)s was declined.", org=req.organisation.name)),
           url_for("auth.login"), email_template="join_decided",
           subject=lambda: _("[OIMS] Your request to join an organisation"), approved=approve, org=req.organisation)


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None:
        dummy_verify(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_password_reset(email: str) -> None:
    """E-mail a single-use, expiring reset link. Says nothing about whether the
    account exists (the caller shows the same message either way)."""
    user = find_user(email)
    if user is None or user.status in CLOSED_ACCOUNT_STATUSES or user.organisation.is_disabled:
        return
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["OIMS_RESET_TOKEN_MINUTES"]
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_token_hash(token),
                                      expires_at=utcnow() + timedelta(minutes=minutes)))
    link = current_app.config["OIMS_BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=token)
    locale = user.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        subject = _("[OIMS] Reset your password")
    enqueue(user.email, subject, "password_reset", locale=locale, user=user, link=link, minutes=minutes)
    audit(user, "auth.reset_requested", user)


def valid_reset_token(token: str) -> PasswordResetToken | None:
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token)))
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    if row.user.status in CLOSED_ACCOUNT_STATUSES or row.user.organisation.is_disabled:
        return None  # off-boarded after the link was sent
    return row


def reset_password(token: str, password: str, *, keep_api_tokens: bool = False) -> tuple[User, int]:
    """Set a new password from a reset link. Every outstanding reset link of
    the user ends with it (not only this one), every session ends, and the
    API tokens are revoked unless `keep_api_tokens`. Returns (user, tokens revoked)."""
    row = valid_reset_token(token)
    if row is None:
        raise ValidationFailed(_("This reset link is invalid, expired or already used."))
    revoked = change_password(row.user, password, keep_api_tokens=keep_api_tokens)
    now = utcnow()
    for other in db.session.scalars(select(PasswordResetToken).where(
            PasswordResetToken.user_id == row.user_id, PasswordResetToken.used_at.is_(None))):
        other.used_at = now
    return row.user, revoked


def change_password(user: User, password: str, *, keep_api_tokens: bool = False) -> int:
    """Returns how many API tokens were revoked with the change."""
    if problems := policy_errors(password, email=user.email):
        raise ValidationFailed({"password": problems})
    user.password_hash = hash_password(password)
    end_sessions(user)  # every other session and remember-me cookie ends
    audit(user, "auth.password_changed", user, kept_api_tokens=keep_api_tokens)
    return 0 if keep_api_tokens else revoke_api_tokens(user, actor=user, reason="password_changed")


def end_sessions(user: User) -> None:
    """End every session and remember-me cookie of `user`, wherever they are:
    both carry the user's session generation, which is checked on every request."""
    user.renew_nonce()
    db.session.flush()


def revoke_api_tokens(user: User, *, actor: User | None, reason: str) -> int:
    """Revoke every active personal API token of `user`; returns how many."""
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                     ApiToken.revoked_at.is_(None))).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        audit(actor, "api_token.revoked", row, prefix=row.prefix, reason=reason, user_id=user.id)
    db.session.flush()
    return len(rows)
