"""Hybrid scoring: dense cosine + BM25 + pseudo-relevance feedback, and profile aggregation.

Each signal is standardised per query (z-score over the whole collection, the
dense one estimated from a sample when the collection is approximate-indexed),
then mixed linearly. Weights were tuned on the JaQuAD and reviewers dev halves;
see docs/matcher.md for the measurements. Override with the env vars below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .calibration import MEDIUM_QUERY_CHARS

AGGREGATIONS = ("max", "mean", "top2", "top3", "top5", "softmax")


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DEFAULT_LEXICAL_WEIGHT = _env_float("OIMS_MATCH_LEXICAL_WEIGHT", 0.5)
DEFAULT_PRF_WEIGHT = _env_float("OIMS_MATCH_PRF_WEIGHT", 0.3)
DEFAULT_AGGREGATION = os.environ.get("OIMS_MATCH_AGGREGATION", "top5")
LONG_QUERY_CHARS = int(os.environ.get("OIMS_MATCH_LONG_QUERY_CHARS", "300"))
LONG_LEXICAL_WEIGHT = _env_float("OIMS_MATCH_LONG_LEXICAL_WEIGHT", 0.25)
LONG_PRF_WEIGHT = _env_float("OIMS_MATCH_LONG_PRF_WEIGHT", 0.0)
PROFILE_WEIGHT = _env_float("OIMS_MATCH_PROFILE_WEIGHT", 0.0)
MEDIUM_PROFILE_WEIGHT = _env_float("OIMS_MATCH_MEDIUM_PROFILE_WEIGHT", 0.3)
LONG_PROFILE_WEIGHT = _env_float("OIMS_MATCH_LONG_PROFILE_WEIGHT", 0.3)
PER_LANGUAGE = os.environ.get("OIMS_MATCH_PER_LANGUAGE", "1") not in ("0", "false", "no")


@dataclass(frozen=True)
class Weights:
    lexical: float = DEFAULT_LEXICAL_WEIGHT  # BM25 over char bigrams / stemmed words
    prf: float = DEFAULT_PRF_WEIGHT  # BM25 of the first-pass best document's key terms
    aggregation: str = DEFAULT_AGGREGATION
    dense: float = 1.0  # for ablations (0 = lexical only)
    # A query this long is a document (a full need or paper): it is encoded as a
    # passage (document-to-document similarity), leans less on exact terms and
    # needs no feedback expansion.
    long_query_chars: int = LONG_QUERY_CHARS
    long_lexical: float = LONG_LEXICAL_WEIGHT
    long_prf: float = LONG_PRF_WEIGHT
    # TF-IDF cosine between the query and an item's texts taken together, added to the
    # item's aggregated score (not standardised per query: it compares across queries),
    # by query kind (calibration.query_kind: keywords/question, description, document).
    profile: float = PROFILE_WEIGHT
    medium_profile: float = MEDIUM_PROFILE_WEIGHT
    long_profile: float = LONG_PROFILE_WEIGHT
    # Standardise dense and lexical scores within each language of a mixed collection.
    per_language: bool = PER_LANGUAGE

    def is_long(self, query: str) -> bool:
        return len(query) >= self.long_query_chars

    def profile_for_query(self, query: str) -> float:
        if self.is_long(query):
            return self.long_profile
        return self.medium_profile if len(query) >= MEDIUM_QUERY_CHARS else self.profile

    def for_query(self, query: str) -> tuple[float, float]:
        """(lexical, prf) weights for this query."""
        return (self.long_lexical, self.long_prf) if self.is_long(query) else (self.lexical,
                                                                                 self.prf)


def zscore(values: np.ndarray, mean: float | None = None, std: float | None = None
           ) -> np.ndarray:
    """Standardise finite values; NaN (unknown) becomes 0, i.e. average."""
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    if mean is None or std is None:
        if finite.sum() < 2:
            return np.where(finite, 0.0, 0.0).astype(np.float32)
        mean, std = float(values[finite].mean()), float(values[finite].std())
    out = (values - mean) / (std or 1.0)
    return np.where(finite, out, 0.0).astype(np.float32)


def aggregate(scores: np.ndarray, method: str = DEFAULT_AGGREGATION) -> float:
    """Score of a profile from the scores of its documents."""
    s = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    if len(s) == 0:
        return float("-inf")
    if method == "max":
        return float(s[0])
    if method == "mean":
        return float(s.mean())
    if method.startswith("top"):
        return float(s[: int(method[3:])].mean())
    if method == "softmax":  # smooth max: log-mean-exp with temperature 0.5 (z units)
        t = 0.5
        return float(s[0] + t * np.log(np.mean(np.exp((s - s[0]) / t))))
    raise ValueError(f"unknown aggregation {method!r}; choose from {AGGREGATIONS}")
