"""What the app learns from and pushes with the matcher: coordinators' judgments
of suggested candidates, users' opt-ins to matching-need alerts, and the
alerts sent (for the weekly cap)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow

# Where a judgment came from, and the relevance it implies (qrels grade).
JUDGMENT_SOURCES = ("mark", "invite", "shortlist", "meeting", "declined")
TARGET_KINDS = ("proposal", "org")


class Judgment(db.Model):
    """A coordinator's (or owner's) verdict on a candidate the matcher suggested for a need.

    One row per (need, candidate, source): a coordinator's later mark replaces the
    earlier one; a decision (invite, shortlist, meeting, decline) is recorded once."""

    __tablename__ = "judgment"
    __table_args__ = (UniqueConstraint("need_id", "target_kind", "target_id", "source",
                                       name="uq_judgment_need_target_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    need_version: Mapped[int] = mapped_column(default=1)
    target_kind: Mapped[str] = mapped_column(String(10))  # proposal | org
    target_id: Mapped[int] = mapped_column(index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # the candidate's organisation
    source: Mapped[str] = mapped_column(String(12), index=True)
    relevance: Mapped[float]  # 0 not relevant, 1 relevant, 2 led to a meeting
    probability: Mapped[float | None]  # the matcher's calibrated estimate when judged
    band: Mapped[str] = mapped_column(String(8), default="")
    rank: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Judgment {self.id} need={self.need_id} {self.target_kind}={self.target_id} {self.source}>"


class MatchSubscription(db.Model):
    """A user's choice of matching-need alerts (absent row = not opted in)."""

    __tablename__ = "match_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    on_publish: Mapped[bool] = mapped_column(default=False)  # in-app + e-mail when a matching need is published
    weekly_digest: Mapped[bool] = mapped_column(default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<MatchSubscription user={self.user_id} publish={self.on_publish} digest={self.weekly_digest}>"


class MatchAlert(db.Model):
    """A matching-need alert sent to an organisation (counted for the weekly cap)."""

    __tablename__ = "match_alert"
    __table_args__ = (UniqueConstraint("need_id", "org_id", name="uq_match_alert_need_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    probability: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<MatchAlert need={self.need_id} org={self.org_id}>"
