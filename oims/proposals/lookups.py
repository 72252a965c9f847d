"""Reads of the proposal form and of a submission, one query each (issue 12:
a submission's round trips to the database are most of its time on a busy host)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from oims.core.vocabulary import INACTIVE_STAGES, AccountStatus, Role
from oims.extensions import db
from oims.models import Invitation, Need, Organisation, Proposal, User


def _standing(need_id, org_id):
    """Scalar subqueries: the organisation's active proposal for the need (id)
    and its latest invitation to the need (id)."""
    active = (select(Proposal.id).where(Proposal.need_id == need_id, Proposal.org_id == org_id,
                                        Proposal.stage.notin_(INACTIVE_STAGES)).limit(1).scalar_subquery())
    invited = (select(Invitation.id).where(Invitation.need_id == need_id, Invitation.org_id == org_id)
               .order_by(Invitation.id.desc()).limit(1).scalar_subquery())
    return active, invited


def active_and_invitation(need_id: int, org_id: int) -> tuple[int | None, int | None]:
    """In one query: the organisation's active proposal for the need (its id or
    None) and the latest invitation of the organisation to the need (id or None)."""
    row = db.session.execute(select(*_standing(need_id, org_id))).one()
    return row[0], row[1]


def need_with_standing(need_id: int, org_id: int) -> tuple[Need | None, tuple[int | None, int | None]]:
    """The need and, in the same query, where the organisation stands with it:
    (active proposal id, latest invitation id). The proposal form reads all
    three and passes the pair to `services.create_proposal` as `standing`."""
    row = db.session.execute(select(Need, *_standing(need_id, org_id)).where(Need.id == need_id)).one_or_none()
    if row is None:
        return None, (None, None)
    return row[0], (row[1], row[2])


def submission_recipients(proposal: Proposal) -> tuple[list[User], list[User]]:
    """(the proposing organisation's active users, the active coordinators of
    the need's bureau), both by id, in one query."""
    bureau = proposal.need.bureau
    rows = db.session.execute(
        select(User, Organisation.bureau).join(Organisation, User.organisation_id == Organisation.id)
        .where(User.status == AccountStatus.ACTIVE,
               or_(User.organisation_id == proposal.org_id,
                   and_(User.role == Role.COORDINATOR, Organisation.bureau == bureau)))
        .order_by(User.id)).all()
    proposer_users = [u for u, _b in rows if u.organisation_id == proposal.org_id]
    coordinators = [u for u, b in rows if u.role == Role.COORDINATOR and b == bureau]
    return proposer_users, coordinators
