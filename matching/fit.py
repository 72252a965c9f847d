"""Fit check: how well a draft proposal answers a need, sentence by sentence."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .encoders import Encoder, get_encoder
from .reasons import matched_terms
from .text import split_sentences, tokens

# A need sentence counts as addressed when its best proposal sentence is at least
# this similar (e5 cosines of unrelated Japanese sentences sit around 0.75-0.8).
DEFAULT_THRESHOLD = float(os.environ.get("OIMS_FIT_THRESHOLD", "0.86"))


@dataclass(frozen=True)
class Coverage:
    need_sentence: str
    proposal_sentence: str  # the proposal's closest sentence
    score: float
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FitResult:
    score: float  # 0..1, share of the need (by sentence) the proposal addresses, soft
    covered: list[Coverage]
    missing: list[str]  # need sentences nothing in the proposal addresses yet
    details: list[Coverage]  # every need sentence, in order


def _lexical_overlap(a: str, b: str) -> float:
    ta, tb = set(tokens(a)), set(tokens(b))
    return len(ta & tb) / len(ta) if ta else 0.0


def need_sentences(need_text: str) -> list[str]:
    """The need's sentences, in the order `fit_check` encodes them (for stored vectors)."""
    return split_sentences(need_text)


def fit_check(need_text: str, proposal_text: str, encoder: Encoder | str | None = None,
              threshold: float = DEFAULT_THRESHOLD, need_vectors: np.ndarray | None = None
              ) -> FitResult:
    """`need_vectors`: the need's sentence vectors (encode_queries(need_sentences(text))),
    stored once per need version, so only the draft is encoded here."""
    need = split_sentences(need_text)
    proposal = split_sentences(proposal_text)
    if not need:
        return FitResult(1.0, [], [], [])
    if not proposal:
        empty = [Coverage(s, "", 0.0) for s in need]
        return FitResult(0.0, [], list(need), empty)
    enc = encoder if isinstance(encoder, Encoder) else get_encoder(encoder)
    # Symmetric similarity: both sides with the query encoding (e5's advice).
    if need_vectors is not None and len(need_vectors) == len(need):
        sims = np.asarray(need_vectors, dtype=np.float32) @ enc.encode_queries(proposal).T
    else:
        vecs = enc.encode_queries(need + proposal)
        sims = vecs[: len(need)] @ vecs[len(need) :].T
    details, covered, missing = [], [], []
    soft = []
    for i, sentence in enumerate(need):
        j = int(np.argmax(sims[i]))
        score = float(sims[i, j]) + 0.1 * _lexical_overlap(sentence, proposal[j])
        cov = Coverage(sentence, proposal[j], round(score, 4), matched_terms(sentence, proposal[j]))
        details.append(cov)
        (covered if score >= threshold else missing).append(cov)
        # Map the score onto 0..1 around the threshold for a readable overall number.
        soft.append(float(np.clip((score - (threshold - 0.1)) / 0.15, 0.0, 1.0)))
    weights = np.array([max(len(s), 1) for s in need], dtype=np.float64)
    overall = float(np.dot(weights, soft) / weights.sum())
    return FitResult(round(overall, 4), covered, [c.need_sentence for c in missing], details)
