"""Japanese lexical scoring without spaces, sentence splitting and reasons."""

from __future__ import annotations

import numpy as np

from matching.lexical import BM25Index
from matching.reasons import explain, matched_terms
from matching.text import normalise, split_sentences, tokens


def test_japanese_becomes_normalised_words_without_particles() -> None:
    assert tokens("金属加工") == ["金属", "加工"]
    assert tokens("ＡＩ技術") == ["ai", "技術"]  # full-width folded by NFKC
    assert tokens("の") == []  # a particle is grammar, not a term
    assert tokens("ギアの撹拌") == tokens("ギヤの攪拌")  # spelling variants normalised
    assert "アルミニウム" in tokens("アルミニウムをろう付けする")
    assert "鑞付け" in tokens("アルミニウムをろう付けする")


def test_english_words_are_stemmed_and_stopwords_dropped() -> None:
    toks = tokens("The sensors and sensing of robots")
    assert {"sensor", "sens", "robot"} <= set(toks) and "the" not in toks


def test_bm25_ranks_the_japanese_document_sharing_rare_terms() -> None:
    docs = ["金属加工の自動化ロボットを開発しています。",
            "食品の冷凍保存技術と物流。",
            "ロボットによる農業の省力化。"]
    bm = BM25Index()
    for i, d in enumerate(docs):
        bm.add(i, d)
    s = bm.scores("金属加工を自動化したい", 3)
    assert int(np.argmax(s)) == 0 and s[1] == 0.0
    bm.remove(0)
    assert bm.scores("金属加工", 3)[0] == 0.0
    bm.add(0, "冷凍食品")
    assert int(np.argmax(bm.scores("冷凍", 3))) in {0, 1}


def test_split_sentences_japanese_and_english() -> None:
    text = "当社は金属加工を行う。自動化に強みがある！\nWe build robots. They weld steel."
    assert split_sentences(text) == ["当社は金属加工を行う。", "自動化に強みがある！",
                                     "We build robots.", "They weld steel."]


def test_matched_terms_are_whole_words_and_compounds() -> None:
    assert matched_terms("金属加工の自動化", "当社は金属加工と自動化ラインを提供") == [
        "金属加工", "自動化ライン"]
    assert matched_terms("laser welding", "We offer Laser welding services") == [
        "laser", "welding"]
    assert matched_terms("アルミニウムのろう付け", "アルミニウムの冷却プレートをろう付けで製作") == [
        "アルミニウム", "ろう付け"]


def test_explain_returns_best_sentence_with_terms() -> None:
    bm = BM25Index()
    texts = ["会社概要です。金属加工の自動化ラインを設計します。", "特許: 冷却装置"]
    for i, t in enumerate(texts):
        bm.add(i, t)
    reasons = explain("金属加工を自動化したい", texts, [0.9, 0.1], bm)
    assert reasons[0].text == "金属加工の自動化ラインを設計します。"
    assert "金属加工" in reasons[0].terms and reasons[0].document == 0
    assert "金属加工" in str(reasons[0])
    fallback = explain("量子", texts, [0.2, 0.7], bm)
    assert fallback[0].terms == [] and fallback[0].document == 1


def test_normalise() -> None:
    assert normalise("ＡＢＣ１２３") == "abc123"


def test_matched_terms_skip_grammar_only_spans() -> None:
    terms = matched_terms("樹脂化を提案します", "当社は部品の樹脂化を得意としています")
    assert "樹脂化を" in terms or "樹脂化" in terms
    assert all(not all("\u3040" <= ch <= "\u309f" for ch in t) for t in terms)
