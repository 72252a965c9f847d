"""Vector index keyed by integer ids: exact below a size threshold, HNSW above.

All vectors live in a contiguous store (float32 while exact; float16 once the
collection is large, to fit 1M x 384 in well under 2 GB) so items can be added,
updated and removed one at a time. Above `hnsw_threshold` a FAISS HNSW graph
with 8-bit scalar-quantised codes proposes candidates, which are then re-scored
exactly from the store. Removed or replaced vectors are tombstoned and hidden by
an ID selector until the graph is rebuilt. FAISS is imported lazily.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)


def _faiss():
    import faiss

    return faiss


class VectorIndex:
    # Fewer allowed vectors than this (or 2% of the store) are scanned exactly even in
    # HNSW mode: as fast, and a graph walk degrades under a very selective filter.
    exact_scan_below = 5000

    def __init__(self, dim: int, kind: str = "auto", hnsw_threshold: int = 50_000,
                 hnsw_m: int = 32, ef_construction: int = 128, ef_search: int = 256) -> None:
        if kind not in {"auto", "exact", "flat", "hnsw"}:
            raise ValueError(f"unknown index kind {kind!r}")
        self.dim, self.kind = dim, kind
        self.hnsw_threshold, self.hnsw_m = hnsw_threshold, hnsw_m
        self.ef_construction, self.ef_search = ef_construction, ef_search
        self._vecs = np.zeros((0, dim), dtype=np.float32)
        self._row_of_pos = np.zeros(0, dtype=np.int64)  # -1 = tombstone
        self._pos_of_row: dict[int, int] = {}
        self._n = 0  # used slots in the store
        self._ann = None  # FAISS index over store positions 0.._ann_n-1
        self._ann_n = 0
        # True: never build the graph inside a search; scan exactly until
        # build_ann() (e.g. on a background thread) has installed it.
        self.defer_ann = False
        self._layout = 0  # bumped by compact(): a graph built before it is void

    # ----------------------------------------------------------------- state
    def __len__(self) -> int:
        return len(self._pos_of_row)

    def __contains__(self, row: int) -> bool:
        return row in self._pos_of_row

    @property
    def approximate(self) -> bool:
        return self.kind == "hnsw" or (self.kind == "auto" and len(self) > self.hnsw_threshold)

    def rows(self) -> np.ndarray:
        return np.fromiter(self._pos_of_row.keys(), dtype=np.int64, count=len(self))

    def get(self, rows: np.ndarray | list[int]) -> np.ndarray:
        pos = [self._pos_of_row[int(r)] for r in rows]
        return self._vecs[pos].astype(np.float32)

    def _grow(self, extra: int) -> None:
        need = self._n + extra
        if need <= len(self._vecs):
            return
        cap = max(need, int(len(self._vecs) * 1.5) + 16)
        dtype = np.float16 if self.approximate or cap > self.hnsw_threshold else self._vecs.dtype
        vecs = np.zeros((cap, self.dim), dtype=dtype)
        vecs[: self._n] = self._vecs[: self._n]
        rop = np.full(cap, -1, dtype=np.int64)
        rop[: self._n] = self._row_of_pos[: self._n]
        self._vecs, self._row_of_pos = vecs, rop

    # --------------------------------------------------------------- updates
    def add(self, rows: np.ndarray | list[int], vectors: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(rows), self.dim)
        if len(set(rows.tolist())) != len(rows):
            raise ValueError("duplicate ids in one add() call")
        self.remove(rows)
        self._grow(len(rows))
        start = self._n
        self._vecs[start : start + len(rows)] = vectors
        self._row_of_pos[start : start + len(rows)] = rows
        for i, r in enumerate(rows.tolist()):
            self._pos_of_row[r] = start + i
        self._n += len(rows)
        if self._ann is not None:
            self._ann.add(np.ascontiguousarray(vectors, dtype=np.float32))
            self._ann_n = self._n

    def remove(self, rows: np.ndarray | list[int]) -> int:
        removed = 0
        for r in np.asarray(rows, dtype=np.int64).reshape(-1).tolist():
            pos = self._pos_of_row.pop(r, None)
            if pos is not None:
                self._row_of_pos[pos] = -1
                removed += 1
        if self._n and self._n - len(self) > max(1024, self._n // 4):
            self.compact()
        return removed

    def compact(self) -> None:
        """Drop tombstones and forget the graph (rebuilt lazily on the next search)."""
        live = np.nonzero(self._row_of_pos[: self._n] >= 0)[0]
        self._vecs = np.ascontiguousarray(self._vecs[live])
        self._row_of_pos = self._row_of_pos[live].copy()
        self._n = len(live)
        self._pos_of_row = {int(r): i for i, r in enumerate(self._row_of_pos.tolist())}
        self._ann, self._ann_n = None, 0
        self._layout += 1

    # ---------------------------------------------------------------- search
    def build_ann(self) -> bool:
        """Build the graph over the store as it is now, without blocking searches or
        updates (safe on another thread): vectors added meanwhile are appended at the
        next search; a compaction meanwhile voids it (returns False)."""
        layout, n, vecs = self._layout, self._n, self._vecs
        index = self._new_ann(vecs, n)
        if layout != self._layout:
            return False
        self._ann, self._ann_n = index, n
        return True

    def _ann_ready(self) -> bool:
        if self._ann is None:
            return False
        if self._ann_n < self._n:
            self._ann.add(np.ascontiguousarray(self._vecs[self._ann_n : self._n], dtype=np.float32))
            self._ann_n = self._n
        return True

    def _new_ann(self, vecs: np.ndarray, n: int):
        faiss = _faiss()
        if self.kind == "flat":
            index = faiss.IndexFlatIP(self.dim)
        else:
            index = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.hnsw_m,
                                      faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            step = max(1, n // 100_000)
            index.train(np.ascontiguousarray(vecs[:n:step], dtype=np.float32))
        for start in range(0, n, 65536):
            index.add(np.ascontiguousarray(vecs[start : min(n, start + 65536)], dtype=np.float32))
        logger.info("built %s index over %d vectors", type(index).__name__, n)
        return index

    def _build_ann(self) -> None:
        faiss = _faiss()
        if self.kind == "flat":
            index = faiss.IndexFlatIP(self.dim)
        else:
            index = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.hnsw_m,
                                      faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.train(self._sample_for_training())
        for start in range(0, self._n, 65536):
            chunk = self._vecs[start : min(self._n, start + 65536)]
            index.add(np.ascontiguousarray(chunk, dtype=np.float32))
        self._ann, self._ann_n = index, self._n
        logger.info("built %s index over %d vectors", type(index).__name__, self._n)

    def _sample_for_training(self) -> np.ndarray:
        step = max(1, self._n // 100_000)
        return np.ascontiguousarray(self._vecs[: self._n : step], dtype=np.float32)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) per query, best first; rows are -1 where fewer exist.

        `allowed` is an optional boolean mask over rows (indexed by row id) applied
        during the search, not after it.
        """
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        nq = len(queries)
        scores = np.full((nq, k), -np.inf, dtype=np.float32)
        rows = np.full((nq, k), -1, dtype=np.int64)
        if self._n == 0 or k <= 0:
            return scores, rows
        row_of_pos = self._row_of_pos[: self._n]
        live = row_of_pos >= 0
        if allowed is not None:
            ok = np.zeros(self._n, dtype=bool)
            inside = live & (row_of_pos < len(allowed))
            ok[inside] = allowed[row_of_pos[inside]]
            live = ok
        n_live = int(live.sum())
        floor = max(self.exact_scan_below, self._n // 50)
        use_ann = (self.kind == "flat" or self.approximate) and n_live > floor
        if use_ann and self.defer_ann and not self._ann_ready():
            use_ann = False  # the graph is being built elsewhere: scan exactly meanwhile
        if not use_ann:
            if n_live * 2 > self._n:  # scan the whole store in place, mask the rest
                pos = np.arange(self._n)
                sims = queries @ self._vecs[: self._n].astype(np.float32, copy=False).T
                sims[:, ~live] = -np.inf
            else:
                pos = np.nonzero(live)[0]
                sims = queries @ self._vecs[pos].astype(np.float32, copy=False).T
            kk = min(k, n_live)
            if kk == 0:
                return scores, rows
            top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            for qi in range(nq):
                order = top[qi][np.argsort(-sims[qi, top[qi]], kind="stable")]
                scores[qi, :kk] = sims[qi, order]
                rows[qi, :kk] = row_of_pos[pos[order]]
            return scores, rows
        return self._search_ann(queries, k, live, n_live, scores, rows)

    def _search_ann(self, queries: np.ndarray, k: int, live: np.ndarray, n_live: int,
                    scores: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        if self._ann is None or self._ann_n != self._n:
            self._build_ann()
        kk = min(max(4 * k, 100), n_live)
        params = None
        if n_live < self._n:
            bits = np.packbits(live, bitorder="little")
            sel = faiss.IDSelectorBitmap(self._n, faiss.swig_ptr(bits))
            params = (faiss.SearchParametersHNSW(sel=sel, efSearch=max(self.ef_search, kk))
                      if self.kind != "flat" else faiss.SearchParameters(sel=sel))
        elif self.kind != "flat":
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, kk))
        _, cand = self._ann.search(queries, kk, params=params)
        for qi in range(len(queries)):
            pos = cand[qi][cand[qi] >= 0]
            # Exact re-scoring from the store corrects the 8-bit codes' error.
            sims = self._vecs[pos].astype(np.float32) @ queries[qi]
            order = np.argsort(-sims, kind="stable")[:k]
            scores[qi, : len(order)] = sims[order]
            rows[qi, : len(order)] = self._row_of_pos[pos[order]]
        return scores, rows

    def scores_for_rows(self, query: np.ndarray, n_rows: int,
                        rows: np.ndarray | None = None) -> np.ndarray:
        """Exact cosines indexed by row (NaN where a row is absent or not requested)."""
        out = np.full(n_rows, np.nan, dtype=np.float32)
        if rows is None:
            rop = self._row_of_pos[: self._n]
            live = (rop >= 0) & (rop < n_rows)
            sims = self._vecs[: self._n].astype(np.float32, copy=False) @ query
            out[rop[live]] = sims[live]
        else:
            rows = np.asarray([r for r in np.asarray(rows).tolist() if r in self._pos_of_row],
                              dtype=np.int64)
            if len(rows):
                out[rows] = self.get(rows) @ query
        return out

    def sample_stats(self, query: np.ndarray, size: int = 2000) -> tuple[float, float]:
        """Mean and std of the query's cosines, estimated from a fixed sample of the store."""
        step = max(1, self._n // size)
        rop = self._row_of_pos[: self._n : step]
        sims = self._vecs[: self._n : step][rop >= 0].astype(np.float32) @ query
        if len(sims) < 2:
            return 0.0, 1.0
        return float(sims.mean()), float(sims.std() or 1.0)

    # ----------------------------------------------------------- persistence
    def state(self) -> dict[str, np.ndarray]:
        live = np.nonzero(self._row_of_pos[: self._n] >= 0)[0]
        return {"vectors": np.ascontiguousarray(self._vecs[live]),
                "rows": self._row_of_pos[live].copy()}

    @classmethod
    def from_state(cls, dim: int, vectors: np.ndarray, rows: np.ndarray, **kwargs: object
                   ) -> VectorIndex:
        index = cls(dim, **kwargs)  # type: ignore[arg-type]
        if len(rows):
            index._grow(len(rows))
            index._vecs[: len(rows)] = vectors
            index._row_of_pos[: len(rows)] = rows
            index._n = len(rows)
            index._pos_of_row = {int(r): i for i, r in enumerate(rows.tolist())}
        return index
