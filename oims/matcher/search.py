"""Ranking against this process's in-memory index (`mirror.py`), with stored query vectors.

Pages never encode: a need's (and a profile's) query vector is stored once per
text version by the worker (kinds "need_queries", "org_queries"); ranked lists
are cached per (query version, index generation) in memory or Redis
(`cache.py`) and refreshed in the background. Every query answers None while
the index cannot answer yet (the page says the matcher is catching up).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sqlalchemy import select

from oims.matcher.cache import ResultCache
from oims.matcher.documents import need_query_document, org_query_document, org_query_text, text_hash
from oims.matcher.mirror import IndexMirror, StoredVectors
from oims.matcher.sessions import own_session
from oims.models import MatchItem, Need, Organisation

log = logging.getLogger(__name__)

VECTORS_KEPT = 4096  # stored query vectors kept in memory


class RankedProposalHit(NamedTuple):
    """One proposal ranked for a need; `probability`/`band` are the matcher's calibration."""
    id: int
    score: float
    reasons: list
    parts: list
    probability: float
    band: str


class StoredSearch:
    """Searches of one process: the mirror's collections, queried with stored vectors."""

    def __init__(self, mirror: IndexMirror, cache: ResultCache, ensure_current: Callable[[], bool], *,
                 allow_stale: bool) -> None:
        self.mirror = mirror
        self.cache = cache
        self.ensure_current = ensure_current
        self.allow_stale = allow_stale  # serve a stale ranked list while it is refreshed
        self._vectors: OrderedDict = OrderedDict()  # (kind, id, text hash, encoder) -> vectors
        self._vectors_lock = threading.Lock()

    def matcher(self, kind: str):
        """The in-memory collection `kind` (empty until the index is loaded)."""
        from matching import Matcher

        self.ensure_current()
        m = self.mirror.matchers.get(kind)
        if m is None:
            m = Matcher(None, encoder=StoredVectors("none", 1))
        return m

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
        with own_session() as session:
            row = session.execute(select(MatchItem.vectors, MatchItem.text_hash, MatchItem.encoder).where(
                MatchItem.kind == kind, MatchItem.item_id == item_id)).first()
        if row is None or (row.text_hash, row.encoder) != key[2:]:
            return None
        vecs = np.frombuffer(row.vectors, dtype=np.float32).reshape(len(texts), dim)
        with self._vectors_lock:
            self._vectors[key] = vecs
            while len(self._vectors) > VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return vecs

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
        # The generation is read before the matcher: a list is then never labelled newer than
        # the index it was computed on (a reload swaps the matcher object; a background refresh
        # with the old one labelled with the new generation would be served as fresh until the
        # next change of that kind).
        generation = self.mirror.generation.get(kind, 0)
        m = self.mirror.matchers.get(kind)
        if m is None:
            return None
        key = self.cache.key(kind, query_kind, query_id, text_hash(texts), filters or {},
                             sorted(exclude_ids or ()), k, self.mirror.encoder)
        query, vector = texts[0], qvec[0].copy()

        def compute():
            return m.search_vector(query, vector, k=k, filters=filters or None, exclude_ids=exclude_ids)

        try:
            return self.cache.get_or_compute(key, generation, compute,
                                             allow_stale=self.allow_stale)
        except Exception:
            log.warning("matching search failed", exc_info=True)
            return None

    # the queries the features ask
    def need_vector(self, need: Need) -> np.ndarray | None:
        doc = need_query_document(need)
        vecs = self.stored_vectors("need_queries", need.id, doc[0]) if doc else None
        return None if vecs is None else vecs[0]

    def need_sentence_vectors(self, need: Need) -> tuple[list[str], np.ndarray] | None:
        doc = need_query_document(need)
        vecs = self.stored_vectors("need_queries", need.id, doc[0]) if doc else None
        return None if vecs is None else (doc[0][1:], vecs[1:])

    def rank_proposals(self, need: Need, k: int = 100) -> list[RankedProposalHit] | None:
        if not self.ensure_current():
            return None
        results = self.search_stored("proposals", "need_queries", need.id, need_query_document(need), k=k,
                                     filters={"need_id": need.id})
        if results is None:
            return None
        m = self.matcher("proposals")
        out = []
        for r in results:
            parts = m.meta(r.id).get("parts", []) if r.id in m else []
            out.append(RankedProposalHit(r.id, r.score, r.reasons, parts, r.probability, r.band))
        return out

    def recommend_orgs(self, need: Need, filters: dict | None = None, exclude_ids: set[int] | None = None,
                       k: int = 20):
        if not self.ensure_current():
            return None
        return self.search_stored("orgs", "need_queries", need.id, need_query_document(need), k=k,
                                  filters=filters, exclude_ids=exclude_ids)

    def needs_for_org(self, org: Organisation, exclude_ids: set[int] | None = None, k: int = 10):
        if not org_query_text(org).strip():
            return []
        if not self.ensure_current():
            return None
        doc = org_query_document(org)
        if doc is None:  # not a proposing organisation: nothing stored for it
            return []
        return self.search_stored("needs", "org_queries", org.id, doc, k=k, exclude_ids=exclude_ids)
