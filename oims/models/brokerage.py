"""Invitations, message threads and first meetings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow


class Invitation(db.Model):
    """A coordinator invited a recommended organisation to propose to a need."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    match_score: Mapped[float | None]
    match_rank: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Invitation {self.id} need={self.need_id} org={self.org_id}>"


class ThreadMessage(db.Model):
    """Clarifying questions about a forwarded proposal (owner, proposer, coordinator)."""

    __tablename__ = "thread_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ThreadMessage {self.id} proposal={self.proposal_id}>"


class Meeting(db.Model):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="proposed")  # proposed|scheduled|held|cancelled
    mode: Mapped[str] = mapped_column(String(10), default="online")  # online|onsite
    url: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    coordinator_attends: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uid: Mapped[str] = mapped_column(String(80), default="")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    slots: Mapped[list[MeetingSlot]] = relationship(
        back_populates="meeting", order_by="MeetingSlot.starts_at", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Meeting {self.id} proposal={self.proposal_id} {self.status}>"


class MeetingSlot(db.Model):
    __tablename__ = "meeting_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="slots")

    def __repr__(self) -> str:
        return f"<MeetingSlot {self.id} {self.starts_at:%Y-%m-%d %H:%M}>"
