"""The one place the app talks to the matcher library (`matching/`).

The index is a cache of the database (see `models/matching.py`):

- ORM events (`events.py`) append an "app" entry to the change log in the same
  transaction as every change to a need, proposal or organisation the matcher
  reads (`documents.py`: what it holds for each); the request does nothing
  else (no encoding, no waiting);
- the encoding worker (`worker.py`: `flask oims worker`, or a thread embedded
  in each web process when OIMS_INDEX_WORKER=embedded, the default) encodes
  changed texts once and stores vectors + lexical analysis in `MatchItem`,
  appending an "index" entry; at start it repairs whatever differs from the
  database, in the background (`upkeep.py` runs the threads);
- every web process builds its in-memory index from `MatchItem` (nothing is
  encoded) and follows the log's "index" entries within a second
  (`mirror.py`); no file in the instance folder is needed;
- pages never encode (`search.py`): a need's (and a profile's) query vector is
  stored once per text version (kinds "need_queries", "org_queries"), and
  ranked lists are cached per (query version, index generation) in memory or
  Redis (`cache.py`) and refreshed in the background. The encoder
  (`encoders.py`) is the worker's; a web process loads it only for the fit check.

Features call the functions below (`from oims.matcher import service as ms`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from flask import Flask, current_app
from sqlalchemy.orm import Session

from oims.matcher.cache import ResultCache, backend_for
from oims.matcher.changelog import log_changes
from oims.matcher.documents import (
    DERIVED_KINDS,
    DOCUMENT_OF_KIND,
    KINDS,
    MODEL_OF_KIND,
    QUERY_KINDS,
    UNINDEXED_PROPOSAL_STAGES,
    count_items,
    text_hash,
)
from oims.matcher.encoders import EncoderLoader
from oims.matcher.mirror import IndexMirror
from oims.matcher.search import RankedProposalHit, StoredSearch
from oims.matcher.sessions import own_session
from oims.matcher.upkeep import IndexUpkeep
from oims.models import Need, Organisation

# Callers use these as `ms.<name>`: the one door stays here.
__all__ = [
    "DERIVED_KINDS", "DOCUMENT_OF_KIND", "KINDS", "MODEL_OF_KIND", "QUERY_KINDS", "UNINDEXED_PROPOSAL_STAGES",
    "MatchingService", "RankedProposalHit", "count_items", "fit_check", "init_app", "log_changes",
    "need_sentence_vectors", "need_vector", "needs_for_org", "own_session", "rank_proposals", "recommend_orgs",
    "reindex", "service", "text_hash",
]

log = logging.getLogger(__name__)

_own_session = own_session  # the name the CLI used before sessions.py


class MatchingService:
    """Per app (and per process): the encoder (worker and fit check only), the
    in-memory index that follows the database, and the ranked-list cache.
    A facade: the work is done by `encoders`, `upkeep` and `searcher`."""

    def __init__(self, app: Flask) -> None:
        self.enabled = bool(app.config.get("OIMS_MATCHING_ENABLED"))
        self.encoder_name = app.config.get("OIMS_ENCODER") or None
        # Background (production): a commit only wakes the threads of `upkeep`.
        # Otherwise (tests) the worker and the follower run inline after each commit.
        self.background = bool(app.config.get("OIMS_INDEX_IN_BACKGROUND", True))
        self.embedded_worker = app.config.get("OIMS_INDEX_WORKER", "embedded") == "embedded"
        self.poll_seconds = float(app.config.get("OIMS_INDEX_POLL_SECONDS", 0.5))
        self.lease_seconds = float(app.config.get("OIMS_INDEX_LEASE_SECONDS", 20))
        self.mirror = IndexMirror()
        self.cache = ResultCache(backend_for(app.config.get("OIMS_REDIS_URL") or None))
        self.encoders = EncoderLoader(self.encoder_name)
        self.upkeep = IndexUpkeep(
            app, self.mirror, self.encoder, enabled=self.enabled, background=self.background,
            embedded_worker=self.embedded_worker, poll_seconds=self.poll_seconds,
            lease_seconds=self.lease_seconds)
        self.searcher = StoredSearch(self.mirror, self.cache, self.upkeep.ensure_current,
                                     allow_stale=self.background)

    # encoder (the worker's; the web process loads it only for the fit check's draft)
    def encoder(self):
        return self.encoders.get()

    @property
    def available(self) -> bool:
        return self.encoders.available

    # keeping up
    @property
    def worker(self):
        return self.upkeep.worker

    def start(self) -> None:
        self.upkeep.start()

    def kick(self) -> None:
        self.upkeep.kick()

    def sync(self) -> None:
        self.upkeep.sync()

    def ensure_current(self) -> bool:
        return self.upkeep.ensure_current()

    def pending(self, session: Session | None = None) -> int:
        return self.upkeep.pending(session)

    def status(self) -> dict:
        return self.upkeep.status()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.upkeep.wait_idle(timeout)

    # searches
    def matcher(self, kind: str):
        return self.searcher.matcher(kind)

    def stored_vectors(self, kind: str, item_id: int, texts: list[str]) -> np.ndarray | None:
        return self.searcher.stored_vectors(kind, item_id, texts)

    def search_stored(self, kind: str, query_kind: str, query_id: int, doc: tuple | None, k: int = 20,
                      filters: dict | None = None, exclude_ids: set[int] | None = None):
        return self.searcher.search_stored(kind, query_kind, query_id, doc, k, filters, exclude_ids)


def service(app: Flask | None = None) -> MatchingService:
    app = app or current_app._get_current_object()
    svc = app.extensions.get("oims_matching")
    if svc is None:
        svc = app.extensions["oims_matching"] = MatchingService(app)
    return svc


# --- what the features call ------------------------------------------------------------

def need_vector(need: Need) -> np.ndarray | None:
    """The need's query vector, computed once per need version by the worker (None until then)."""
    return service().searcher.need_vector(need)


def need_sentence_vectors(need: Need) -> tuple[list[str], np.ndarray] | None:
    """(sentences, their query vectors) of the need (split by matching.text.split_sentences,
    index encoder), or None until the worker has stored this version."""
    return service().searcher.need_sentence_vectors(need)


def rank_proposals(need: Need, k: int = 100) -> list[RankedProposalHit] | None:
    """Proposals to `need`, best first, or None while the matcher is unavailable."""
    return service().searcher.rank_proposals(need, k)


def recommend_orgs(need: Need, filters: dict | None = None, exclude_ids: set[int] | None = None,
                   k: int = 20):
    """Proposing organisations for `need`, best first, or None while the matcher is unavailable."""
    return service().searcher.recommend_orgs(need, filters, exclude_ids, k)


def needs_for_org(org: Organisation, exclude_ids: set[int] | None = None, k: int = 10):
    """Published needs for `org`'s capability profile ([] without one), or None while unavailable."""
    return service().searcher.needs_for_org(org, exclude_ids, k)


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
    """Compare (force: re-encode) everything, inline; then apply it to this process's index."""
    svc = service()
    with own_session() as session:
        report = svc.worker.reindex(session, force=force, progress=progress)
        svc.mirror.follow(session)
        while svc.mirror.follow(session):
            pass
    return {k: tuple(v) for k, v in report.items() if k in KINDS}


def init_app(app: Flask) -> None:
    svc = service(app)
    if svc.enabled and svc.background:
        # Start-up work (the repair, loading the index) runs in the background
        # threads; no request waits for it.
        app.before_request(svc.start)
