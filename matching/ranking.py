"""Score fusion (dense + lexical) and profile aggregation (several documents per item)."""

from __future__ import annotations

import os

import numpy as np

# Tuned on the JaQuAD and reviewers dev halves (see docs/matcher.md); override via env.
DEFAULT_LEXICAL_WEIGHT = float(os.environ.get("OIMS_MATCH_LEXICAL_WEIGHT", "0.1"))
DEFAULT_AGGREGATION = os.environ.get("OIMS_MATCH_AGGREGATION", "top3")
AGGREGATIONS = ("max", "mean", "top2", "top3", "top5", "softmax")


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float = DEFAULT_LEXICAL_WEIGHT,
         lexical_scale: float | None = None) -> np.ndarray:
    """dense cosine + weight * lexical / scale.

    The scale is the best lexical score of the query (so the lexical part lies in
    [0, 1]) unless a fixed scale is given. Cosines of different documents stay
    comparable across queries, which graded (per-candidate) evaluations need.
    """
    dense = np.asarray(dense, dtype=np.float32)
    if weight == 0 or lexical is None:
        return dense
    lexical = np.asarray(lexical, dtype=np.float32)
    scale = lexical_scale if lexical_scale is not None else float(lexical.max(initial=0.0))
    if scale <= 0:
        return dense
    return dense + weight * lexical / scale


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
    if method == "softmax":  # smooth max: log-mean-exp with temperature 0.05
        t = 0.05
        return float(s[0] + t * np.log(np.mean(np.exp((s - s[0]) / t))))
    raise ValueError(f"unknown aggregation {method!r}; choose from {AGGREGATIONS}")
