"""Why a candidate ranked: its best-matching sentences and the terms they share with the query."""

from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import analyse
from .lexical import BM25Index
from .text import split_sentences, tokens


@dataclass(frozen=True)
class Reason:
    """One piece of evidence, ready for a template: `{{ r.text }}`, `{{ r.terms|join(', ') }}`."""

    text: str  # the candidate's sentence (or opening words when nothing matched lexically)
    terms: list[str] = field(default_factory=list)  # query terms found in `text`
    score: float = 0.0  # the sentence's share of the query's lexical weight, or the doc cosine
    document: int = 0  # which of the candidate's texts (profiles have several)

    def __str__(self) -> str:
        return f"{self.text} [{', '.join(self.terms)}]" if self.terms else self.text


def matched_terms(query: str, sentence: str) -> list[str]:
    """The sentence's whole display words (compounds kept whole) that share a token with the query.

    Every term is a complete word of the analyser (アルミニウム, ろう付け, 冷却プレート),
    never part of one; in sentence order, without repeats.
    """
    qset = set(tokens(query))
    out = [w.text for w in analyse(sentence).words if qset.intersection(w.tokens)]
    return list(dict.fromkeys(out))


def explain(query: str, texts: list[str], doc_scores: list[float], lexicon: BM25Index,
            max_reasons: int = 2) -> list[Reason]:
    """Best sentences of the best-scoring documents, weighted by query-term IDF."""
    qtokens = set(tokens(query))
    total = sum(lexicon.idf(t) for t in qtokens) or 1.0
    ranked_docs = sorted(range(len(texts)), key=lambda i: -doc_scores[i])[:3]
    found: list[Reason] = []
    for d in ranked_docs:
        for sent in split_sentences(texts[d]):
            shared = qtokens.intersection(tokens(sent))
            if shared:
                weight = sum(lexicon.idf(t) for t in shared) / total
                found.append(Reason(sent, matched_terms(query, sent), round(weight, 4), d))
    found.sort(key=lambda r: -r.score)
    if found:
        return found[:max_reasons]
    best = ranked_docs[0] if ranked_docs else 0
    sents = split_sentences(texts[best]) if texts else []
    snippet = sents[0] if sents else ""
    return [Reason(snippet[:200], [], round(float(doc_scores[best]), 4) if texts else 0.0, best)]
