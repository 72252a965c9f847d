"""Matching needs, pushed: an alert when a need that fits an organisation is
published, and a weekly digest of new matching needs. Both only for users who
opted in (`MatchSubscription`); every e-mail carries an unsubscribe link that
works without logging in (a signed token, itsdangerous).

Every function flushes and never commits; the caller commits once (the CLI
commits per user so a crash mid-digest re-sends nothing already sent).

Anonymous needs stay anonymous: the owner is named through `owner_label`,
exactly as the recipient would see it on the need page.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from oims.brokerage.shortlist import needs_for_org
from oims.core.mail import enqueue, notify
from oims.core.reference import PROPOSER_KINDS
from oims.core.timeutil import today_local
from oims.core.vocabulary import NeedStatus, Role
from oims.extensions import db
from oims.matcher import service as ms
from oims.matcher.bands import Calibrated, calibrate
from oims.models import MatchAlert, MatchSubscription, Need, Organisation, Proposal, User
from oims.models.base import utcnow
from oims.policy import can_view_need, owner_label

log = logging.getLogger(__name__)
TOKEN_SALT = "oims-match-alerts-unsubscribe"
DIGEST_EVERY = timedelta(days=7)


# --- opt-in and the unsubscribe token ---------------------------------------------------------

def subscription(user: User, create: bool = False) -> MatchSubscription | None:
    sub = db.session.scalar(select(MatchSubscription).where(MatchSubscription.user_id == user.id))
    if sub is None and create:
        sub = MatchSubscription(user_id=user.id, on_publish=False, weekly_digest=False)
        db.session.add(sub)
        db.session.flush()
    return sub


def set_subscription(user: User, *, on_publish: bool, weekly_digest: bool) -> MatchSubscription:
    sub = subscription(user, create=True)
    sub.on_publish, sub.weekly_digest = bool(on_publish), bool(weekly_digest)
    db.session.flush()
    return sub


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"u": user.id})


def unsubscribe_url(user: User) -> str:
    path = url_for("matchfeed.unsubscribe", token=unsubscribe_token(user))
    return current_app.config["OIMS_BASE_URL"].rstrip("/") + path


def unsubscribe(token: str) -> User | None:
    """Turn every matching-need e-mail off for the token's user; None for a bad token."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None:
        return None
    sub = subscription(user)
    if sub is not None:
        sub.on_publish = sub.weekly_digest = False
        db.session.flush()
    return user


def _locale(user: User) -> str:
    return user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "ja")


def _need_url(need: Need) -> str:
    return url_for("needs.view", need_id=need.id) if "needs.view" in current_app.view_functions else ""


# --- push when a need is published --------------------------------------------------------------

def _subscribers(org_id: int, field) -> list[User]:
    return list(db.session.scalars(
        select(User).join(MatchSubscription, MatchSubscription.user_id == User.id)
        .where(User.organisation_id == org_id, User.status == "active", User.role == Role.PROPOSER,
               field.is_(True)).order_by(User.id)))


def alerts_this_week(org_id: int, now: datetime | None = None) -> int:
    since = (now or utcnow()) - timedelta(days=7)
    return db.session.scalar(select(func.count(MatchAlert.id)).where(
        MatchAlert.org_id == org_id, MatchAlert.created_at >= since)) or 0


