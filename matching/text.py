"""Text normalisation, sentence splitting and tokens for lexical scoring.

`tokens()` are the morphological analyser's words (`matching.analysis`: SudachiPy for
Japanese, Snowball for English). Both kinds of token live in one vocabulary, so mixed
Japanese/English documents need no language detection. `bigram_tokens()` is the older
character-bigram scheme, kept only to measure against.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\u30fc"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:['\-][a-z0-9]+)*")
_CJK_RE = re.compile(rf"[{_CJK}]")
_SENT_RE = re.compile(r"[^。！？!?\n]+[。！？!?]*|(?<=[.;])\s+")
_EN_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
# Particles/auxiliaries only form bigrams with their neighbours; these are the
# common English function words, which carry no topical signal.
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "more", "most", "no", "not", "of", "on", "or", "our", "should", "so", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you", "your", "also", "using", "use", "used", "based", "via", "two", "one", "new", "show", "paper"]
)


def normalise(text: str) -> str:
    """NFKC (full-width to half-width, compatibility forms) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _stem(word: str) -> str:
    for suffix, min_len in (("ations", 8), ("ation", 7), ("ings", 6), ("ing", 6), ("ies", 5),
                            ("es", 5), ("ed", 5), ("ly", 5), ("s", 4)):
        if len(word) >= min_len and word.endswith(suffix):
            if suffix == "ies":
                return word[:-3] + "y"
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65536)
def _word_token(word: str) -> str | None:
    if word in STOPWORDS or len(word) < 2 and not word.isdigit():
        return None
    return _stem(word)


def tokens(text: str) -> list[str]:
    """Lexical tokens of the analyser (`matching.analysis`): words, not fragments."""
    from .analysis import tokens as _analysed

    return _analysed(text)


def bigram_tokens(text: str) -> list[str]:
    """The previous tokens: CJK character bigrams and lightly stemmed Latin words.

    Kept for comparison in bench/ (the analyser's words measured better, docs/matcher.md).
    """
    out: list[str] = []
    for m in _TOKEN_RE.finditer(normalise(text)):
        run = m.group()
        if _CJK_RE.match(run):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tok = _word_token(run)
            if tok:
                out.append(tok)
    return out


def is_japanese(text: str) -> bool:
    """Mainly Japanese: at least a fifth of its letters are kana or kanji."""
    letters = sum(ch.isalpha() for ch in text[:2000])
    return letters > 0 and len(_CJK_RE.findall(text[:2000])) >= 0.2 * letters


def is_cjk(token: str) -> bool:
    return bool(_CJK_RE.match(token))


def split_sentences(text: str, max_chars: int = 400) -> list[str]:
    """Split into sentences on Japanese and Latin sentence ends and newlines."""
    out: list[str] = []
    for line in (text or "").splitlines():
        for part in re.split(r"(?<=[。！？])", line):
            for sent in _EN_SENT_SPLIT.split(part):
                sent = sent.strip()
                while len(sent) > max_chars:
                    out.append(sent[:max_chars])
                    sent = sent[max_chars:].strip()
                if sent:
                    out.append(sent)
    return out
