from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.core.vocabulary import INACTIVE_STAGES, OUTCOME_STAGES, PROPOSAL_STAGES  # noqa: F401 - re-exported
from oims.extensions import db
from oims.models.base import JSONList, UTCDateTime, utcnow
from oims.models.needs import Need
from oims.models.orgs import Organisation


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        # One active proposal per organisation per need, enforced by the database.
        Index(
            "uq_proposal_active_org_need", "need_id", "org_id", unique=True,
            sqlite_where=text("stage NOT IN ('declined', 'withdrawn')"),
            postgresql_where=text("stage NOT IN ('declined', 'withdrawn')"),
        ),
        # A need's candidate list, in the order received (and paginated).
        Index("ix_proposal_need_submitted", "need_id", "submitted_at", "id"),
        # A bureau's screening queue: oldest submissions first, and counts by stage (index-only).
        Index("ix_proposal_stage_submitted", "stage", "submitted_at", "id"),
        Index("ix_proposal_stage_need", "stage", "need_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    solution: Mapped[str] = mapped_column(Text, default="")
    track_record: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str] = mapped_column(Text, default="")
    schedule: Mapped[str] = mapped_column(String(300), default="")
    cost: Mapped[str] = mapped_column(String(300), default="")
    answers: Mapped[list] = mapped_column(JSONList, default=list)  # which parts of the need it answers
    # Sections the proposer discloses only once the case reaches the NDA stage (staged disclosure).
    after_nda: Mapped[list] = mapped_column(JSONList, default=list)
    stage: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    decline_reason: Mapped[str] = mapped_column(String(30), default="")
    decline_note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), default="")
    receipt_content: Mapped[str] = mapped_column(Text, default="")  # canonical JSON that was hashed
    # Brokerage
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"))
    shortlisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    shortlist_rank: Mapped[int | None]  # matcher rank when shortlisted (KPI: from top-N?)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forward_comment: Mapped[str] = mapped_column(Text, default="")
    response_due: Mapped[date | None] = mapped_column(Date)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner_disclosed: Mapped[bool] = mapped_column(default=False)
    # Optimistic concurrency: every UPDATE through the ORM says WHERE row_version =
    # the version it read and bumps it; edit forms and the API's ETag/If-Match
    # carry it, so a save based on an older version is a conflict, never an overwrite.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy reads it once
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    need: Mapped[Need] = relationship()
    org: Mapped[Organisation] = relationship()
    events: Mapped[list[ProposalEvent]] = relationship(
        back_populates="proposal", order_by="ProposalEvent.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Proposal {self.id} need={self.need_id} org={self.org_id} {self.stage}>"

    @property
    def is_active(self) -> bool:
        return self.stage not in INACTIVE_STAGES

    @property
    def is_forwarded(self) -> bool:
        return self.forwarded_at is not None

    def matching_text(self) -> str:
        parts = [self.title, self.summary, self.solution, self.track_record]
        return "\n".join(p for p in parts if p)


class ProposalEvent(db.Model):
    """Every stage change of a proposal, with who and when (also the KPI clock)."""

    __tablename__ = "proposal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(20), default="")
    to_stage: Mapped[str] = mapped_column(String(20), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    # For outcome stages: the date the NDA/PoC/contract started or the case ended.
    on_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    proposal: Mapped[Proposal] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<ProposalEvent {self.proposal_id} {self.from_stage}->{self.to_stage}>"


class ProposalReceipt(db.Model):
    """Every receipt a proposal was given (first submission, then one per edit).
    The proposal row holds the current one; these keep the earlier ones
    downloadable, so each disclosure stays provable."""

    __tablename__ = "proposal_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    receipt_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship()

    def __repr__(self) -> str:
        return f"<ProposalReceipt {self.proposal_id} {self.receipt_hash[:12]}>"
