"""Case work after a proposal: fair-dealing terms and private reports,
follow-up check-ins after a first meeting, and capability endorsements by
support bodies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow
from oims.models.orgs import Organisation

IP_OWNERS = ("owner", "proposer", "joint", "contribution")
REPORT_CATEGORIES = ("unpaid_poc", "nda_abuse", "ip_grab", "delay", "other")
CHECKIN_WEEKS = (2, 6, 12)
CHECKIN_ANSWERS = ("continuing", "nda", "poc", "contract", "ended")
ENDORSER_KINDS = ("kosetsushi", "chamber", "bank", "university_ilo", "bureau")


class CaseTerms(db.Model):
    """The key terms of a case's NDA and PoC, recorded by the parties."""

    __tablename__ = "case_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    nda_term_months: Mapped[int | None]  # None: no term (the guideline flags it)
    nda_mutual: Mapped[bool | None]
    nda_scope: Mapped[str] = mapped_column(Text, default="")
    poc_scope: Mapped[str] = mapped_column(Text, default="")
    poc_weeks: Mapped[int | None]
    poc_paid: Mapped[bool | None]
    poc_fee_yen: Mapped[int | None]
    ip_owner: Mapped[str] = mapped_column(String(20), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<CaseTerms proposal={self.proposal_id}>"


class FairDealingReport(db.Model):
    """A proposer's private report of a problem to the bureau (never shown to the owner)."""

    __tablename__ = "fair_dealing_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    category: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<FairDealingReport {self.id} proposal={self.proposal_id} {self.category}>"


class CheckIn(db.Model):
    """A follow-up question 2, 6 or 12 weeks after a held first meeting."""

    __tablename__ = "check_in"
    __table_args__ = (UniqueConstraint("meeting_id", "weeks", name="uq_check_in_meeting_weeks"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    weeks: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answer: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    proposal = relationship("Proposal", viewonly=True)

    def __repr__(self) -> str:
        return f"<CheckIn {self.id} meeting={self.meeting_id} w{self.weeks} {self.answer or 'open'}>"


class Endorsement(db.Model):
    """A support body vouches for one capability on an organisation's profile."""

    __tablename__ = "endorsement"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    capability: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    endorser_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    endorser_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    endorsed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    endorser_org: Mapped[Organisation] = relationship(foreign_keys=[endorser_org_id])

    def __repr__(self) -> str:
        return f"<Endorsement {self.id} org={self.org_id} {self.capability!r}>"

    def is_active(self, today: date) -> bool:
        return self.withdrawn_at is None and self.expires_on >= today