def push_new_need(need: Need) -> list[int]:
    """Tell the best-matching proposer organisations in the need's scope that opted in.

    Scope: the need's regions (bureaus; none = nationwide). Best-matching: the
    top OIMS_PUSH_TOP_K organisations whose calibrated chance is at least
    OIMS_PUSH_MIN_PROBABILITY. At most OIMS_PUSH_WEEKLY_CAP alerts per
    organisation in any 7 days. Returns the organisations alerted."""
    cfg = current_app.config
    if need.status != NeedStatus.PUBLISHED or not ms.service().enabled:
        return []
    filters = {"bureau": list(need.regions)} if need.regions else None
    proposed = set(db.session.scalars(select(Proposal.org_id).where(Proposal.need_id == need.id)))
    results = ms.recommend_orgs(need, filters=filters, exclude_ids=proposed | {need.owner_org_id},
                                k=cfg["OIMS_PUSH_TOP_K"])
    if not results:
        return []
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_([r.id for r in results]), Organisation.kind.in_(PROPOSER_KINDS)))}
    already = set(db.session.scalars(select(MatchAlert.org_id).where(MatchAlert.need_id == need.id)))
    alerted = []
    for r in results:
        org, fit = orgs.get(r.id), calibrate(r, kind="orgs")
        if org is None or fit is None or fit.probability < cfg["OIMS_PUSH_MIN_PROBABILITY"] or org.id in already:
            continue
        if need.regions and org.bureau not in need.regions:
            continue  # the scope, even if the index's metadata lags behind
        users = [u for u in _subscribers(org.id, MatchSubscription.on_publish) if can_view_need(u, need)]
        if not users or alerts_this_week(org.id) >= cfg["OIMS_PUSH_WEEKLY_CAP"]:
            continue
        db.session.add(MatchAlert(need_id=need.id, org_id=org.id, probability=fit.probability))
        for user in users:
            _alert(user, need, fit)
        alerted.append(org.id)
    db.session.flush()
    return alerted


def _alert(user: User, need: Need, fit: Calibrated) -> None:
    locale = _locale(user)

    def text():
        return _("A new need matches your organisation: “%(title)s” (%(owner)s, fit %(fit)s)",
                 title=need.title, owner=owner_label(need, user, locale), fit=str(fit))

    notify(user, "match_new_need", text, _need_url(need), email_template="match_new_need",
           subject=lambda: _("[OIMS] A new need matches your organisation"), need=need,
           owner=owner_label(need, user, locale), fit=fit, unsubscribe_url=unsubscribe_url(user))


def safe_push_new_need(need: Need) -> None:
    """push_new_need() from the publish step: an alert must never block publishing."""
    try:
        push_new_need(need)
    except SQLAlchemyError:
        raise
    except Exception:
        log.warning("matching-need alerts for need %s not sent", need.id, exc_info=True)


# --- the weekly digest -------------------------------------------------------------------------

def digest_for(user: User, since: datetime, k: int = 10) -> list[tuple[Need, Calibrated]]:
    """New open needs (published after `since`) that match the user's organisation, best first."""
    org = user.organisation
    if org is None or not org.is_proposer_kind:
        return []
    ranked = needs_for_org(org, k=200) or []
    out = []
    for need, fit, _reasons in ranked:
        if need.published_at is None or need.published_at < since or fit is None:
            continue
        if fit.probability < current_app.config["OIMS_DIGEST_MIN_PROBABILITY"] or not can_view_need(user, need):
            continue
        out.append((need, fit))
    return out[:k]


def send_digest(now: datetime | None = None, force: bool = False) -> int:
    """Send each opted-in user the new matching needs of the past week; returns e-mails sent.

    A user gets at most one digest in 7 days (unless `force`), so the command can
    run daily; the window starts at their previous digest."""
    now = now or utcnow()
    if not ms.service().enabled:
        return 0
    sent = 0
    subs = db.session.scalars(select(MatchSubscription).where(MatchSubscription.weekly_digest.is_(True))
                              .order_by(MatchSubscription.user_id)).all()
    for sub in subs:
        user = db.session.get(User, sub.user_id)
        if user is None or user.status != "active" or user.role != Role.PROPOSER:
            continue
        if not force and sub.last_digest_at is not None and now - sub.last_digest_at < DIGEST_EVERY - timedelta(hours=1):
            continue
        since = sub.last_digest_at or now - DIGEST_EVERY
        items = digest_for(user, since)
        sub.last_digest_at = now
        if items:
            locale = _locale(user)
            with force_locale(locale):
                subject = _("[OIMS] %(count)d new needs match your organisation", count=len(items))
            enqueue(user.email, subject, "match_digest", locale=locale, user=user,
                    items=[(n, f, owner_label(n, user, locale), _need_url(n)) for n, f in items],
                    unsubscribe_url=unsubscribe_url(user), today=today_local())
            sent += 1
        db.session.flush()
    return sent
