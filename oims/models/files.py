"""Bytes of uploaded files, kept in the database so that every app host serves them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow


class StoredFile(db.Model):
    """One file's bytes (≤ OIMS_MAX_UPLOAD_MB), addressed by their SHA-256.

    Rows are never updated: changed bytes (an attachment rebuilt for an anonymous
    need) are a new row. Attachments with identical bytes share a row; a row no
    attachment refers to any more is deleted in the same transaction
    (`oims.needs.uploads`). `data` is loaded only when a file is sent or read."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # bytea on PostgreSQL, BLOB on SQLite
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.sha256[:12]} {self.size}B>"
