"""How need owners deal with proposals, rated by proposers (one rating per
proposal, after a decision on it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow


class OwnerRating(db.Model):
    __tablename__ = "owner_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    rater_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The stage the proposal had when rated (declined, meeting_*, met, nda ...).
    decision: Mapped[str] = mapped_column(String(20))
    # False when the need was anonymous and its owner not yet disclosed to the rater:
    # such a rating is kept but left out of the shown aggregate, so that a change in
    # the badge of a named owner cannot tell the rater who owns the anonymous need.
    counted: Mapped[bool] = mapped_column(default=True)
    clear_reason: Mapped[int] = mapped_column(SmallInteger)
    on_time: Mapped[int] = mapped_column(SmallInteger)
    respectful: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<OwnerRating proposal={self.proposal_id} owner={self.owner_org_id}>"
