"""Calibrated probability and band on every Result; cross-lingual ranking on the demo dev set."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from matching import Matcher, calibration
from matching.calibration import band, fit_logistic, probability, reliability

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_bands_are_monotone_in_probability() -> None:
    order = {"low": 0, "medium": 1, "high": 2}
    ps = np.linspace(0, 1, 1001)
    ranks = [order[band(p)] for p in ps]
    assert ranks == sorted(ranks) and set(ranks) == {0, 1, 2}
    assert band(calibration.HIGH) == "high" and band(calibration.MEDIUM) == "medium"


def test_probability_is_monotone_in_score_for_every_entry() -> None:
    table = calibration._table()
    assert table, "matching/data/calibration.json must ship fitted parameters"
    scores = np.linspace(-0.5, 1.5, 200)
    for name in table:
        for long_query in (True, False):
            p = [probability(s, name, long_query) for s in scores]
            assert all(0.0 <= v <= 1.0 for v in p)
            assert all(b >= a for a, b in itertools.pairwise(p))


def test_fit_logistic_recovers_known_parameters() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.6, 1.0, 20000)
    y = (rng.uniform(size=x.size) < 1 / (1 + np.exp(-(-20 + 25 * x)))).astype(float)
    a, b = fit_logistic(x, y)
    assert abs(b - 25) < 2.5 and abs(a + 20) < 2.0
    rows = reliability(np.array([probability(v, "x", True) for v in x]) * 0 +
                       1 / (1 + np.exp(-(a + b * x))), y)
    for row in rows:
        if row["n"] > 200:
            assert abs(row["predicted"] - row["observed"]) < 0.05


def test_results_carry_probability_and_band_sorted_with_score(tmp_path, hash_encoder) -> None:
    m = Matcher(tmp_path / "c", hash_encoder)
    m.upsert_many([(1, "金属加工の自動化ロボット", {}), (2, "食品の冷凍保存と物流", {}),
                   (3, "ロボットによる農業の省力化", {})])
    results = m.search("金属加工を自動化したい", k=3)
    assert [r._fields[-2:] for r in results[:1]] == [("probability", "band")]
    probs = [r.probability for r in results]
    assert probs == sorted(probs, reverse=True)
    assert all(r.band == band(r.probability) for r in results)


def test_weak_best_candidate_still_looks_weak(tmp_path, hash_encoder, monkeypatch) -> None:
    # The probability depends on the candidate's own score, never on its rank in the list.
    monkeypatch.setattr(calibration, "_table", lambda: {"hash-test": {"long": [-8.0, 10.0],
                                                                      "short": [-8.0, 10.0]}})
    query = "半導体製造装置用の高純度アルミナ部品を精密研削"
    weak = Matcher(tmp_path / "weak", hash_encoder)
    weak.upsert_many([(1, "洋菓子の製造販売と店舗運営", {}), (2, "観光バスの運行", {})])
    strong = Matcher(tmp_path / "strong", hash_encoder)
    strong.upsert_many([(1, query, {}), (2, "観光バスの運行", {})])
    best_weak, best_strong = weak.search(query, k=2)[0], strong.search(query, k=2)[0]
    assert best_weak.band == "low" and best_weak.probability < calibration.MEDIUM
    assert best_strong.band == "high"


@pytest.mark.slow
def test_calibration_is_sane_on_the_held_out_half_and_cross_lingual_ranking_works() -> None:
    """Default encoder on the demo sets: held-out reliability and JA need -> EN profile."""
    sys.path.insert(0, str(BENCH))
    from demo_sets import build
    from matcher_report import _pairs

    from matching.cli import rank
    from matching.encoders import get_encoder
    from matching.evaluation import summary

    name = get_encoder().name
    for kind in ("long", "medium"):  # needs as queries; profiles as queries ("needs for you")
        x, y = _pairs(None, half=1, kind=kind)
        p = np.array([probability(s, name, kind) for s in x])
        rows = {r["band"]: r for r in reliability(p, y)}
        assert rows["high"]["observed"] > rows["low"]["observed"], (kind, rows)
        if rows["medium"]["n"] >= 30:
            assert rows["high"]["observed"] > rows["medium"]["observed"] > rows["low"]["observed"]
        for r in rows.values():
            if r["n"] >= 30:
                assert abs(r["predicted"] - r["observed"]) < 0.15, (kind, r)
        assert np.mean((p - y) ** 2) < np.mean((y.mean() - y) ** 2)  # beats the base rate
    corpus, queries, qrels = build("ja-en-orgs")
    run = rank(corpus, queries, len(corpus), None, progress=False)
    assert summary({q: dict(r) for q, r in run.items()}, qrels)["nDCG@10"] >= 0.70


class _TableEncoder:
    """Vectors chosen by the test: a language offset that alignment has to remove."""

    name, dim = "table-test", 3

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode_queries(self, texts):
        from matching.encoders import l2_normalise

        return l2_normalise(np.stack([self.table[t] for t in texts])) if texts else \
            np.zeros((0, 3), np.float32)

    encode_documents = encode_queries


def test_per_language_alignment_lets_the_best_english_profile_compete(tmp_path) -> None:
    from matching.ranking import Weights

    rng = np.random.default_rng(1)
    query = "アルミ冷却プレートのろう付け"
    table = {query: np.array([1.0, 0.0, 0.0])}
    items = []
    # 12 Japanese profiles at angles 0.5..0.9 rad from the query; 12 English ones whose
    # cosines are all pushed down (a language offset), one of them the best match.
    for i in range(12):
        t = f"日本語の会社{i}は部品を製造しています"
        a = 0.5 + 0.4 * rng.uniform()
        table[t] = np.array([np.cos(a), np.sin(a), 0.0])
        items.append((i, t, {}))
    for i in range(12):
        t = f"English company {i} makes parts"
        a = 1.0 + (0.05 if i == 0 else 0.4 + 0.3 * rng.uniform())
        table[t] = np.array([np.cos(a), 0.0, np.sin(a)])
        items.append((100 + i, t, {}))
    enc = _TableEncoder(table)
    plain = Matcher(tmp_path / "plain", enc, weights=Weights(per_language=False))
    aligned = Matcher(tmp_path / "aligned", enc, weights=Weights(per_language=True))
    for m in (plain, aligned):
        m.upsert_many(items)
    assert all(r.id < 100 for r in plain.search(query, k=10, with_reasons=False))
    top = [r.id for r in aligned.search(query, k=3, with_reasons=False)]
    assert top[0] == 100  # the best English profile leads once languages are aligned
    # A single-language collection is scored exactly as before.
    ja_only = [it for it in items if it[0] < 100]
    p2, a2 = (Matcher(tmp_path / n, enc, weights=Weights(per_language=f))
              for n, f in (("p2", False), ("a2", True)))
    p2.upsert_many(ja_only)
    a2.upsert_many(ja_only)
    assert [(r.id, r.score) for r in p2.search(query, k=12)] == \
        [(r.id, r.score) for r in a2.search(query, k=12)]
