"""Who is told about a need, and the telling: in each reader's language, with
the owner named as that reader may see it (an anonymous need's alias)."""

from __future__ import annotations

from flask import current_app, url_for
from sqlalchemy import select

from oims.core.mail import notify
from oims.core.vocabulary import INACTIVE_STAGES, ProposalStage, Role
from oims.extensions import db
from oims.models import Need, Organisation, Proposal, User
from oims.policy import owner_label


def users_of_org(org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == org_id, User.status == "active").order_by(User.id)))


def coordinators_of(bureau: str) -> list[User]:
    return list(db.session.scalars(select(User).join(Organisation, User.organisation_id == Organisation.id).where(
        User.role == Role.COORDINATOR, User.status == "active", Organisation.bureau == bureau).order_by(User.id)))


def proposer_users(need: Need, *, drafts_only: bool = False) -> list[User]:
    """Active users of organisations with an active (or, with drafts_only, a draft) proposal."""
    cond = Proposal.stage == ProposalStage.DRAFT if drafts_only else Proposal.stage.notin_(INACTIVE_STAGES)
    org_ids = select(Proposal.org_id).where(Proposal.need_id == need.id, cond)
    return list(db.session.scalars(select(User).where(
        User.organisation_id.in_(org_ids), User.status == "active").order_by(User.id)))


def need_url(need: Need) -> str:
    try:
        return url_for("needs.view", need_id=need.id)
    except Exception:  # noqa: BLE001 - outside a request with no SERVER_NAME
        return f"/needs/{need.id}"


def tell(users, need: Need, kind: str, text_fn, subject_fn, template: str, **context) -> None:
    """Notify each user in their language; the owner is named as each may see it."""
    for user in users:
        locale = user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "ja")
        owner = owner_label(need, user, locale)
        notify(user, kind, lambda u=user, o=owner: text_fn(need, o), need_url(need),
               email_template=template, subject=lambda o=owner: subject_fn(need, o),
               need=need, owner=owner, **context)
