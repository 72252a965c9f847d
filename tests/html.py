"""Read a page the way a test should: by `data-testid`, not by CSS classes or markup.

Classes are for styling and change with it; a `data-testid` says "a test reads
this" and stays. Templates add one where a test needs to find a result:

    <h2 class="h5 mb-1" data-testid="need-result">...</h2>

    from ..html import texts, attrs
    texts(html, "need-result")            # ["軽量化部材の共同開発", ...] (inner text, stripped)
    attrs(html, "ranked-proposal")        # [{"data-proposal-id": "12", ...}, ...]

Browser tests use Playwright's own `page.get_by_test_id("need-result")`.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _ByTestId(HTMLParser):
    def __init__(self, testid: str):
        super().__init__(convert_charrefs=True)
        self.testid = testid
        self.found: list[tuple[dict, list[str]]] = []
        self._open: list[tuple[int, list[str]]] = []  # (depth at which a match opened, its text parts)
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if attributes.get("data-testid") == self.testid:
            parts: list[str] = []
            self.found.append((attributes, parts))
            if tag not in VOID:
                self._open.append((self._depth, parts))
        if tag not in VOID:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        self._depth -= 1
        while self._open and self._open[-1][0] >= self._depth:
            self._open.pop()

    def handle_data(self, data):
        for _depth, parts in self._open:
            parts.append(data)


def _find(html: str, testid: str) -> list[tuple[dict, list[str]]]:
    parser = _ByTestId(testid)
    parser.feed(html)
    parser.close()
    return parser.found


def texts(html: str, testid: str) -> list[str]:
    """The text inside every element with this data-testid, whitespace collapsed, in page order."""
    return [" ".join("".join(parts).split()) for _attrs, parts in _find(html, testid)]


def attrs(html: str, testid: str) -> list[dict]:
    """The attributes of every element with this data-testid, in page order."""
    return [attributes for attributes, _parts in _find(html, testid)]
