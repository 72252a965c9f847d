"""Lexical analysis: Japanese words from SudachiPy, English words from the Snowball stemmer.

One analyser for the whole process (loaded lazily, once). `analyse(text)` returns the
matching tokens (what BM25 indexes) and the display words (what reasons highlight):

- Japanese is split by SudachiPy (core dictionary). Matching uses the *short* units
  (SplitMode A) in their normalised form (ギア → ギヤ, 撹拌 → 攪拌, ｱﾙﾐ → アルミ), which
  measured better on JaQuAD than middle units, whole compounds or both (docs/matcher.md);
  particles, auxiliaries, symbols and whitespace are dropped.
- Display words are runs of adjacent content morphemes of the noun family (nouns,
  prefixes, suffixes) merged into one compound (冷却プレート, アルミダイカスト), or a single
  verb/adjective; a reason highlights whole display words only, never part of one.
- Latin-script words are lower-cased, stop words dropped, and stemmed with PyStemmer's
  English Snowball stemmer. Sudachi also reads English loanwords as katakana
  (cleaning → クリーニング); that katakana form is added as a second token of the word, a
  small lexical bridge between English and Japanese texts (`query_tokens` leaves it out
  where no Japanese text is there to reach).

`ANALYSER_VERSION` changes whenever the tokens for a text could change: store it next to
precomputed tokens and re-analyse when it differs.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from .text import STOPWORDS, normalise

ANALYSER_VERSION = "sudachi0.7.0-core20261015-A-norm+snowball-en3.1.0/v1"

_DROP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})
_COMPOUND_POS = frozenset({"名詞", "接頭辞", "接尾辞"})
# Units are matched but never highlighted as a reason (general measurement units only).
_UNITS = frozenset({"mm", "cm", "m", "km", "um", "nm", "mg", "g", "kg", "t", "ml", "l", "kw", "kwh", "mw", "w",
                    "v", "kv", "a", "ma", "hz", "khz", "mhz", "ghz", "rpm", "mpa", "gpa", "kpa", "pa", "s", "ms",
                    "h", "min", "pcs"})
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\u30fc]")
_KATAKANA_RE = re.compile(r"^[\u30a0-\u30ff]+$")
_LATIN_RE = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_NUMBER_RE = re.compile(r"^[\d.,%/~\-+]+$")
_HIRAGANA_RE = re.compile(r"^[\u3040-\u309f]+$")
# Sudachi truncates very long inputs badly and its cost is linear: analyse in chunks.
_CHUNK = 4000

_lock = threading.Lock()
_state: dict[str, object] = {}
_local = threading.local()


def _tools():
    """(sudachi tokenizer, SplitMode, stemmer) for the calling thread.

    The dictionary is loaded once per process; a Sudachi tokenizer and a
    Snowball stemmer may not be used by two threads at once (Sudachi raises
    "Tokenizer is already in use"), and the app analyses in its index worker
    thread while requests highlight reasons, so each thread gets its own."""
    tools = getattr(_local, "tools", None)
    if tools is None:
        if "dict" not in _state:
            with _lock:
                if "dict" not in _state:
                    from sudachipy import Dictionary, SplitMode

                    dictionary = Dictionary(dict="core")
                    _state["split"] = SplitMode
                    _state["dict"] = dictionary  # last: its presence means both are set
        import Stemmer

        split = _state["split"]
        tools = _local.tools = (_state["dict"].tokenizer(mode=split.C), split, Stemmer.Stemmer("english"))
    return tools


@dataclass(frozen=True)
class Word:
    """A display unit: `text` is the exact slice `[start:end]` of the normalised text."""

    text: str
    start: int
    end: int
    tokens: tuple[str, ...]  # its matching tokens


@dataclass(frozen=True)
class Analysis:
    tokens: tuple[str, ...]  # matching tokens, in order
    words: tuple[Word, ...]  # display words, in order
    text: str  # the normalised text the offsets refer to
    version: str = ANALYSER_VERSION


@lru_cache(maxsize=65536)
def _latin_tokens(word: str, bridge: bool = True) -> tuple[str, ...]:
    if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
        return ()
    tok, _, stem = _tools()
    out = [stem.stemWord(word)]
    if bridge and word.isalpha() and len(word) >= 4:
        ms = tok.tokenize(word)
        if len(ms) == 1:
            kana = ms[0].normalized_form()
            if _KATAKANA_RE.match(kana) and len(kana) >= 3:
                out.append(kana)
    return tuple(out)


def _segments(text: str) -> list[tuple[int, str]]:
    """Split a long text at sentence ends into chunks Sudachi handles quickly."""
    if len(text) <= _CHUNK:
        return [(0, text)]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + _CHUNK)
        if end < len(text):
            cut = max(text.rfind(c, start, end) for c in "。\n.!?！？")
            end = cut + 1 if cut > start else end
        out.append((start, text[start:end]))
        start = end
    return out


@lru_cache(maxsize=4096)
def _analyse_cached(norm: str, bridge: bool = True) -> Analysis:
    tok, split, _ = _tools()
    tokens: list[str] = []
    words: list[Word] = []
    run: list[tuple[int, int, tuple[str, ...], bool]] = []

    def flush() -> None:
        if run:
            start, end = run[0][0], run[-1][1]
            toks = tuple(t for _, _, ts, _ in run for t in ts)
            # Shown only when the compound has a noun that is not a number: a lone
            # prefix or counter (約, 年間約, 個) is no evidence to show; it still matches.
            if toks and any(topical for *_, topical in run):
                words.append(Word(norm[start:end], start, end, toks))
            run.clear()

    for offset, chunk in _segments(norm):
        for m in tok.tokenize(chunk):
            pos = m.part_of_speech()[0]
            start, end = offset + m.begin(), offset + m.end()
            surface = norm[start:end]
            if pos in _DROP_POS or not surface.strip():
                flush()
                continue
            if not _CJK_RE.search(surface):
                flush()
                toks = tuple(t for lm in _LATIN_RE.finditer(surface)
                             for t in _latin_tokens(lm.group(), bridge))
                tokens.extend(toks)
                # A bare number (2.5, 2026) or a unit (mm, kg) is no evidence to show; it still matches.
                if toks and not _NUMBER_RE.match(surface) and surface.lower() not in _UNITS:
                    words.append(Word(surface, start, end, toks))
                continue
            parts = m.split(split.A)
            toks = tuple(p.normalized_form() for p in parts) if len(parts) > 1 else (
                m.normalized_form(),)
            # A lone grammar-ish hiragana morpheme (する, いる, なる) carries no topic.
            if pos in ("動詞", "形容詞") and _HIRAGANA_RE.match(surface):
                flush()
                continue
            tokens.extend(toks)
            if pos in _COMPOUND_POS:
                run.append((start, end, toks, pos == "名詞" and m.part_of_speech()[1] != "数詞"))
            else:
                # Verbs, adjectives and adverbs match but are not shown: a conjugated
                # surface (見込め) reads as a fragment, and topics are nouns.
                flush()
        flush()
    return Analysis(tuple(tokens), tuple(words), norm)


def analyse(text: str) -> Analysis:
    """Matching tokens and display words of a text (NFKC + lower case first)."""
    return _analyse_cached(normalise(text))


def tokens(text: str) -> list[str]:
    """The matching tokens of a document (what BM25 indexes), katakana bridge included."""
    return list(_analyse_cached(normalise(text)).tokens)


def query_tokens(text: str) -> list[str]:
    """The matching tokens of a query without katakana bridge tokens, for collections with no
    Japanese text: there an English query would count English words twice (reviewers dev
    loss 0.241 with the bridge on both sides, 0.237 without it). `Matcher` keeps the bridge
    on the query side when the collection has Japanese texts (demo EN->JA nDCG@10 0.900 with
    it, 0.883 without)."""
    return list(_analyse_cached(normalise(text), False).tokens)


def word_boundaries(text: str) -> set[int]:
    """Offsets (in the normalised text) where the analyser starts or ends a morpheme."""
    tok, _, _ = _tools()
    norm = normalise(text)
    out = {0, len(norm)}
    for offset, chunk in _segments(norm):
        for m in tok.tokenize(chunk):
            out.add(offset + m.begin())
            out.add(offset + m.end())
    return out
