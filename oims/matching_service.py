"""The one place the app talks to the matcher library (`matching/`).

Three collections live in OIMS_INDEX_DIR: published needs, active proposals
and the capability profiles of proposing organisations.

Keeping them in step with the database:

- ORM events (registered once, so no feature has to remember to call us)
  write an `IndexQueue` row in the same transaction as every change to a
  need, proposal or organisation that the matcher reads;
- after the commit the queue is drained: the items are re-encoded and the
  collection saved atomically; if the encoder is unavailable the rows stay
  queued and pages say that matching is catching up;
- a repair (once per process, at the first search, and `flask oims
  reindex`) compares the index with the database, item by item, through a
  content hash, so a crash between the commit and the index update is
  repaired on restart;
- several worker processes share the directory: writers serialise on a lock
  file and reload before they write, readers reload when the files changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import IndexQueue, Need, Organisation, Proposal

log = logging.getLogger(__name__)

KINDS = ("needs", "proposals", "orgs")
MODEL_OF_KIND = {"needs": Need, "proposals": Proposal, "orgs": Organisation}
KIND_OF_MODEL = {Need: "needs", Proposal: "proposals", Organisation: "orgs"}
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
BATCH = 64


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


DOCUMENT_OF_KIND: dict[str, Callable] = {
    "needs": need_document, "proposals": proposal_document, "orgs": org_document,
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
    def __init__(self, app: Flask) -> None:
        self.enabled = bool(app.config.get("OIMS_MATCHING_ENABLED"))
        self.directory = Path(app.config["OIMS_INDEX_DIR"])
        self.encoder_name = app.config.get("OIMS_ENCODER") or None
        self._matchers: dict = {}
        self._encoder = None
        self._encoder_error = ""
        self._encoder_failed_at = 0.0
        self._repaired = False
        self._lock = threading.RLock()
        # Index updates after a commit run on a per-process background thread,
        # so a request never waits for encoding or for the cross-process
        # index lock (the queue is in the database: nothing is lost if the
        # process dies first; the next start repairs).
        self.background = bool(app.config.get("OIMS_INDEX_IN_BACKGROUND", True))
        self._app = app
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_pid = 0

    # encoder and collections
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

    def matcher(self, kind: str):
        """The collection `kind`, current with what any process saved."""
        from matching import Matcher

        with self._lock:
            m = self._matchers.get(kind)
            if m is None:
                m = Matcher(self.directory / kind, encoder=self.encoder())
                self._matchers[kind] = m
            else:
                m.reload_if_changed()
            return m

    @contextmanager
    def _writing(self, kind: str):
        """Serialise writers across processes; write on top of the newest saved state."""
        folder = self.directory / kind
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock, open(folder / ".oims-writer.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                m = self.matcher(kind)
                before = m.version
                yield m
                if m.version != before:
                    m.save()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # synchronisation
    def _documents(self, session: Session, kind: str, ids: Iterable[int]) -> dict[int, tuple | None]:
        model = MODEL_OF_KIND[kind]
        ids = sorted(set(ids))
        found = {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
        out = {}
        for item_id in ids:
            obj = found.get(item_id)
            doc = DOCUMENT_OF_KIND[kind](obj) if obj is not None else None
            out[item_id] = (doc[0], _with_hash(*doc)) if doc else None
        return out

    def _apply(self, kind: str, docs: dict[int, tuple | None], *, force: bool = False,
               progress: Callable[[int], None] | None = None) -> tuple[int, int]:
        """Bring the collection in line with `docs` (None = remove); returns (upserted, removed)."""
        upserted = removed = 0
        with self._writing(kind) as m:
            present = set(m.ids())
            todo = []
            for item_id, doc in docs.items():
                if doc is None:
                    if item_id in present:
                        m.remove(item_id)
                        removed += 1
                    if progress:
                        progress(1)
                elif force or item_id not in present or m.meta(item_id).get("h") != doc[1]["h"]:
                    todo.append((item_id, doc[0], doc[1]))
                elif progress:
                    progress(1)
            for start in range(0, len(todo), BATCH):
                chunk = todo[start:start + BATCH]
                upserted += m.upsert_many(chunk)
                if progress:
                    progress(len(chunk))
        return upserted, removed

    def drain(self, session: Session | None = None, limit: int = 2000) -> int:
        """Index what the queue holds; return how many rows were handled.

        Raises EncoderUnavailable (the rows stay queued, their attempts counted)."""
        session = session or db.session
        rows = session.scalars(select(IndexQueue).order_by(IndexQueue.id).limit(limit)).all()
        if not rows:
            return 0
        by_kind: dict[str, set[int]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, set()).add(row.item_id)
        try:
            for kind, ids in by_kind.items():
                if kind in MODEL_OF_KIND:
                    self._apply(kind, self._documents(session, kind, ids))
        except Exception as exc:
            for row in rows:
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            session.commit()
            raise
        session.execute(delete(IndexQueue).where(IndexQueue.id.in_([r.id for r in rows])))
        session.commit()
        return len(rows)

    def repair(self, session: Session | None = None, *, force: bool = False,
               progress: Callable[[int], None] | None = None) -> dict[str, tuple[int, int]]:
        """Compare every collection with the database and fix the differences."""
        session = session or db.session
        high = session.scalar(select(func.max(IndexQueue.id)))
        report = {}
        for kind in KINDS:
            model = MODEL_OF_KIND[kind]
            db_ids = set(session.scalars(select(model.id)))
            stray = set(self.matcher(kind).ids()) - db_ids
            docs = self._documents(session, kind, db_ids)
            docs.update({i: None for i in stray})
            report[kind] = self._apply(kind, docs, force=force, progress=progress)
        if high is not None:
            session.execute(delete(IndexQueue).where(IndexQueue.id <= high))
        session.commit()
        self._repaired = True
        return report

    def count_items(self, session: Session | None = None) -> int:
        session = session or db.session
        return sum(session.scalar(select(func.count(MODEL_OF_KIND[k].id))) or 0 for k in KINDS)

    def ensure_current(self) -> bool:
        """Before a search: repair once per process, then drain the queue.

        Returns False (and logs) when the matcher cannot be used right now."""
        if not self.enabled:
            return False
        try:
            self.encoder()
            with _own_session() as session:
                if not self._repaired:
                    self.repair(session)
                elif session.scalar(select(func.count(IndexQueue.id))):
                    self.drain(session)
        except Exception:
            log.warning("matching is not available", exc_info=True)
            return False
        return True

    def status(self) -> dict:
        pending = db.session.scalar(select(func.count(IndexQueue.id))) or 0
        available = self.enabled and self.available
        return {"enabled": self.enabled, "available": available, "pending": pending,
                "catching_up": self.enabled and (pending > 0 or not available)}

    # background indexing
    def kick(self) -> None:
        """Index what is queued soon, off the caller's thread."""
        with self._lock:
            # A thread does not survive fork(): start one per process, lazily.
            if self._thread is None or not self._thread.is_alive() or self._thread_pid != os.getpid():
                self._thread = threading.Thread(target=self._drain_loop, name="oims-index", daemon=True)
                self._thread_pid = os.getpid()
                self._thread.start()
        self._wake.set()

    def _drain_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._app.app_context():
                try:
                    self.encoder()
                    with _own_session() as session:
                        while self.drain(session):
                            pass
                except Exception:
                    log.warning("background index update deferred; the queue keeps it", exc_info=True)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until the queue is empty (benchmarks, tests, CLI). True when it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with _own_session() as session:
                if not session.scalar(select(func.count(IndexQueue.id))):
                    return True
            time.sleep(0.05)
        return False

    # searches (call ensure_current() first)
    def search(self, kind: str, query: str, k: int = 20, filters: dict | None = None,
               exclude_ids: set[int] | None = None):
        if not self.ensure_current():
            return None
        try:
            with self._lock:  # the background thread may be writing the same collection
                return self.matcher(kind).search(query, k=k, filters=filters or None, exclude_ids=exclude_ids)
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

def rank_proposals(need: Need, k: int = 100):
    """Proposals to `need`, best first: [(proposal_id, score, reasons, parts)] or None."""
    results = service().search("proposals", need.matching_text(), k=k, filters={"need_id": need.id})
    if results is None:
        return None
    m = service().matcher("proposals")
    out = []
    for r in results:
        parts = m.meta(r.id).get("parts", []) if r.id in m else []
        out.append((r.id, r.score, r.reasons, parts))
    return out


def recommend_orgs(need: Need, filters: dict | None = None, exclude_ids: set[int] | None = None,
                   k: int = 20):
    return service().search("orgs", need.matching_text(), k=k, filters=filters, exclude_ids=exclude_ids)


def needs_for_org(org: Organisation, exclude_ids: set[int] | None = None, k: int = 10):
    query = "\n".join(org.capability_texts())
    if not query.strip():
        return []
    return service().search("needs", query, k=k, exclude_ids=exclude_ids)


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


def reindex(progress: Callable[[int], None] | None = None, force: bool = True) -> dict:
    return service().repair(db.session, force=force, progress=progress)


def init_app(app: Flask) -> None:
    from .matching_events import register_events

    service(app)
    register_events()
