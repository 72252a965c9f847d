"""Each process's in-memory index: a cache of `MatchItem`, kept current by
following the change log's "index" entries.

Built from the stored vectors and analysis (nothing is encoded), then updated
item by item; `generation[kind]` is the newest log entry applied to a
collection, the same number on every host once they have converged, so cached
ranked lists are keyed by it.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oims.matcher.changelog import LogReader
from oims.matcher.documents import KINDS
from oims.models import MatchChange, MatchCursor, MatchItem

log = logging.getLogger(__name__)

# A new follower re-reads this many entries before its snapshot: transactions
# still in flight while it read the stored items.
REWIND = 500
LOAD_CHUNK = 2000


class StoredVectors:
    """Stands in for the encoder in a process that only searches with stored vectors."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def encode_queries(self, texts):
        from matching import EncoderUnavailable

        raise EncoderUnavailable("this process searches with stored vectors only")

    encode_documents = encode_queries


def _analysis(row, analyser: str):
    """The stored analysis when it is this analyser's (else None: analysed again from the texts)."""
    import orjson

    return orjson.loads(row.analysis) if row.analyser == analyser else None


def _vectors(row) -> np.ndarray:
    return np.frombuffer(row.vectors, dtype=np.float32).reshape(len(row.texts), row.dim)


class IndexMirror:
    def __init__(self) -> None:
        self.matchers: dict = {}
        self.generation: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.reader: LogReader | None = None
        self.encoder: tuple[str, int] | None = None
        self.loaded = False
        self._lock = threading.RLock()

    def load(self, session: Session) -> bool:
        """Build every collection from the stored items. False when no worker has run yet."""
        from matching import Matcher

        cur = session.get(MatchCursor, "worker", populate_existing=True)
        if cur is None or not cur.encoder:
            return False
        start = session.scalar(select(func.max(MatchChange.id))) or 0
        enc = StoredVectors(cur.encoder, cur.dim)
        analyser = Matcher.analyser_version
        matchers = {}
        for kind in KINDS:
            m = Matcher(None, encoder=enc)
            m._vectors.defer_ann = True  # no request builds the graph: see _build_graphs
            batch = []
            t = MatchItem.__table__  # Core rows: no ORM overhead per row
            q = (select(t.c.item_id, t.c.texts, t.c.meta, t.c.vectors, t.c.dim, t.c.analyser, t.c.analysis)
                 .where(t.c.kind == kind, t.c.encoder == cur.encoder))
            for row in session.connection().execution_options(yield_per=LOAD_CHUNK).execute(q):
                batch.append((row.item_id, row.texts, row.meta, _vectors(row), _analysis(row, analyser)))
                if len(batch) >= LOAD_CHUNK:
                    m.add_precomputed(batch)
                    batch = []
            m.add_precomputed(batch)
            matchers[kind] = m
        latest = dict(session.execute(
            select(MatchChange.kind, func.max(MatchChange.id))
            .where(MatchChange.origin == "index", MatchChange.id <= start).group_by(MatchChange.kind)).all())
        session.rollback()
        with self._lock:
            self.matchers = matchers
            self.encoder = (cur.encoder, cur.dim)
            self.reader = LogReader(max(0, start - REWIND))
            self.generation = dict.fromkeys(KINDS, 0) | latest
            self.loaded = True
        log.info("matcher index loaded from the database: %s",
                 {k: len(m) for k, m in matchers.items()})
        self._build_graphs(matchers)
        return True

    @staticmethod
    def _build_graphs(matchers: dict) -> None:
        """Large collections search through an HNSW graph: build it on a thread of its
        own; until it is ready searches scan the stored vectors exactly."""
        big = [m for m in matchers.values() if m._vectors.approximate]
        if not big:
            return

        def run():
            for m in big:
                t0 = time.perf_counter()
                m._vectors.build_ann()
                log.info("search graph over %d vectors built in %.0f s", len(m._vectors),
                         time.perf_counter() - t0)

        threading.Thread(target=run, name="oims-index-graph", daemon=True).start()

    def follow(self, session: Session, limit: int = 5000) -> int:
        """Apply the log's new "index" entries; returns how many entries were read."""
        if not self.loaded and not self.load(session):
            return 0
        with self._lock:
            rows = self.reader.read(session, limit)
        # The encoder is checked after the entries are read: the worker commits a new
        # encoder before it writes any entry made with it, so entries read here are never
        # judged against an older encoder than theirs (checked before, entries written in
        # between were dropped as "another encoder's" and marked handled: an item missing
        # from this process's index until the next change of the same item).
        cur = session.get(MatchCursor, "worker", populate_existing=True)
        if cur is not None and cur.encoder and (cur.encoder, cur.dim) != self.encoder:
            log.info("encoder changed to %s: rebuilding the index", cur.encoder)
            self.loaded = False
            return self.follow(session, limit) if self.load(session) else 0
        with self._lock:
            if not rows:
                session.rollback()
                return 0
            by_kind: dict[str, dict[int, int]] = {}
            for r in rows:
                if r.origin == "index" and r.kind in self.matchers:
                    by_kind.setdefault(r.kind, {})[r.item_id] = r.id
            analyser = self.matchers[KINDS[0]].analyser_version if self.matchers else ""
            for kind, latest in by_kind.items():
                m = self.matchers[kind]
                stored = {row.item_id: row for row in session.execute(
                    select(MatchItem.item_id, MatchItem.texts, MatchItem.meta, MatchItem.vectors,
                           MatchItem.dim, MatchItem.encoder, MatchItem.analyser, MatchItem.analysis)
                    .where(MatchItem.kind == kind, MatchItem.item_id.in_(list(latest))))}
                add = []
                for item_id in latest:
                    row = stored.get(item_id)
                    if row is None or row.encoder != self.encoder[0]:
                        m.remove(item_id)
                    elif item_id not in m or m.meta(item_id) != row.meta:
                        add.append((item_id, row.texts, row.meta, _vectors(row), _analysis(row, analyser)))
                m.add_precomputed(add)
                self.generation[kind] = max(self.generation[kind], max(latest.values()))
            self.reader.handled([r.id for r in rows])
        session.rollback()
        return len(rows)
