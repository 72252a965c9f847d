"""The one place the app talks to the matcher library (`matching/`).

The index is a cache of the database (see `models/matching.py`):

- ORM events (`matching_events.py`) append an "app" entry to the change log in
  the same transaction as every change to a need, proposal or organisation the
  matcher reads; the request does nothing else (no encoding, no waiting);
- the encoding worker (`matching_worker.py`: `flask oims worker`, or a thread
  embedded in each web process when OIMS_INDEX_WORKER=embedded, the default)
  encodes changed texts once and stores vectors + lexical analysis in
  `MatchItem`, appending an "index" entry; at start it repairs whatever
  differs from the database, in the background;
- every web process builds its in-memory index from `MatchItem` (nothing is
  encoded) and follows the log's "index" entries within a second
  (`matching_mirror.py`); no file in the instance folder is needed;
- pages never encode: a need's (and a profile's) query vector is stored once
  per text version (kinds "need_queries", "org_queries"), and ranked lists are
  cached per (query version, index generation) in memory or Redis
  (`matching_cache.py`) and refreshed in the background.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
from flask import Flask, current_app, has_request_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oims.extensions import db
from oims.models import MatchChange, MatchCursor, MatchItem, Need, Organisation, Proposal

log = logging.getLogger(__name__)

KINDS = ("needs", "proposals", "orgs")  # the searchable collections
QUERY_KINDS = ("need_queries", "org_queries")  # stored query vectors, not searched
MODEL_OF_KIND = {"needs": Need, "proposals": Proposal, "orgs": Organisation}
KIND_OF_MODEL = {Need: "needs", Proposal: "proposals", Organisation: "orgs"}
DERIVED_KINDS = {"needs": ("needs", "need_queries"), "proposals": ("proposals",),
                 "orgs": ("orgs", "org_queries")}
SOURCE_OF_KIND = {d: s for s, ds in DERIVED_KINDS.items() for d in ds}

# Attributes whose change alters what the matcher holds for an item.
WATCHED = {
    Need: ("title", "summary", "background", "sought", "keywords", "status", "regions",
           "partnership_types", "bureau", "owner_org_id"),
    Proposal: ("title", "summary", "solution", "track_record", "stage", "need_id", "org_id"),
    Organisation: ("profile", "technologies", "patents", "kind", "prefecture", "bureau",
                   "employee_band", "certifications", "industry"),
}
INDEXED_NEED_STATUSES = ("published",)
UNINDEXED_PROPOSAL_STAGES = ("draft", "declined", "withdrawn")
PROPOSAL_PARTS = ("summary", "solution", "track_record")
ENCODER_RETRY_SECONDS = 60


# --- what the index holds for each item -------------------------------------------------

def need_document(need: Need) -> tuple[list[str], dict] | None:
    if need.status not in INDEXED_NEED_STATUSES:
        return None
    text = need.matching_text()
    if not text.strip():
        return None
    meta = {"bureau": need.bureau, "regions": list(need.regions or []),
            "partnership_types": list(need.partnership_types or []), "owner_org_id": need.owner_org_id}
    return [text], meta


def proposal_document(proposal: Proposal) -> tuple[list[str], dict] | None:
    if proposal.stage in UNINDEXED_PROPOSAL_STAGES:
        return None
    candidates = {
        "summary": "\n".join(p for p in (proposal.title, proposal.summary) if p),
        "solution": proposal.solution or "",
        "track_record": proposal.track_record or "",
    }
    parts = [name for name in PROPOSAL_PARTS if candidates[name].strip()]
    if not parts:
        return None
    meta = {"need_id": proposal.need_id, "org_id": proposal.org_id, "stage": proposal.stage,
            "parts": parts}
    return [candidates[p] for p in parts], meta


def org_document(org: Organisation) -> tuple[list[str], dict] | None:
    if not org.is_proposer_kind:
        return None
    texts = [t for t in org.capability_texts() if t and t.strip()]
    if not texts:
        return None
    meta = {"kind": org.kind, "prefecture": org.prefecture, "bureau": org.bureau,
            "employee_band": org.employee_band, "certifications": list(org.certifications or []),
            "industry": org.industry}
    return texts, meta


def need_query_document(need: Need) -> tuple[list[str], dict] | None:
    """The need as a query (any status: the coordinator ranks before publishing too):
    the whole text, then its sentences for the fit check."""
    from matching.text import split_sentences

    text = need.matching_text()
    if not text.strip():
        return None
    return [text, *split_sentences(text)], {}


def org_query_text(org: Organisation) -> str:
    return "\n".join(t for t in org.capability_texts() if t)


def org_query_document(org: Organisation) -> tuple[list[str], dict] | None:
    if org_document(org) is None:
        return None
    text = org_query_text(org)
    return ([text], {}) if text.strip() else None


def _hashed(fn: Callable) -> Callable:
    def document(obj):
        doc = fn(obj)
        return (doc[0], _with_hash(*doc)) if doc else None

    return document


def text_hash(texts: list[str]) -> str:
    return hashlib.sha1(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()


DOCUMENT_OF_KIND: dict[str, Callable] = {
    "needs": _hashed(need_document), "proposals": _hashed(proposal_document),
    "orgs": _hashed(org_document), "need_queries": need_query_document,
    "org_queries": org_query_document,
}


def _with_hash(texts: list[str], meta: dict) -> dict:
    digest = hashlib.sha1(json.dumps([texts, meta], ensure_ascii=False, sort_keys=True,
                                     default=str).encode()).hexdigest()[:16]
    return {**meta, "h": digest}


def _check_encoder_name(name: str | None) -> None:
    """Fail fast for a model path that does not exist (saves importing torch)."""
    if not name:
        return
    raw = name[3:] if name.lower().startswith("st:") else name
    if raw.startswith(("/", "./", "../", "~")) and not Path(raw).expanduser().exists():
        from matching import EncoderUnavailable

        raise EncoderUnavailable(f"Encoder model path {raw!r} does not exist (OIMS_ENCODER).")


# --- the per-app service ----------------------------------------------------------------

class MatchingService:
    """Per app (and per process): the encoder (worker and fit check only), the
    in-memory index that follows the database, and the ranked-list cache."""

    def __init__(self, app: Flask) -> None:
        from oims.matcher.cache import ResultCache, backend_for
        from oims.matcher.mirror import IndexMirror

        self.enabled = bool(app.config.get("OIMS_MATCHING_ENABLED"))
        self.encoder_name = app.config.get("OIMS_ENCODER") or None
        # Background (production): a commit only wakes the threads below.
        # Otherwise (tests) the worker and the follower run inline after each commit.
        self.background = bool(app.config.get("OIMS_INDEX_IN_BACKGROUND", True))
        self.embedded_worker = app.config.get("OIMS_INDEX_WORKER", "embedded") == "embedded"
        self.poll_seconds = float(app.config.get("OIMS_INDEX_POLL_SECONDS", 0.5))
        self.lease_seconds = float(app.config.get("OIMS_INDEX_LEASE_SECONDS", 20))
        self.mirror = IndexMirror()
        self.cache = ResultCache(backend_for(app.config.get("OIMS_REDIS_URL") or None))
        self._worker = None
        self._encoder = None
        self._encoder_error = ""
        self._encoder_failed_at = 0.0
        self._lock = threading.RLock()  # encoder loading
        self._start_lock = threading.Lock()  # never held while working: kick() stays instant
        self._app = app
        self._wake_worker = threading.Event()
        self._wake_mirror = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._pid = 0
        self._vectors: OrderedDict = OrderedDict()  # (kind, id, text hash, encoder) -> vectors
        self._vectors_lock = threading.Lock()

    # encoder (the worker's; the web process loads it only for the fit check's draft)
    def encoder(self):
        from matching import EncoderUnavailable, get_encoder

        with self._lock:
            if self._encoder is not None:
                return self._encoder
            if self._encoder_error and time.monotonic() - self._encoder_failed_at < ENCODER_RETRY_SECONDS:
                raise EncoderUnavailable(self._encoder_error)
            try:
                _check_encoder_name(self.encoder_name)
                self._encoder = get_encoder(self.encoder_name)
            except EncoderUnavailable as exc:
                self._encoder_error = str(exc)
                self._encoder_failed_at = time.monotonic()
                log.warning("matching encoder unavailable: %s", exc)
                raise
            self._encoder_error = ""
            return self._encoder

    @property
    def available(self) -> bool:
        try:
            self.encoder()
        except Exception:  # noqa: BLE001 - any failure means "not now"
            return False
        return True

    @property
    def worker(self):
        from oims.matcher.worker import IndexWorker

        if self._worker is None:
            self._worker = IndexWorker(self.encoder, lease_seconds=self.lease_seconds)
        return self._worker

    # keeping up
    def start(self) -> None:
        """Start this process's background threads (once per process; cheap to call)."""
        if not self.enabled or not self.background:
            return
        with self._start_lock:
            if self._pid != os.getpid():  # threads do not survive fork()
                self._threads, self._pid = {}, os.getpid()
            wanted = {"oims-index-follow": self._follow_loop}
            if self.embedded_worker:
                wanted["oims-index-worker"] = self._worker_loop
            for name, target in wanted.items():
                t = self._threads.get(name)
                if t is None or not t.is_alive():
                    t = self._threads[name] = threading.Thread(target=target, name=name, daemon=True)
                    t.start()

    def kick(self) -> None:
        """After a commit that changed what the matcher reads: work soon, off this thread."""
        if not self.background:
            self.sync()
            return
        if has_request_context():
            # A CLI command (demo, import) leaves the work to the running workers.
            self.start()
        self._wake_worker.set()
        self._wake_mirror.set()

    def sync(self) -> None:
        """Inline (tests, CLI): encode what is pending, then apply it to the index."""
        if not self.enabled:
            return
        with _own_session() as session:
            try:
                self.worker.run_until_idle(session, use_lease=False)
            except Exception:
                log.warning("index update deferred; the change log keeps it", exc_info=True)
                session.rollback()
            self.mirror.follow(session)

    def _worker_loop(self) -> None:
        while True:
            with self._app.app_context():
                try:
                    with _own_session() as session:
                        while self.worker.step(session):
                            self._wake_mirror.set()
                except Exception:
                    log.warning("index worker step failed; retrying", exc_info=True)
                    self._wake_worker.wait(5.0)
            self._wake_worker.wait(self.poll_seconds)
            self._wake_worker.clear()

    def _follow_loop(self) -> None:
        while True:
            with self._app.app_context():
                try:
                    with _own_session() as session:
                        while self.mirror.follow(session):
                            pass
                except Exception:
                    log.warning("index follower failed; retrying", exc_info=True)
                    time.sleep(2.0)
            self._wake_mirror.wait(self.poll_seconds)
            self._wake_mirror.clear()

    def ensure_current(self) -> bool:
        """Before a search: True when the in-memory index can answer (never waits for encoding)."""
        if not self.enabled:
            return False
        if self.background and has_request_context():
            self.start()
        else:  # tests, CLI and benchmarks: follow inline (no threads)
            try:
                with _own_session() as session:
                    self.mirror.follow(session)
            except Exception:
                log.warning("matching is not available", exc_info=True)
        return self.mirror.loaded

    def matcher(self, kind: str):
        """The in-memory collection `kind` (empty until the index is loaded)."""
        from matching import Matcher

        self.ensure_current()
        m = self.mirror.matchers.get(kind)
        if m is None:
            from oims.matcher.mirror import StoredVectors

            m = Matcher(None, encoder=StoredVectors("none", 1))
        return m

    def pending(self, session: Session | None = None) -> int:
        """Changes the worker has not handled yet (approximately)."""
        session = session or db.session
        position = session.scalar(select(MatchCursor.position).where(MatchCursor.name == "worker")) or 0
        return session.scalar(select(func.count(MatchChange.id)).where(
            MatchChange.id > position, MatchChange.origin == "app")) or 0

    def status(self) -> dict:
        if not self.enabled:
            return {"enabled": False, "available": False, "pending": 0, "catching_up": False}
        loaded = self.ensure_current()
        pending = self.pending()
        return {"enabled": True, "available": loaded, "pending": pending,
                "catching_up": pending > 0 or not loaded}

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every change is encoded and applied here (benchmarks, tests, CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with _own_session() as session:
                top = session.scalar(select(func.max(MatchChange.id))) or 0
                if self.mirror.loaded and not self.pending(session) and (
                        self.mirror.reader is not None and self.mirror.reader.position >= top):
                    return True
            if not self.background:
                self.sync()
            else:
                self.start()
                self.kick()
            time.sleep(0.05)
        return False

    # stored vectors
    def stored_vectors(self, kind: str, item_id: int, texts: list[str]) -> np.ndarray | None:
        """The stored vectors of `texts` (None until the worker has encoded this version)."""
        if not self.ensure_current() or self.mirror.encoder is None:
            return None
        name, dim = self.mirror.encoder
        key = (kind, item_id, text_hash(texts), name)
        with self._vectors_lock:
            hit = self._vectors.get(key)
        if hit is not None:
            return hit
        with _own_session() as session:
            row = session.execute(select(MatchItem.vectors, MatchItem.text_hash, MatchItem.encoder).where(
                MatchItem.kind == kind, MatchItem.item_id == item_id)).first()
        if row is None or (row.text_hash, row.encoder) != key[2:]:
            return None
        vecs = np.frombuffer(row.vectors, dtype=np.float32).reshape(len(texts), dim)
        with self._vectors_lock:
            self._vectors[key] = vecs
            while len(self._vectors) > 4096:
                self._vectors.popitem(last=False)
        return vecs

    # searches
    def search_stored(self, kind: str, query_kind: str, query_id: int, doc: tuple | None, k: int = 20,
                      filters: dict | None = None, exclude_ids: set[int] | None = None):
        """Search `kind` with the stored query vector of (query_kind, query_id); cached.

        None when matching cannot answer yet (the page says it is catching up)."""
        if doc is None:
            return []
        texts = doc[0]
        qvec = self.stored_vectors(query_kind, query_id, texts)
        if qvec is None:
            return None
        m = self.mirror.matchers.get(kind)
        if m is None:
            return None
        key = self.cache.key(kind, query_kind, query_id, text_hash(texts), filters or {},
                             sorted(exclude_ids or ()), k, self.mirror.encoder)
        query, vector = texts[0], qvec[0].copy()

        def compute():
            return m.search_vector(query, vector, k=k, filters=filters or None, exclude_ids=exclude_ids)

        try:
            return self.cache.get_or_compute(key, self.mirror.generation.get(kind, 0), compute,
                                             allow_stale=self.background)
        except Exception:
            log.warning("matching search failed", exc_info=True)
            return None


@contextmanager
def _own_session():
    """A session of its own, so index bookkeeping never commits a request's work."""
    session = Session(db.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def service(app: Flask | None = None) -> MatchingService:
    app = app or current_app._get_current_object()
    svc = app.extensions.get("oims_matching")
    if svc is None:
        svc = app.extensions["oims_matching"] = MatchingService(app)
    return svc


# --- public helpers used by the features ----------------------------------------------

def need_vector(need: Need) -> np.ndarray | None:
    """The need's query vector, computed once per need version by the worker (None until then)."""
    doc = need_query_document(need)
    vecs = service().stored_vectors("need_queries", need.id, doc[0]) if doc else None
    return None if vecs is None else vecs[0]


def need_sentence_vectors(need: Need) -> tuple[list[str], np.ndarray] | None:
    """(sentences, their query vectors) of the need (split by matching.text.split_sentences,
    index encoder), or None until the worker has stored this version."""
    doc = need_query_document(need)
    vecs = service().stored_vectors("need_queries", need.id, doc[0]) if doc else None
    return None if vecs is None else (doc[0][1:], vecs[1:])


class RankedProposalHit(NamedTuple):
    """One proposal ranked for a need; `probability`/`band` are the matcher's calibration."""
    id: int
    score: float
    reasons: list
    parts: list
    probability: float
    band: str


def rank_proposals(need: Need, k: int = 100) -> list[RankedProposalHit] | None:
    """Proposals to `need`, best first, or None while the matcher is unavailable."""
    svc = service()
    if not svc.ensure_current():
        return None
    results = svc.search_stored("proposals", "need_queries", need.id, need_query_document(need), k=k,
                                filters={"need_id": need.id})
    if results is None:
        return None
    m = svc.matcher("proposals")
    out = []
    for r in results:
        parts = m.meta(r.id).get("parts", []) if r.id in m else []
        out.append(RankedProposalHit(r.id, r.score, r.reasons, parts, r.probability, r.band))
    return out


def recommend_orgs(need: Need, filters: dict | None = None, exclude_ids: set[int] | None = None,
                   k: int = 20):
    svc = service()
    if not svc.ensure_current():
        return None
    return svc.search_stored("orgs", "need_queries", need.id, need_query_document(need), k=k,
                             filters=filters, exclude_ids=exclude_ids)


def needs_for_org(org: Organisation, exclude_ids: set[int] | None = None, k: int = 10):
    if not org_query_text(org).strip():
        return []
    svc = service()
    if not svc.ensure_current():
        return None
    doc = org_query_document(org)
    if doc is None:  # not a proposing organisation: nothing stored for it
        return []
    return svc.search_stored("needs", "org_queries", org.id, doc, k=k, exclude_ids=exclude_ids)


def fit_check(need: Need, text: str):
    """matching.fit_check for a draft against a need, or None when the encoder is unavailable."""
    from matching import fit_check as _fit

    svc = service()
    if not svc.enabled:
        return None
    try:
        return _fit(need.matching_text(), text, encoder=svc.encoder())
    except Exception:
        log.warning("fit check failed", exc_info=True)
        return None


def log_changes(session: Session, kind: str, ids) -> None:
    """For bulk writes that bypass the ORM (Core inserts/updates, imports): tell the
    worker that these items changed, in the caller's transaction (flushes, never commits)."""
    from oims.models.base import utcnow

    if kind not in MODEL_OF_KIND:
        raise ValueError(f"unknown kind {kind!r}")
    rows = [{"origin": "app", "kind": kind, "item_id": int(i), "created_at": utcnow()} for i in ids]
    if rows:
        session.execute(MatchChange.__table__.insert(), rows)


def reindex(progress: Callable[[int], None] | None = None, force: bool = True) -> dict:
    """Compare (force: re-encode) everything, inline; then apply it to this process's index."""
    svc = service()
    with _own_session() as session:
        svc.worker._cursor(session)
        session.commit()
        top = session.scalar(select(func.max(MatchChange.id))) or 0
        enc = svc.encoder()
        cur = session.get(MatchCursor, "worker")
        cur.encoder, cur.dim = enc.name, enc.dim
        session.commit()
        report = svc.worker.repair(session, force=force, progress=progress)
        svc.worker.repaired = True
        # Everything logged before the repair started is reflected in what it stored.
        cur = session.get(MatchCursor, "worker", populate_existing=True)
        cur.position = max(cur.position, top)
        session.commit()
        svc.mirror.follow(session)
        while svc.mirror.follow(session):
            pass
    return {k: tuple(v) for k, v in report.items() if k in KINDS}


def count_items(session: Session | None = None) -> int:
    session = session or db.session
    return sum(session.scalar(select(func.count(MODEL_OF_KIND[k].id))) or 0 for k in KINDS)


def init_app(app: Flask) -> None:
    svc = service(app)
    if svc.enabled and svc.background:
        # Start-up work (the repair, loading the index) runs in the background
        # threads; no request waits for it.
        app.before_request(svc.start)
