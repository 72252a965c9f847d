from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, Date, ForeignKey, Index, String, Text, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.core.vocabulary import NEED_STATUSES  # noqa: F401 - re-exported for the models' readers
from oims.extensions import db
from oims.models.base import JSONList, UTCDateTime, utcnow
from oims.models.files import StoredFile
from oims.models.orgs import Organisation

# The fields that make up a need's wording; versions snapshot these.
NEED_TEXT_FIELDS = ("title", "summary", "background", "sought")
NEED_SNAPSHOT_FIELDS = NEED_TEXT_FIELDS + (
    "partnership_types", "keywords", "regions", "budget", "deadline", "desired_start", "anonymous",
)


class Need(db.Model):
    __tablename__ = "need"
    # "the needs of a bureau" as an index-only semi-join (coordinators' proposal filters).
    __table_args__ = (Index("ix_need_bureau_id", "bureau", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    background: Mapped[str] = mapped_column(Text, default="")
    sought: Mapped[str] = mapped_column(Text, default="")
    partnership_types: Mapped[list] = mapped_column(JSONList, default=list)
    keywords: Mapped[list] = mapped_column(JSONList, default=list)
    regions: Mapped[list] = mapped_column(JSONList, default=list)  # bureau codes; [] = nationwide
    budget: Mapped[str] = mapped_column(String(200), default="")
    deadline: Mapped[date] = mapped_column(Date, index=True)
    desired_start: Mapped[str] = mapped_column(String(100), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    alias: Mapped[str] = mapped_column(String(100), default="", index=True)  # e.g. 大手製造業・案件K7Q2
    alias_en: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    # Bureau responsible for the need: the owner's bureau at submission.
    bureau: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(default=1)
    # Optimistic concurrency: every UPDATE through the ORM says WHERE row_version =
    # the version it read and bumps it; edit forms and the API's ETag/If-Match
    # carry it, so a save based on an older version is a conflict, never an overwrite.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy reads it once
    # NFKC-normalised, lower-cased text of the need for substring search,
    # which works for Japanese without word boundaries.
    search_text: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner_org: Mapped[Organisation] = relationship()
    versions: Mapped[list[NeedVersion]] = relationship(
        back_populates="need", order_by="NeedVersion.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.status} {self.title[:20]!r}>"

    def snapshot(self) -> dict:
        data = {f: getattr(self, f) for f in NEED_SNAPSHOT_FIELDS}
        data["deadline"] = self.deadline.isoformat() if self.deadline else None
        return data

    def matching_text(self) -> str:
        """The text the matcher reads for this need."""
        parts = [self.title, self.summary, self.background, self.sought, " ".join(self.keywords or [])]
        return "\n".join(p for p in parts if p)


# Finding needs (oims.needs.search) at national scale. The lists sort by the
# publication date: an index in that order lets a page stop after its 20 rows.
Index("ix_need_listing", func.coalesce(Need.published_at, Need.created_at), Need.id)
# Substring search (`search_text LIKE '%term%'`, Japanese included, terms of 3+
# characters) through trigrams; PostgreSQL only (pg_trgm): SQLite scans.
Index("ix_need_search_text_trgm", Need.search_text, postgresql_using="gin",
      postgresql_ops={"search_text": "gin_trgm_ops"}, info={"only_dialects": ("postgresql",)}
      ).ddl_if(dialect="postgresql")
event.listen(Need.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


class NeedVersion(db.Model):
    """A snapshot of a need's wording before each change."""

    __tablename__ = "need_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    version: Mapped[int]
    snapshot: Mapped[dict] = mapped_column(JSONList)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(String(40), default="edit")  # coordinator_edit|edit_after_publish|...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<NeedVersion need={self.need_id} v{self.version}>"


class Attachment(db.Model):
    """A file attached to a need or a proposal; its bytes are a StoredFile row
    (None only for a file that was already missing when files moved into the database)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("need.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Rebuilt from its content (oims.needs.cleaning) so that it may be shared anonymously.
    anonymised: Mapped[bool] = mapped_column(default=False)
    after_nda: Mapped[bool] = mapped_column(default=False)  # a proposal's file disclosed after the NDA only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[StoredFile | None] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.filename!r}>"
