"""Rate a need owner's dealing with a proposal, and the per-owner aggregate.

Every function flushes and never commits; the caller commits once.

Anonymity: the badge is per owner organisation, so the same figures on two
anonymous needs would link them to one owner (and to its named needs). The
badge therefore shows on named needs only. Ratings of proposals to an
anonymous need whose owner is not yet disclosed to the rater are kept but not
counted in the shown aggregate: otherwise the rater could see a named owner's
badge move after its rating and learn who owns the anonymous need.
"""

from __future__ import annotations

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import func, select

from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.extensions import db
from oims.models import Need, OwnerRating, Proposal, User
from oims.policy import FAIRNESS_MIN_RATINGS, can_rate_owner

CRITERIA = ("clear_reason", "on_time", "respectful")


def rate_owner(proposal: Proposal, scores: dict, *, actor: User) -> OwnerRating:
    if not can_rate_owner(actor, proposal):
        raise NotAllowed
    if db.session.scalar(select(OwnerRating.id).where(OwnerRating.proposal_id == proposal.id)):
        raise ValidationFailed(_("This proposal has already been rated."))
    errors, values = {}, {}
    for key in CRITERIA:
        try:
            value = int(scores.get(key) or 0)
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= 5:
            errors[key] = [_("Choose 1 to 5.")]
        values[key] = value
    if errors:
        raise ValidationFailed(errors)
    need = proposal.need
    rating = OwnerRating(proposal_id=proposal.id, need_id=need.id, owner_org_id=need.owner_org_id,
                         rater_user_id=actor.id, decision=proposal.stage,
                         counted=not need.anonymous or bool(proposal.owner_disclosed), **values)
    db.session.add(rating)
    db.session.flush()
    # The audit row names the proposal only, not the scores (the rating is not shown individually).
    audit(actor, "owner.rated", proposal)
    return rating


def rating_state(proposal: Proposal, user: User) -> dict:
    """For the case page: whether `user` may rate now, and its rating if given."""
    if getattr(user, "organisation_id", None) != proposal.org_id:
        return {"show": False}
    done = db.session.scalar(select(OwnerRating).where(OwnerRating.proposal_id == proposal.id))
    return {"show": bool(done) or can_rate_owner(user, proposal), "may": done is None and can_rate_owner(user, proposal),
            "done": done}


def owner_fairness(need: Need) -> dict | None:
    """The badge for `need`: counted ratings of its owner, averages rounded to
    one decimal; None for anonymous needs and below the minimum count."""
    if need.anonymous:
        return None
    # A search page shows many needs of few owners: one query per owner and request.
    memo = g.setdefault("owner_fairness", {}) if has_request_context() else {}
    if need.owner_org_id not in memo:
        memo[need.owner_org_id] = _owner_fairness(need.owner_org_id)
    return memo[need.owner_org_id]


def prefetch_owner_fairness(needs) -> None:
    """Fill this request's memo of badges for the owners of `needs` with one
    query (a page of search results shows many owners: one query, not one each)."""
    if not has_request_context():
        return
    memo = g.setdefault("owner_fairness", {})
    owners = {n.owner_org_id for n in needs if not n.anonymous} - set(memo)
    if not owners:
        return
    rows = {row[0]: row[1:] for row in db.session.execute(
        select(OwnerRating.owner_org_id, func.count(OwnerRating.id),
               *(func.avg(getattr(OwnerRating, c)) for c in CRITERIA))
        .where(OwnerRating.owner_org_id.in_(owners), OwnerRating.counted.is_(True))
        .group_by(OwnerRating.owner_org_id))}
    for owner in owners:
        memo[owner] = _badge(rows.get(owner))


def _owner_fairness(owner_org_id: int) -> dict | None:
    return _badge(db.session.execute(
        select(func.count(OwnerRating.id), *(func.avg(getattr(OwnerRating, c)) for c in CRITERIA))
        .where(OwnerRating.owner_org_id == owner_org_id, OwnerRating.counted.is_(True))).one())


def _badge(row) -> dict | None:
    """(count, averages...) → the badge, or None below the minimum count."""
    count = (row[0] or 0) if row is not None else 0
    if count < FAIRNESS_MIN_RATINGS:
        return None
    return {"count": count, **{c: round(float(v), 1) for c, v in zip(CRITERIA, row[1:], strict=True)}}
