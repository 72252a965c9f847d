"""The matcher's index, kept in the database so every host can rebuild it.

- `MatchChange` is an append-only change log with a monotonically increasing
  id. Requests append an "app" entry in the same transaction as every change to
  a need, proposal or organisation the matcher reads; the encoding worker
  appends an "index" entry each time it writes a `MatchItem`. Nobody consumes
  (deletes) entries: every process follows the log from its own position.
- `MatchItem` is what the matcher holds for one item: its texts, filter meta,
  vectors (float32, one row per text, written once by whoever encoded them,
  valid for `text_hash` + `encoder`) and lexical analysis (valid for
  `analyser`). A host builds its in-memory index from these rows, never by
  encoding.
- `MatchCursor` remembers the worker's position in the log (and who holds the
  encoding lease), so a restarted worker resumes where it stopped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow


class MatchChange(db.Model):
    __tablename__ = "match_change"
    # AUTOINCREMENT on SQLite too: an id is never reused, even after pruning.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(8))  # app | index
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<MatchChange {self.id} {self.origin} {self.kind}:{self.item_id}>"


class MatchItem(db.Model):
    __tablename__ = "match_item"
    __table_args__ = (UniqueConstraint("kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int]
    texts: Mapped[list] = mapped_column(JSON)
    meta: Mapped[dict] = mapped_column(JSON)
    text_hash: Mapped[str] = mapped_column(String(40))
    encoder: Mapped[str] = mapped_column(String(120))
    dim: Mapped[int]
    vectors: Mapped[bytes] = mapped_column(LargeBinary)  # float32, len(texts) x dim
    analyser: Mapped[str] = mapped_column(String(64))
    # Opaque to the app (matching's own format), as JSON bytes: decoded with orjson,
    # because building a host's index is dominated by decoding these.
    analysis: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<MatchItem {self.kind}:{self.item_id} {self.encoder}>"


class MatchCursor(db.Model):
    __tablename__ = "match_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    owner: Mapped[str] = mapped_column(String(120), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    encoder: Mapped[str] = mapped_column(String(120), default="")
    dim: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<MatchCursor {self.name} @{self.position}>"
