"""Calibrated scores: the estimated chance that a coordinator would judge a candidate relevant.

`Result.score` mixes a raw cosine with standardised lexical evidence; it orders one list
well but means little on its own. A one-feature logistic model per (encoder, query kind)
turns it into `probability` (0..1), the same meaning for every need and every list: a weak
candidate stays weak even when it is the best one available. Bands are fixed cut-offs
on that probability, so they are monotone in it by construction.

The parameters are fitted by `python bench/matcher_report.py --fit` on the demo judgments
(`bench/data/demo_judgments.tsv`, grade >= 2 counts as relevant) for long queries (a need
or a profile) and on the JaQuAD dev half for short ones, and stored in
`matching/data/calibration.json`. An encoder with no fitted entry uses the `fallback` entry
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


@lru_cache(maxsize=1)
def _table() -> dict:
    try:
        return json.loads(PARAMS.read_text(encoding="utf-8"))
    except FileNotFoundError:  # pragma: no cover - the file ships with the package
        return {}


def params(encoder_name: str, long_query: bool) -> tuple[float, float]:
    """(intercept, slope) of the logistic model for this encoder and query kind."""
    table = _table()
    entry = table.get(encoder_name) or table.get("fallback") or {}
    kind = "long" if long_query else "short"
    a, b = entry.get(kind) or entry.get("long") or (-4.0, 5.0)
    return float(a), float(b)


def probability(score: float, encoder_name: str, long_query: bool) -> float:
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
