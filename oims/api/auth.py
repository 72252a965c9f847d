"""Personal API tokens: issue, revoke, and the bearer-token check every API
endpoint runs first. Tokens are shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import nullcontext
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.api.problems import HANDLED, to_problem
from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.extensions import db, limiter
from oims.models import ApiToken, User
from oims.models.base import utcnow
from oims.web.errors import problem
from oims.web.i18n import SUPPORTED

TOKEN_PREFIX = "oims_"
PREFIX_LENGTH = 12
MAX_ACTIVE_TOKENS = 20


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str) -> tuple[str, ApiToken]:
    """A new token for `user`: returns (the token, shown once; its row)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": [_("This field is required.")]})
    if len(name) > 100:
        raise ValidationFailed({"name": [_("At most %(max)d characters (now %(n)d).", max=100, n=len(name))]})
    active = db.session.scalar(select(func.count(ApiToken.id)).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))) or 0
    if active >= MAX_ACTIVE_TOKENS:
        raise ValidationFailed(_("You have %(n)d active tokens; revoke one first.", n=active))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:PREFIX_LENGTH], token_hash=hash_token(token))
    db.session.add(row)
    db.session.flush()
    audit(user, "api_token.created", row, prefix=row.prefix)
    return token, row


def revoke_token(row: ApiToken, actor: User) -> None:
    if row.user_id != actor.id:
        raise NotAllowed()
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(actor, "api_token.revoked", row, prefix=row.prefix)
    db.session.flush()


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.isnot(None), ApiToken.id.desc())))


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def rate_key() -> str:
    """Rate-limit bucket: the token (by hash), or the address without one."""
    token = _bearer()
    if token:
        return "api:" + hash_token(token)[:32]
    return "api-ip:" + (request.remote_addr or "")


def _unauthorised(detail: str):
    resp = problem(401, _("Authentication required"), detail)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="oims"'
    return resp


def authenticate() -> User | None:
    """The user of a valid, unrevoked token of an active account (or None).
    Looked up on every request, so a revoked token stops working at once."""
    token = _bearer()
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        db.session.commit()
    g.api_token = row
    return user


def token_required(view):
    """Every API endpoint: a bearer token, never the cookie session.

    Messages follow the request's Accept-Language (Japanese by default), and
    refusals raised by the view or the services become problem+json here,
    inside that language.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        lang = request.accept_languages.best_match(SUPPORTED)
        with force_locale(lang) if lang else nullcontext():
            user = authenticate()
            if user is None:
                if _bearer() is None:
                    return _unauthorised(_("Send a personal API token as “Authorization: Bearer <token>”."))
                return _unauthorised(_("The API token is unknown, revoked, or its account is disabled."))
            g.api_user = user
            try:
                return view(*args, **kwargs)
            except HANDLED as exc:
                db.session.rollback()
                return to_problem(exc)

    return wrapped


def _api_rate() -> str:
    return current_app.config.get("OIMS_API_RATE", "300 per minute")


def _rate_limits_off() -> bool:
    # Per-app switch: the limiter object is shared by every app in a process.
    return not current_app.config.get("RATELIMIT_ENABLED", True) or request.endpoint in UNLIMITED


UNLIMITED = {"api.openapi_json", "api.docs", "api.tokens", "api.revoke"}

rate_limited = limiter.limit(_api_rate, key_func=rate_key, exempt_when=_rate_limits_off)
