"""Fit check: which of a need's requirements a draft proposal addresses, sentence by sentence.

A requirement (a sentence of the need) counts as addressed only when the draft
says something about it: its closest draft sentence must be far more similar
to it than unrelated text is. "Unrelated text" is a fixed set of background
sentences from other trades (Japanese and English); each requirement's
similarities to them give its own baseline (mean, spread), and a draft
sentence addresses the requirement when its similarity is at least `z`
spreads above that baseline. A raw cosine threshold cannot do this: e5
cosines of unrelated Japanese sentences sit at 0.80-0.86, so an unrelated
draft used to "cover" half a need (46 %).

The overall score is the share of the need's requirements (weighted by length)
that are addressed; nothing else earns credit.

Speed: `prepare_need()` encodes the requirements and the baseline once (the
app caches it per need version); draft sentences are encoded once each and
kept in a small LRU (`SentenceCache`), so live checking while the proposer
types re-encodes only the sentence being edited.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .encoders import Encoder, get_encoder
from .reasons import matched_terms
from .text import split_sentences

# z (spreads above the unrelated baseline) from which a requirement counts as
# addressed, per encoder family. Measured on a cold-plate need with related,
# partly related and unrelated drafts in Japanese and English
# (bench/fit_check.py): USE separates them cleanly (related z 4.5-10,
# unrelated ≤ 3.3); e5-small less so (related Japanese 2.7-5.3, unrelated 0.9-1.9,
# English drafts to a Japanese need 0.6-1.5: e5 is weakly aligned across languages).
Z_BY_FAMILY = {"use": 4.0, "e5": 2.5}
DEFAULT_Z = 3.0
MIN_REQUIREMENT_CHARS = 4
# Text about other trades, Japanese and English: what "says nothing about it" looks like.
BACKGROUND = [
    "当社は地域の観光振興のためのイベント企画を行っています。", "食品工場の衛生管理と包装機械の導入を支援します。",
    "ソフトウェアの受託開発とクラウド運用を提供しています。", "作業服の繊維素材を開発しています。",
    "介護施設向けの見守りセンサーを販売しています。", "農産物の加工と直販を行っています。",
    "建設現場の安全教育を実施しています。", "人材派遣と採用支援を行っています。", "印刷物のデザインと製本を請け負います。",
    "物流倉庫の運営と配送を行っています。", "化粧品の企画とOEM製造を行っています。", "学習塾の運営と教材の開発をしています。",
    "家具の製造と販売を行っています。", "創業から五十年、地域のお客様に支えられてきました。", "ご不明な点はお気軽にお問い合わせください。",
    "We offer accounting and tax advisory services for small businesses.", "Our company organises trade fairs and exhibitions.",
    "We develop mobile apps for retail stores.", "We translate technical documents between Japanese and English.",
    "We provide cleaning services for offices.", "Our team has served local customers for many years.",
    "Please contact us if you have any questions.", "We run a chain of restaurants in the city.",
    "We design websites and run online advertising campaigns.",
]


def _family(encoder: Encoder) -> str:
    name = (getattr(encoder, "name", "") or "").lower()
    return "use" if "use" in name else "e5" if "e5" in name else ""


def z_threshold(encoder: Encoder) -> float:
    env = os.environ.get("OIMS_FIT_Z")
    if env:
        return float(env)
    return Z_BY_FAMILY.get(_family(encoder), DEFAULT_Z)


@dataclass(frozen=True)
class Coverage:
    need_sentence: str
    proposal_sentence: str  # the proposal's closest sentence
    score: float  # z: spreads above the requirement's unrelated baseline
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FitResult:
    score: float  # 0..1, share of the need's requirements (by length) the draft addresses
    covered: list[Coverage]
    missing: list[str]  # requirements nothing in the draft addresses yet
    details: list[Coverage]  # every requirement, in order


@dataclass(frozen=True)
class PreparedNeed:
    """A need's requirements, encoded, with each one's unrelated baseline."""

    sentences: list[str]
    vectors: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    encoder_name: str


def requirements(need_text: str) -> list[str]:
    return [s for s in dict.fromkeys(split_sentences(need_text)) if len(s.strip()) >= MIN_REQUIREMENT_CHARS]


def prepare_need(need_text: str, encoder: Encoder) -> PreparedNeed:
    sentences = requirements(need_text)
    if not sentences:
        empty = np.zeros((0,), dtype=np.float32)
        return PreparedNeed([], np.zeros((0, 1), dtype=np.float32), empty, empty, encoder.name)
    vecs = encoder.encode_queries(sentences + BACKGROUND)
    req, bg = vecs[: len(sentences)], vecs[len(sentences):]
    base = req @ bg.T
    return PreparedNeed(sentences, req, base.mean(axis=1), np.maximum(base.std(axis=1), 1e-3), encoder.name)


class SentenceCache:
    """Vectors of recently seen draft sentences, per encoder (thread-safe LRU)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, encoder: Encoder, sentences: list[str]) -> np.ndarray:
        with self._lock:
            todo = [s for s in dict.fromkeys(sentences) if (encoder.name, s) not in self._data]
        if todo:
            fresh = encoder.encode_queries(todo)
            with self._lock:
                for s, v in zip(todo, fresh, strict=True):
                    self._data[(encoder.name, s)] = v
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
        with self._lock:
            out = []
            for s in sentences:
                key = (encoder.name, s)
                self._data.move_to_end(key)
                out.append(self._data[key])
        return np.stack(out)


def fit_check(need_text: str, proposal_text: str, encoder: Encoder | str | None = None,
              threshold: float | None = None, prepared: PreparedNeed | None = None,
              cache: SentenceCache | None = None) -> FitResult:
    """`threshold`: the z from which a requirement counts as addressed (default per encoder)."""
    enc = encoder if isinstance(encoder, Encoder) else get_encoder(encoder)
    if prepared is None or prepared.encoder_name != enc.name:
        prepared = prepare_need(need_text, enc)
    need = prepared.sentences
    proposal = [s for s in split_sentences(proposal_text) if s.strip()]
    if not need:
        return FitResult(1.0, [], [], [])
    if not proposal:
        empty = [Coverage(s, "", 0.0) for s in need]
        return FitResult(0.0, [], list(need), empty)
    z_min = z_threshold(enc) if threshold is None else threshold
    vecs = cache.encode(enc, proposal) if cache is not None else enc.encode_queries(proposal)
    sims = prepared.vectors @ vecs.T
    z = (sims - prepared.mean[:, None]) / prepared.std[:, None]
    details, covered, missing = [], [], []
    addressed = np.zeros(len(need), dtype=bool)
    for i, sentence in enumerate(need):
        j = int(np.argmax(z[i]))
        score = float(z[i, j])
        addressed[i] = score >= z_min
        cov = Coverage(sentence, proposal[j], round(score, 2),
                       matched_terms(sentence, proposal[j]) if addressed[i] else [])
        details.append(cov)
        (covered if addressed[i] else missing).append(cov)
    weights = np.array([max(len(s), 1) for s in need], dtype=np.float64)
    overall = float(weights[addressed].sum() / weights.sum())
    return FitResult(round(overall, 4), covered, [c.need_sentence for c in missing], details)
