"""Reasons over the demo data: every highlighted term is a whole word (or compound) of the analyser.

The demo texts are read from the TOML files in `oims/data/demo/` (no app is created).
A *fragment* is a highlighted term that does not start where one of the analyser's words
starts and end where one ends, in the sentence it was taken from (e.g. 「アルミ」「ニ」「ウム」
out of アルミニウム, or 「によるアルミ」 which starts on a particle and cuts アルミ部品).
The analyser's words are its display words (compounds of adjacent nouns kept whole), and
each of those must itself lie on SudachiPy morpheme boundaries.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from matching.analysis import analyse, word_boundaries
from matching.lexical import BM25Index
from matching.reasons import explain
from matching.text import normalise, split_sentences

DEMO = Path(__file__).resolve().parents[2] / "oims" / "data" / "demo"


def demo_literals() -> dict:
    """The demo data files (TOML), read without the app."""
    out = {}
    for name, key in (("organisations", "ORGANISATIONS"), ("needs", "NEEDS"), ("proposals", "PROPOSALS")):
        with (DEMO / f"{name}.toml").open("rb") as fh:
            out[key] = tomllib.load(fh)[name]
    return out


def need_text(n: dict) -> str:
    return "\n".join([n["title"], n["summary"], n["background"], n["sought"],
                      "、".join(n["keywords"])])


def proposal_text(p: dict) -> str:
    return "\n".join(p[k] for k in ("title", "summary", "solution", "track_record") if p.get(k))


def org_texts(o: dict) -> list[str]:
    return [o["profile"], *o.get("technologies", [])]


def fragments(term: str, sentence: str) -> bool:
    """True when no occurrence of `term` in the sentence sits on word boundaries at both ends."""
    norm = normalise(sentence)
    words = analyse(sentence).words
    morphemes = word_boundaries(sentence)
    starts = {w.start for w in words if w.start in morphemes}
    ends = {w.end for w in words if w.end in morphemes}
    start = norm.find(term)
    while start >= 0:
        if start in starts and start + len(term) in ends:
            return False
        start = norm.find(term, start + 1)
    return True


@pytest.fixture(scope="module")
def demo() -> dict:
    return demo_literals()


def test_demo_data_is_readable_without_the_app(demo) -> None:
    assert len(demo["NEEDS"]) >= 20 and len(demo["PROPOSALS"]) >= 100


def test_no_highlighted_reason_term_is_a_word_fragment(demo) -> None:
    needs = demo["NEEDS"]
    candidates = [[proposal_text(p)] for p in demo["PROPOSALS"]]
    candidates += [org_texts(o) for o in demo["ORGANISATIONS"]]
    lex = BM25Index()
    row = 0
    for texts in candidates:
        for t in texts:
            lex.add(row, t)
            row += 1
    checked, bad = 0, []
    offsets = np.cumsum([0] + [len(t) for t in candidates])
    for need in needs:
        query = need_text(need)
        scores = lex.scores(query, row)
        best = np.argsort([-scores[offsets[i]:offsets[i + 1]].max()
                           for i in range(len(candidates))])[:25]  # a ranked list's worth
        for i in best:
            texts = candidates[i]
            doc_scores = scores[offsets[i]:offsets[i + 1]].tolist()
            for reason in explain(query, texts, doc_scores, lex, max_reasons=3):
                for term in reason.terms:
                    checked += 1
                    if fragments(term, reason.text):
                        bad.append((need["key"], term, reason.text))
    assert checked > 500  # the test really looked at many highlighted terms
    assert bad == []


def test_known_whole_words_are_highlighted_whole(demo) -> None:
    from matching.reasons import matched_terms

    sent = "アルミニウム製の冷却プレートを真空ろう付けで量産しています。"
    terms = matched_terms("アルミニウムの冷却プレートをろう付けで", sent)
    assert "アルミニウム製" in terms or "アルミニウム" in terms
    assert any("冷却プレート" in t for t in terms) and any("ろう付け" in t for t in terms)
    for t in terms:
        assert not fragments(t, sent)
    # The fragment definition really catches fragments.
    assert fragments("ルミニ", sent) and fragments("によるアルミ", "ろう付けによるアルミ部品")
    assert not fragments("冷却プレート", sent)


def test_each_sentence_split_is_analysed(demo) -> None:
    # Every demo need sentence yields words (the analyser never returns nothing for real text).
    from matching.analysis import analyse

    for need in demo["NEEDS"][:5]:
        for sent in split_sentences(need_text(need)):
            assert analyse(sent).words, sent
