"""Profile-level TF-IDF cosine (long queries) and the per-kind calibration curves."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from matching import Matcher, calibration
from matching.analysis import query_tokens
from matching.calibration import probability, query_kind
from matching.lexical import BM25Index
from matching.ranking import Weights
from matching.text import tokens

DOCS = ["Reinforcement learning for robot control with sparse rewards.",
        "Graph neural networks for molecule property prediction.",
        "Robot grasping learned from simulation and domain randomisation.",
        "Protein structure prediction with attention models."]


def _direct_cosine(query: str, texts: list[str], all_texts: list[str]) -> float:
    """TF-IDF cosine written out: sublinear tf, idf log((n+1)/(df+1))+1 over all rows."""
    rows = [Counter(tokens(t)) for t in all_texts]
    n = len(rows)

    def idf(term: str) -> float:
        return math.log((n + 1) / (sum(term in r for r in rows) + 1)) + 1

    vocab = set().union(*rows)
    doc = Counter()
    for t in texts:
        doc.update(tokens(t))
    q = {t: (1 + math.log(c)) * idf(t) for t, c in Counter(query_tokens(query)).items()
         if t in vocab}
    d = {t: (1 + math.log(c)) * idf(t) for t, c in doc.items()}
    dot = sum(w * d.get(t, 0.0) for t, w in q.items())
    return dot / (math.sqrt(sum(w * w for w in q.values())) *
                  math.sqrt(sum(w * w for w in d.values())))


def test_group_cosines_match_a_direct_computation() -> None:
    idx = BM25Index()
    for row, text in enumerate(DOCS):
        idx.add(row, text)
    query = "learning robot control from simulation"
    groups = [[0, 2], [1], [3]]
    got = idx.group_cosines(Counter(query_tokens(query)), groups, len(DOCS),
                            [idx.group_norm(g) for g in groups])
    want = [_direct_cosine(query, [DOCS[r] for r in g], DOCS) for g in groups]
    assert np.allclose(got, want, atol=1e-6)
    assert got[0] > got[1] and got[0] > got[2]
    assert idx.group_cosines(Counter({"unknownword": 1}), groups, len(DOCS),
                             [1.0, 1.0, 1.0]).tolist() == [0.0, 0.0, 0.0]


def _matcher(tmp_path: Path, hash_encoder, weight: float, items) -> Matcher:
    m = Matcher(tmp_path / f"m{weight}", hash_encoder, weights=Weights(long_profile=weight))
    m.upsert_many(items)
    return m


def test_long_query_gains_the_profile_term_only_in_a_single_language_collection(
        tmp_path: Path, hash_encoder) -> None:
    items = [(i, [t], {}) for i, t in enumerate(DOCS)]
    query = ("We study reinforcement learning for robot control: policies trained in "
             "simulation with domain randomisation transfer to real robot grasping tasks, "
             "and sparse rewards are shaped by demonstrations. " * 3)
    assert len(query) >= 300
    plain = {r.id: r.score for r in _matcher(tmp_path, hash_encoder, 0.0, items).search(query, k=4)}
    boosted = {r.id: r.score for r in _matcher(tmp_path, hash_encoder, 0.5, items).search(query, k=4)}
    gain = {i: boosted[i] - plain[i] for i in plain}
    assert all(g >= 0 for g in gain.values())
    assert gain[0] > gain[1] and gain[2] > gain[3]
    # Short queries are unchanged by the long-query weight.
    short = "robot control"
    assert ([r.score for r in _matcher(tmp_path / "s", hash_encoder, 0.0, items).search(short)]
            == [r.score for r in _matcher(tmp_path / "s", hash_encoder, 0.5, items).search(short)])
    # Words barely cross languages: a mixed collection gets no profile term.
    mixed = items + [(100 + i, [f"ロボット制御の研究{i}と強化学習の応用"], {}) for i in range(10)]
    a = {r.id: r.score for r in _matcher(tmp_path / "x", hash_encoder, 0.0, mixed).search(query, k=20)}
    b = {r.id: r.score for r in _matcher(tmp_path / "y", hash_encoder, 0.5, mixed).search(query, k=20)}
    assert a == b


def test_profile_norms_follow_upserts(tmp_path: Path, hash_encoder) -> None:
    m = _matcher(tmp_path, hash_encoder, 0.5, [(i, [t], {}) for i, t in enumerate(DOCS)])
    query = "Graph neural networks for molecule property prediction and drug design. " * 5
    before = {r.id: r.score for r in m.search(query, k=4)}
    m.upsert(1, ["Bread baking and pastry recipes for small bakeries."])
    after = {r.id: r.score for r in m.search(query, k=4)}
    assert after.get(1, -1.0) < before[1]


@pytest.mark.parametrize(("chars", "kind"), [(20, "short"), (99, "short"), (100, "medium"),
                                             (299, "medium"), (300, "long")])
def test_query_kind_by_length(chars: int, kind: str) -> None:
    assert query_kind("あ" * chars) == kind


def test_every_kind_is_monotone_and_bools_still_work() -> None:
    scores = np.linspace(-0.5, 1.5, 200)
    for name in calibration._table():
        for kind in calibration.QUERY_KINDS:
            p = [probability(s, name, kind) for s in scores]
            assert all(b >= a for a, b in zip(p, p[1:], strict=False))
        assert probability(0.8, name, True) == probability(0.8, name, "long")
        assert probability(0.8, name, False) == probability(0.8, name, "short")
    with pytest.raises(ValueError):
        probability(0.8, "fallback", "huge")
