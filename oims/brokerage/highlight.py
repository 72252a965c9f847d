"""Mark the matched terms of a reason sentence (escaped, then <mark>ed)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from markupsafe import Markup, escape


def highlight(text: str, terms) -> Markup:
    """`text` with every occurrence of `terms` wrapped in <mark>.

    The matcher reports terms in NFKC form, so the text is normalised the same way."""
    return _highlighted(text or "", tuple(terms or ()))


@lru_cache(maxsize=16384)
def _highlighted(text: str, terms: tuple[str, ...]) -> Markup:
    # The same reasons are shown on every view of a need page (cached ranked lists):
    # escaping them term by term was a third of the page's rendering time.
    text = unicodedata.normalize("NFKC", text)
    terms = sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)
    if not terms:
        return escape(text)
    pattern = _pattern(tuple(terms))
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@lru_cache(maxsize=4096)
def _pattern(terms: tuple[str, ...]) -> re.Pattern:
    # Compiling dominated the coordinator's need page (two reasons per candidate).
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
