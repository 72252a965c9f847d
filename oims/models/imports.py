"""Bulk-import jobs: the uploaded file, its dry-run report and how far a run got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from oims.extensions import db
from oims.models.base import JSONList, UTCDateTime, utcnow

# uploaded → validated (dry run done) → running → done | failed.
# A "running" job whose heartbeat is old was interrupted and can be resumed.
IMPORT_STATUSES = ("validated", "running", "done", "failed")


class ImportJob(db.Model):
    """One organisation-list import. The file itself is kept in the row, so a
    job started on one app host can be resumed on another (no shared disk)."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # The bureau the job may write to; None = every bureau (admin or CLI).
    bureau: Mapped[str | None] = mapped_column(String(20), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(5))  # csv | xlsx
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # up to 10 MB: loaded only to run
    status: Mapped[str] = mapped_column(String(12), default="validated", index=True)
    total_rows: Mapped[int] = mapped_column(default=0)
    valid_rows: Mapped[int] = mapped_column(default=0)
    # [{"row": n, "column": header, "message": text}], row numbers as in the file (header = row 1).
    errors: Mapped[list] = mapped_column(JSONList, default=list)
    # Last file row number whose effect is committed; a resumed run starts after it.
    last_row: Mapped[int] = mapped_column(default=1)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.filename!r} {self.status} row={self.last_row}/{self.total_rows + 1}>"

    @property
    def processed(self) -> int:
        return self.created_count + self.updated_count + self.unchanged_count + self.skipped_count
