"""The encoding worker: the one place texts are encoded for the index.

It follows the change log's "app" entries (written by requests in the same
transaction as the change), computes what the matcher should hold for each
item, and when the texts changed encodes them once and stores the vectors and
lexical analysis in `MatchItem`, appending an "index" entry that every web
process follows. One worker at a time holds a lease (`MatchCursor`), so a pool
of them (one per host, or the thread embedded in each web process of `make
run`) never encodes the same change twice in parallel; if the holder dies, the
lease expires and another resumes from the stored position.

Its first step after starting is the repair: every need, proposal and
organisation is compared with what is stored (content hashes), so a change
missed while no worker ran is caught up — in the background, no request waits.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from datetime import timedelta

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oims.matcher.changelog import LogReader
from oims.matcher.documents import (
    DERIVED_KINDS,
    DOCUMENT_OF_KIND,
    MODEL_OF_KIND,
    QUERY_KINDS,
    SOURCE_OF_KIND,
    text_hash,
)
from oims.models import MatchChange, MatchCursor, MatchItem
from oims.models.base import utcnow

log = logging.getLogger(__name__)

CURSOR = "worker"
BATCH = 64


def encode_for(kind: str, encoder, texts: list[str]) -> np.ndarray:
    """Vectors for one item's texts: documents for the collections; for stored
    queries, row 0 is the whole text as `Matcher.encode_query` would encode it
    and the other rows the sentences as the fit check encodes them."""
    if kind not in QUERY_KINDS:
        return encoder.encode_documents(texts)
    from matching.ranking import Weights

    whole = texts[0]
    first = (encoder.encode_documents([whole]) if Weights().is_long(whole)
             else encoder.encode_queries([whole]))
    rest = encoder.encode_queries(texts[1:]) if len(texts) > 1 else np.zeros((0, encoder.dim), np.float32)
    return np.concatenate([first, rest]).astype(np.float32)


def _analysis(texts: list[str]) -> bytes:
    import orjson

    from matching import Matcher

    return orjson.dumps(Matcher.analyse(texts))


class IndexWorker:
    def __init__(self, encoder_factory: Callable, *, lease_seconds: float = 20.0,
                 owner: str | None = None) -> None:
        self._encoder_factory = encoder_factory
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:120]
        self.reader: LogReader | None = None
        self.repaired = False

    # lease and cursor
    def _cursor(self, session: Session) -> MatchCursor:
        cur = session.get(MatchCursor, CURSOR)
        if cur is None:
            try:
                with session.begin_nested():
                    session.add(MatchCursor(name=CURSOR, position=0, owner="", encoder="", dim=0))
            except IntegrityError:
                pass
            cur = session.get(MatchCursor, CURSOR)
        return cur

    def claim(self, session: Session) -> MatchCursor | None:
        """Take or renew the lease; None when another live worker holds it."""
        self._cursor(session)
        now = utcnow()
        took = session.execute(
            update(MatchCursor).where(
                MatchCursor.name == CURSOR,
                (MatchCursor.owner == self.owner) | (MatchCursor.lease_until.is_(None))
                | (MatchCursor.lease_until < now))
            .values(owner=self.owner, lease_until=now + self.lease)).rowcount
        session.commit()
        if not took:
            self.reader = None  # another worker moves the position meanwhile
            return None
        return session.get(MatchCursor, CURSOR, populate_existing=True)

    # one step
    def step(self, session: Session, *, use_lease: bool = True, limit: int = BATCH) -> int:
        """Handle the next batch of changes; returns how many log entries were read
        (0 = idle). Raises EncoderUnavailable (the position stays: nothing lost)."""
        cur = self.claim(session) if use_lease else self._cursor(session)
        if cur is None:
            return 0
        encoder = self._encoder_factory()
        if (cur.encoder, cur.dim) != (encoder.name, encoder.dim):
            cur.encoder, cur.dim = encoder.name, encoder.dim
            session.commit()
            self.repaired = False  # everything stored must be re-encoded by the new encoder
        if not self.repaired:
            self.repair(session)
            self.repaired = True
        if self.reader is None or self.reader.position < cur.position:
            # A new reader (start, lease taken over from another process) starts a little
            # behind the stored position: entries that committed after higher ones were
            # gaps in the previous holder's memory, lost with it. Reading an entry twice
            # is harmless (content hashes are compared before any work).
            self.reader = LogReader(max(0, cur.position - REWIND))
        rows = self.reader.read(session, limit)
        if not rows:
            return 0
        keys = {(r.kind, r.item_id) for r in rows if r.origin == "app" and r.kind in MODEL_OF_KIND}
        try:
            self.process(session, keys)
            self.reader.handled([r.id for r in rows])
            cur.position = self.reader.position
            session.commit()
        except BaseException:
            session.rollback()
            self.reader = None
            raise
        return len(rows)

    def run_until_idle(self, session: Session, *, use_lease: bool = True, max_steps: int = 10_000) -> int:
        total = 0
        for _ in range(max_steps):
            n = self.step(session, use_lease=use_lease)
            total += n
            if not n:
                break
        return total

    # the work
    def process(self, session: Session, keys: Iterable[tuple[str, int]], *, force: bool = False
                ) -> dict[str, list[int]]:
        """Bring the stored items for these (source kind, id) in line with the database;
        flushes, never commits. Returns {kind: [upserted, removed]}."""
        encoder = self._encoder_factory()
        from matching import Matcher

        report: dict[str, list[int]] = {}
        by_source: dict[str, set[int]] = {}
        for kind, item_id in keys:
            by_source.setdefault(kind, set()).add(int(item_id))
        for source, ids in by_source.items():
            model = MODEL_OF_KIND[source]
            objs = {o.id: o for o in session.scalars(select(model).where(model.id.in_(ids)))}
            for kind in DERIVED_KINDS[source]:
                stored = {m.item_id: m for m in session.scalars(
                    select(MatchItem).where(MatchItem.kind == kind, MatchItem.item_id.in_(ids)))}
                counts = report.setdefault(kind, [0, 0])
                to_encode: list[tuple[int, list[str], dict, str]] = []
                for item_id in sorted(ids):
                    obj = objs.get(item_id)
                    doc = DOCUMENT_OF_KIND[kind](obj) if obj is not None else None
                    row = stored.get(item_id)
                    if doc is None:
                        if row is not None:
                            session.delete(row)
                            session.add(MatchChange(origin="index", kind=kind, item_id=item_id))
                            counts[1] += 1
                        continue
                    texts, meta = doc
                    th = text_hash(texts)
                    if (row is not None and not force and row.text_hash == th
                            and row.encoder == encoder.name):
                        analyser = Matcher.analyser_version if kind not in QUERY_KINDS else ""
                        if row.meta != meta or row.analyser != analyser:
                            row.meta = meta
                            if row.analyser != analyser:
                                row.analysis, row.analyser = _analysis(texts), analyser
                            session.add(MatchChange(origin="index", kind=kind, item_id=item_id))
                            counts[0] += 1
                        continue
                    to_encode.append((item_id, texts, meta, th))
                for item_id, texts, meta, th in to_encode:
                    vectors = encode_for(kind, encoder, texts)
                    values = {"texts": texts, "meta": meta, "text_hash": th, "encoder": encoder.name,
                              "dim": encoder.dim,
                              "vectors": np.ascontiguousarray(vectors, np.float32).tobytes(),
                              "analyser": Matcher.analyser_version if kind not in QUERY_KINDS else "",
                              "analysis": _analysis(texts) if kind not in QUERY_KINDS else b"[]"}
                    row = stored.get(item_id)
                    if row is None:
                        session.add(MatchItem(kind=kind, item_id=item_id, **values))
                    else:
                        for k, v in values.items():
                            setattr(row, k, v)
                    session.add(MatchChange(origin="index", kind=kind, item_id=item_id))
                    counts[0] += 1
        session.flush()
        return report

    def all_keys(self, session: Session) -> set[tuple[str, int]]:
        """Every item of the database and every stored one (strays are removed)."""
        keys = set()
        for source, model in MODEL_OF_KIND.items():
            keys |= {(source, i) for i in session.scalars(select(model.id))}
        for kind, item_id in session.execute(select(MatchItem.kind, MatchItem.item_id)):
            keys.add((SOURCE_OF_KIND[kind], item_id))
        return keys

    def repair(self, session: Session, *, force: bool = False,
               progress: Callable[[int], None] | None = None) -> dict[str, list[int]]:
        """Compare everything with the database and fix the differences, in batches
        (each committed: an interrupted repair keeps what it did)."""
        report: dict[str, list[int]] = {}
        keys = sorted(self.all_keys(session))
        for start in range(0, len(keys), BATCH):
            chunk = keys[start:start + BATCH]
            for kind, (up, rm) in self.process(session, chunk, force=force).items():
                r = report.setdefault(kind, [0, 0])
                r[0] += up
                r[1] += rm
            session.commit()
            if progress:
                progress(len(chunk))
        log.info("matcher repair: %s", report)
        return report

    def reindex(self, session: Session, *, force: bool = True,
                progress: Callable[[int], None] | None = None) -> dict[str, list[int]]:
        """Compare (force: re-encode) everything now, inline (CLI, demo), with the current
        encoder; the position then moves past every change the repair covered."""
        self._cursor(session)
        session.commit()
        top = session.scalar(select(func.max(MatchChange.id))) or 0
        enc = self._encoder_factory()
        cur = session.get(MatchCursor, CURSOR)
        cur.encoder, cur.dim = enc.name, enc.dim
        session.commit()
        report = self.repair(session, force=force, progress=progress)
        self.repaired = True
        # Everything logged before the repair started is reflected in what it stored.
        cur = session.get(MatchCursor, CURSOR, populate_existing=True)
        cur.position = max(cur.position, top)
        session.commit()
        return report


REWIND = 500  # log entries a new reader re-reads below the stored position


def pending_changes(session: Session) -> int:
    """Changes the worker has not handled yet (approximately)."""
    # One statement (pages ask this on every view): the cursor as a subquery.
    position = select(MatchCursor.position).where(MatchCursor.name == CURSOR).scalar_subquery()
    return session.scalar(select(func.count(MatchChange.id)).where(
        MatchChange.id > func.coalesce(position, 0), MatchChange.origin == "app")) or 0


def prune_log(session: Session, keep: int = 100_000) -> int:
    """Drop log entries far behind the worker (new hosts start from MatchItem, not the log)."""
    cur = session.get(MatchCursor, CURSOR)
    if cur is None or cur.position <= keep:
        return 0
    n = session.execute(delete(MatchChange).where(MatchChange.id < cur.position - keep)).rowcount
    session.commit()
    return n
