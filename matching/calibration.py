"""Calibrated scores: the estimated chance that a coordinator would judge a candidate relevant.

`Result.score` mixes a raw cosine with standardised lexical evidence; it orders one list
well but means little on its own. A one-feature logistic model per (encoder, query kind)
turns it into `probability` (0..1), the same meaning for every need and every list: a weak
candidate stays weak even when it is the best one available. Bands are fixed cut-offs
on that probability, so they are monotone in it by construction.

The parameters are fitted by `python bench/matcher_report.py --fit` per query kind
(`QUERY_KINDS`, by length): `long` (a document: a full need, 300+ characters) on the demo
judgments (`bench/data/demo_judgments.tsv`, grade >= 2 counts as relevant), `medium` (a
short description: an organisation's capability profile, a one-paragraph need; 100-299
characters) on the demo "needs for you" judgments, and `short` (keywords, a question) on the
JaQuAD dev half; stored in `matching/data/calibration.json`. The same score means more for
a descriptive query than for a question (measured: the JaQuAD-fitted curve predicted 0.41
where 0.86 of the candidates were relevant), hence one curve per kind. An encoder with no fitted entry uses the `fallback` entry
(fitted on the default encoder), which is only a rough guide.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

PARAMS = Path(__file__).resolve().parent / "data" / "calibration.json"
HIGH, MEDIUM = 0.6, 0.3  # band cut-offs on the probability
BANDS = ("high", "medium", "low")
QUERY_KINDS = ("short", "medium", "long")
MEDIUM_QUERY_CHARS = 100  # from this length a query is a description ("medium")


def query_kind(query: str, long_query_chars: int = 300) -> str:
    """'long' (a document), 'medium' (a short description) or 'short' (keywords, a question)."""
    n = len(query)
    return "long" if n >= long_query_chars else "medium" if n >= MEDIUM_QUERY_CHARS else "short"


@lru_cache(maxsize=1)
def _table() -> dict:
    try:
        return json.loads(PARAMS.read_text(encoding="utf-8"))
    except FileNotFoundError:  # pragma: no cover - the file ships with the package
        return {}


def params(encoder_name: str, long_query: bool | str) -> tuple[float, float]:
    """(intercept, slope) of the logistic model for this encoder and query kind
    (a `QUERY_KINDS` name, or a bool: True = "long", False = "short")."""
    table = _table()
    entry = table.get(encoder_name) or table.get("fallback") or {}
    kind = long_query if isinstance(long_query, str) else "long" if long_query else "short"
    if kind not in QUERY_KINDS:
        raise ValueError(f"unknown query kind {kind!r}; choose from {QUERY_KINDS}")
    a, b = (entry.get(kind) or (entry.get("short") if kind == "medium" else None)
            or entry.get("long") or (-4.0, 5.0))
    return float(a), float(b)


def probability(score: float, encoder_name: str, long_query: bool | str) -> float:
    a, b = params(encoder_name, long_query)
    z = a + b * float(score)
    return float(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))


def band(p: float) -> str:
    """'high' (p >= 0.6), 'medium' (p >= 0.3) or 'low'."""
    return "high" if p >= HIGH else "medium" if p >= MEDIUM else "low"


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iters: int = 50
                 ) -> tuple[float, float]:
    """Maximum-likelihood (a, b) for P(y=1) = sigmoid(a + b*x), by Newton's method.

    x is standardised inside for stability; a tiny L2 penalty keeps separable data finite.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    xs = (x - mu) / sd
    X = np.stack([np.ones_like(xs), xs], axis=1)
    w = np.zeros(2)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        grad = X.T @ (p - y) + l2 * np.array([0.0, w[1]])
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.diag([1e-9, 1.0])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    b = w[1] / sd
    return float(w[0] - b * mu), float(b)


def reliability(p: np.ndarray, y: np.ndarray) -> list[dict]:
    """Per band: count, mean predicted probability, observed relevant rate."""
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rows = []
    for name in BANDS:
        mask = np.array([band(v) == name for v in p], dtype=bool)
        n = int(mask.sum())
        rows.append({"band": name, "n": n,
                     "predicted": float(p[mask].mean()) if n else float("nan"),
                     "observed": float(y[mask].mean()) if n else float("nan")})
    return rows
