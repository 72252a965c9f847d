"""Okapi BM25 over the analyser's tokens (`matching.analysis`) with incremental add/remove."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .analysis import ANALYSER_VERSION, query_tokens
from .text import tokens

# ANALYSER_VERSION (matching.analysis) changes whenever `tokens`/`analyse` could: stored
# analyses of another version are recomputed from the texts (never re-encoded).
__all__ = ["ANALYSER_VERSION", "BM25Index"]


class BM25Index:
    """Inverted index keyed by integer row; rows are added and removed one at a time."""

    def __init__(self, k1: float = 1.2, b: float = 1.0) -> None:
        self.k1, self.b = k1, b
        self._postings: dict[str, dict[int, int]] = {}
        self._doc_len: dict[int, int] = {}
        self._doc_terms: dict[int, tuple[str, ...]] = {}
        self._total_len = 0
        # Per-term numpy views of postings, rebuilt only for terms that changed.
        self._cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._doc_len)

    def add(self, row: int, text: str) -> None:
        self.add_counts(row, self.analyse(text))

    @staticmethod
    def analyse(text: str) -> dict[str, int]:
        """What `add` needs from a text (term -> frequency): JSON-serialisable, so it
        can be stored next to the text's vectors and reused (see ANALYSER_VERSION)."""
        return dict(Counter(tokens(text)))

    def add_tokens(self, row: int, analysed: list[str] | tuple[str, ...]) -> None:
        """Index a row from tokens analysed earlier (same `ANALYSER_VERSION`)."""
        self.add_counts(row, dict(Counter(analysed)))

    def add_counts(self, row: int, counts: dict[str, int]) -> None:
        if row in self._doc_len:
            self.remove(row)
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[row] = tf
            self._cache.pop(term, None)
        length = sum(counts.values())
        self._doc_len[row] = length
        self._doc_terms[row] = tuple(counts)
        self._total_len += length

    def add_counts_many(self, pairs) -> None:
        """Bulk `add_counts` for building an index: (row, counts) pairs; drops the
        per-term cache once instead of term by term."""
        postings, doc_len, doc_terms = self._postings, self._doc_len, self._doc_terms
        total = 0
        for row, counts in pairs:
            if row in doc_len:
                self.remove(row)
            for term, tf in counts.items():
                plist = postings.get(term)
                if plist is None:
                    postings[term] = {row: tf}
                else:
                    plist[row] = tf
            length = sum(counts.values())
            doc_len[row] = length
            doc_terms[row] = tuple(counts)
            total += length
        self._total_len += total
        self._cache.clear()

    def remove(self, row: int) -> None:
        if row not in self._doc_len:
            return
        for term in self._doc_terms.pop(row):
            plist = self._postings.get(term)
            if plist is not None:
                plist.pop(row, None)
                if not plist:
                    del self._postings[term]
            self._cache.pop(term, None)
        self._total_len -= self._doc_len.pop(row)

    def idf(self, term: str) -> float:
        n = len(self._doc_len)
        df = len(self._postings.get(term, ()))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _arrays(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arr = self._cache.get(term)
        if arr is None:
            plist = self._postings.get(term, {})
            rows = np.fromiter(plist.keys(), dtype=np.int64, count=len(plist))
            tfs = np.fromiter(plist.values(), dtype=np.float32, count=len(plist))
            lens = np.fromiter((self._doc_len[r] for r in plist), dtype=np.float32,
                               count=len(plist))
            arr = (rows, tfs, lens)
            self._cache[term] = arr
        return arr

    def expansion_terms(self, row: int, n: int = 40) -> Counter[str]:
        """The row's n most distinctive terms (tf * idf): a pseudo-relevance-feedback query."""
        terms = self._doc_terms.get(row, ())
        weighted = sorted(((self._postings[t][row] * self.idf(t), t) for t in terms), reverse=True)
        return Counter({t: 1 for _, t in weighted[:n]})

    def tfidf_idf(self, term: str) -> float:
        """Smoothed idf over rows, for the TF-IDF cosine (never negative)."""
        n = len(self._doc_len)
        return math.log((n + 1.0) / (len(self._postings.get(term, ())) + 1.0)) + 1.0

    def group_norm(self, rows: list[int]) -> float:
        """Length of the TF-IDF vector of these rows taken as one text (see group_cosines)."""
        tf: Counter[str] = Counter()
        for row in rows:
            for term in self._doc_terms.get(row, ()):
                tf[term] += self._postings[term][row]
        return math.sqrt(sum(((1.0 + math.log(n)) * self.tfidf_idf(t)) ** 2
                             for t, n in tf.items()))

    def group_cosines(self, query: Counter[str], groups: list[list[int]], n_rows: int,
                      norms: list[float]) -> np.ndarray:
        """TF-IDF cosine between the query and each group of rows taken as one text (a
        profile's texts together): sublinear tf (1 + log tf) on both sides, smoothed idf
        over rows; query terms absent from the index are left out. Unlike BM25 z-scores
        it is bounded and not relative to the other candidates, so it compares across
        queries. `norms`: `group_norm` of each group (callers cache them)."""
        out = np.zeros(len(groups), dtype=np.float64)
        if not groups or not self._doc_len:
            return out
        row_group = np.full(n_rows, -1, dtype=np.int64)
        for gi, rows in enumerate(groups):
            row_group[[r for r in rows if r < n_rows]] = gi
        qnorm2 = 0.0
        for term, qtf in query.items():
            if term not in self._postings or qtf <= 0:
                continue
            idf = self.tfidf_idf(term)
            qw = (1.0 + math.log(qtf)) * idf
            qnorm2 += qw * qw
            rows, tfs, _ = self._arrays(term)
            g = row_group[rows[rows < n_rows]]
            keep = g >= 0
            if not keep.any():
                continue
            tf = np.bincount(g[keep], weights=tfs[rows < n_rows][keep], minlength=len(groups))
            hit = tf > 0
            out[hit] += qw * (1.0 + np.log(tf[hit])) * idf
        denom = math.sqrt(qnorm2) * np.maximum(np.asarray(norms, dtype=np.float64), 1e-12)
        return out / denom if qnorm2 > 0 else out

    def scores(self, query: str | Counter[str], n_rows: int) -> np.ndarray:
        """Dense array of BM25 scores for rows 0..n_rows-1 (0 where nothing matched)."""
        out = np.zeros(n_rows, dtype=np.float32)
        if not self._doc_len:
            return out
        avg = self._total_len / len(self._doc_len) or 1.0
        counts = query if isinstance(query, Counter) else Counter(query_tokens(query))
        for term, qtf in counts.items():
            if term not in self._postings:
                continue
            rows, tfs, lens = self._arrays(term)
            denom = tfs + self.k1 * (1.0 - self.b + self.b * lens / avg)
            contrib = self.idf(term) * tfs * (self.k1 + 1.0) / denom
            keep = rows < n_rows
            np.add.at(out, rows[keep], (contrib * qtf)[keep])
        return out
