"""The matcher's change log (`MatchChange`): appending to it outside the ORM, and
following it from a position.

Ids come from a sequence, so they are allocated in order but may become visible
out of order (a transaction that took id 100 can commit after the one that
took 101). A reader therefore remembers the ids it has not seen below the
highest one it has read ("gaps") and reads them again until they appear or
are older than `gap_seconds` (then they were rolled back, or the transaction
stayed open that long: the worker's start-up repair catches those).
`position` is the highest id read: persisted by the worker so a restart
resumes there. Handling an entry twice is harmless: every consumer compares
content hashes before doing any work.
"""

from __future__ import annotations

import time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from oims.matcher.documents import MODEL_OF_KIND
from oims.models import MatchChange
from oims.models.base import utcnow

GAP_SECONDS = 300.0
MAX_GAPS = 5000  # a rolled-back bulk import must not make the gap list huge


def log_changes(session: Session, kind: str, ids) -> None:
    """For bulk writes that bypass the ORM (Core inserts/updates, imports): tell the
    worker that these items changed, in the caller's transaction (flushes, never commits)."""
    if kind not in MODEL_OF_KIND:
        raise ValueError(f"unknown kind {kind!r}")
    rows = [{"origin": "app", "kind": kind, "item_id": int(i), "created_at": utcnow()} for i in ids]
    if rows:
        session.execute(MatchChange.__table__.insert(), rows)


class LogReader:
    def __init__(self, position: int = 0, gap_seconds: float = GAP_SECONDS) -> None:
        self.top = max(0, int(position))
        self.gap_seconds = gap_seconds
        self.gaps: dict[int, float] = {}  # missing id -> when first noticed (monotonic)

    def read(self, session: Session, limit: int = 1000) -> list:
        """The next entries (id, origin, kind, item_id), oldest first."""
        cond = MatchChange.id > self.top
        if self.gaps:
            cond = or_(cond, MatchChange.id.in_(sorted(self.gaps)[:1000]))
        return session.execute(
            select(MatchChange.id, MatchChange.origin, MatchChange.kind, MatchChange.item_id)
            .where(cond).order_by(MatchChange.id).limit(limit)).all()

    def handled(self, ids: list[int]) -> None:
        """Record that the entries read were handled; advance `position`."""
        now = time.monotonic()
        got = set(ids)
        for i in got:
            self.gaps.pop(i, None)
        high = max(got, default=self.top)
        if high > self.top:
            for missing in range(self.top + 1, high):
                if missing not in got and len(self.gaps) < MAX_GAPS:
                    self.gaps[missing] = now
            self.top = high
        for gap, since in list(self.gaps.items()):
            if now - since > self.gap_seconds:
                del self.gaps[gap]

    @property
    def position(self) -> int:
        return self.top

    def __repr__(self) -> str:
        return f"<LogReader position={self.position} top={self.top} gaps={len(self.gaps)}>"
