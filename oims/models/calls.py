"""Themed calls: a bureau or a partner support body groups published needs of
several owners under one time-boxed call (e.g. 「カーボンニュートラル技術募集 2027」)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow
from oims.models.needs import Need
from oims.models.orgs import Organisation


class ThemedCall(db.Model):
    __tablename__ = "themed_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date, index=True)
    # The bureau the call belongs to (its coordinators manage it).
    bureau: Mapped[str] = mapped_column(String(20), index=True)
    # The body running the call: the bureau's own organisation or a partner support body.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organisation] = relationship()
    entries: Mapped[list[ThemedCallNeed]] = relationship(back_populates="call", cascade="all, delete-orphan",
                                                         order_by="ThemedCallNeed.id")

    def __repr__(self) -> str:
        return f"<ThemedCall {self.id} {self.title!r} until {self.deadline}>"

    def display_title(self, locale: str | None = None) -> str:
        return self.title_en if (locale or "ja").startswith("en") and self.title_en else self.title

    def is_open(self, today: date) -> bool:
        return self.deadline >= today


class ThemedCallNeed(db.Model):
    """A published need attached to a call (publication implies the owner's consent)."""

    __tablename__ = "themed_call_need"
    __table_args__ = (UniqueConstraint("call_id", "need_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("themed_call.id"), index=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[ThemedCall] = relationship(back_populates="entries")
    need: Mapped[Need] = relationship()

    def __repr__(self) -> str:
        return f"<ThemedCallNeed call={self.call_id} need={self.need_id}>"
