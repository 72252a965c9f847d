from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.core.reference import BUREAU_OF_PREFECTURE, INDUSTRY_ALIAS, PROPOSER_KINDS
from oims.extensions import db
from oims.models.base import JSONList, UTCDateTime, utcnow


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # 法人番号 (13 digits, National Tax Agency): the key of bulk imports.
    corporate_number: Mapped[str | None] = mapped_column(String(13), unique=True)
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), index=True)
    prefecture: Mapped[str] = mapped_column(String(2), index=True)
    bureau: Mapped[str] = mapped_column(String(20), index=True)
    industry: Mapped[str] = mapped_column(String(1), default="E", index=True)  # filters (h10)
    employee_band: Mapped[str] = mapped_column(String(10), default="1-20", index=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    profile: Mapped[str] = mapped_column(Text, default="")
    technologies: Mapped[list] = mapped_column(JSONList, default=list)
    certifications: Mapped[list] = mapped_column(JSONList, default=list)
    patents: Mapped[list] = mapped_column(JSONList, default=list)
    # Brand and product names: the identifying-text check of anonymous needs looks for them.
    brands: Mapped[list] = mapped_column(JSONList, default=list)
    # Off-boarding: a disabled organisation's users cannot sign in (see oims/accounts).
    # A self-registered organisation starts "pending" until a coordinator of its bureau
    # approves it (oims/orgs/approval.py); it may not propose until then.
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")  # active|pending|disabled
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A support body a coordinator allowed to endorse capabilities ("" = may not).
    endorser_kind: Mapped[str] = mapped_column(String(20), default="")
    # Optimistic concurrency: every UPDATE through the ORM says WHERE row_version =
    # the version it read and bumps it; edit forms and the API's ETag/If-Match
    # carry it, so a save based on an older version is a conflict, never an overwrite.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy reads it once
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")  # noqa: F821

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.kind}>"

    def set_prefecture(self, prefecture: str) -> None:
        """Set the prefecture and the METI bureau derived from it."""
        self.prefecture = prefecture
        self.bureau = BUREAU_OF_PREFECTURE[prefecture]

    @property
    def is_disabled(self) -> bool:
        return self.status == "disabled"

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    @property
    def is_proposer_kind(self) -> bool:
        return self.kind in PROPOSER_KINDS

    def display_name(self, locale: str | None = None) -> str:
        if (locale or "ja").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def alias_base(self, locale: str | None = None) -> str:
        """「大手製造業」-style description used for anonymous needs."""
        ja, en = INDUSTRY_ALIAS.get(self.industry, ("企業", "company"))
        big = self.kind == "large"
        if (locale or "ja").startswith("en"):
            return f"{'Major ' if big else 'Mid-size '}{en}"
        return f"{'大手' if big else '中堅'}{ja}"

    def capability_texts(self) -> list[str]:
        """The documents that make up this organisation's matching profile."""
        texts = [t for t in [self.profile] if t]
        texts += [t for t in (self.technologies or []) if t]
        texts += [t for t in (self.patents or []) if t]
        return texts


class OrgJoinRequest(db.Model):
    """A user who asked to join an existing organisation, awaiting approval."""

    __tablename__ = "org_join_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|approved|rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])  # noqa: F821
    organisation: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<OrgJoinRequest {self.id} user={self.user_id} org={self.organisation_id} {self.status}>"
