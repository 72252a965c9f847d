"""Every page, as every role allowed to see it: security headers, no inline
script or style (the CSP forbids them), and HTML/JS put into every free-text
field comes back escaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from oims.extensions import db as _db
from oims.models import (
    Invitation,
    Meeting,
    Need,
    Notification,
    Organisation,
    Proposal,
    ProposalEvent,
    ThreadMessage,
    User,
)
from oims.needs.search import refresh_search_text

from .access_rules import RULES
from .harness import URL_RULES, expected, method_for, world_context
from .world import ROLES

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"X{SCRIPT}Y{IMG}Z"
RAW_MARKERS = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

FREE_TEXT = {
    Organisation: ("name", "name_kana", "name_en", "profile"),
    User: ("name",),
    Need: ("title", "summary", "background", "sought", "budget", "desired_start", "review_comment"),
    Proposal: ("title", "summary", "solution", "track_record", "team", "schedule", "cost", "decline_note",
               "forward_comment"),
    ThreadMessage: ("body",),
    Invitation: ("message",),
    Meeting: ("address",),
    ProposalEvent: ("note",),
    Notification: ("text",),
}
FREE_LISTS = {Organisation: ("technologies", "certifications", "patents"), Need: ("keywords",),
              Proposal: ("answers",)}


def _poison() -> None:
    """Put the payload into every free-text field of every row of the world."""
    for model, fields in FREE_TEXT.items():
        for row in _db.session.scalars(select(model)):
            for name in fields:
                limit = getattr(model.__table__.c[name].type, "length", None)
                setattr(row, name, PAYLOAD[:limit] if limit and limit < len(PAYLOAD) else PAYLOAD)
    for model, fields in FREE_LISTS.items():
        for row in _db.session.scalars(select(model)):
            for name in fields:
                setattr(row, name, [PAYLOAD, "ok"])
    for need in _db.session.scalars(select(Need)):
        refresh_search_text(need)  # from the poisoned fields, as the needs services keep it
    _db.session.commit()


@pytest.fixture(scope="module")
def poisoned(app):
    with world_context(app) as m:
        m.fresh()
        _poison()
        yield m


GET_PAGES = sorted(e for e in URL_RULES if e in RULES and method_for(e) == "GET" and e != "static")


def _pages(m):
    """(endpoint, role, url, response) for every GET page each role may open (own objects)."""
    for endpoint in GET_PAGES:
        for role in ROLES:
            if expected(endpoint, role, "own") != "ok":
                continue
            resp, _method, url, _got = m.request(endpoint, role, "own")
            yield endpoint, role, url, resp
    ids = m.world["own"]
    extra = [f"/needs/{ids[k]}" for k in ("need", "need2", "need_review", "need3")]
    extra += [f"/proposals/{ids[k]}" for k in ("proposal", "proposal_submitted", "proposal_met")]
    extra += [f"/brokerage/case/{ids[k]}" for k in ("proposal", "proposal_met")]
    extra += ["/needs/?q=script", "/needs/?q=alert", f"/proposals/need/{ids['need']}", "/dashboard"]
    for role in ("owner", "proposer", "coord", "admin"):
        for url in extra:
            resp = m.clients[role].get(url)
            if resp.status_code == 200:
                yield "extra", role, url, resp


@pytest.fixture(scope="module")
def crawled(poisoned):
    pages = list(_pages(poisoned))
    assert len(pages) > 50
    return pages


def test_payload_is_escaped_everywhere(crawled):
    leaks, escaped_seen = [], 0
    for endpoint, role, url, resp in crawled:
        if resp.mimetype != "text/html":
            continue
        html = resp.get_data(as_text=True)
        for marker in RAW_MARKERS:
            if marker in html:
                i = html.index(marker)
                leaks.append(f"{endpoint} {url} as {role}: …{html[max(0, i - 80):i + 40]!r}")
                break
        escaped_seen += ESCAPED in html
    assert not leaks, "unescaped user text:\n" + "\n".join(leaks)
    assert escaped_seen > 20, "the payload should show (escaped) on many pages"


def test_no_javascript_urls_in_links(crawled):
    bad = []
    for endpoint, role, url, resp in crawled:
        if resp.mimetype == "text/html" and re.search(r'(href|src|action)\s*=\s*["\']?\s*javascript:',
                                                      resp.get_data(as_text=True), re.IGNORECASE):
            bad.append(f"{endpoint} {url} as {role}")
    assert not bad


def test_security_headers_on_every_page(crawled):
    problems = []
    for endpoint, role, url, resp in crawled:
        h = resp.headers
        where = f"{endpoint} {url} as {role}"
        if h.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{where}: no nosniff")
        if not h.get("Referrer-Policy"):
            problems.append(f"{where}: no Referrer-Policy")
        if resp.mimetype != "text/html":
            continue
        csp = h.get("Content-Security-Policy", "")
        if url.startswith("/api/v1/docs"):
            if h.get("X-Frame-Options") != "DENY":
                problems.append(f"{where}: framable")
            continue
        if "frame-ancestors 'none'" not in csp and "frame-ancestors 'self'" not in csp:
            problems.append(f"{where}: CSP without frame-ancestors ({csp!r})")
        if "unsafe-inline" in csp or "unsafe-eval" in csp or "default-src 'self'" not in csp:
            problems.append(f"{where}: weak CSP {csp!r}")
        if h.get("Cache-Control") != "no-store":
            problems.append(f"{where}: cacheable ({h.get('Cache-Control')!r})")
    assert not problems, "\n".join(problems)


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style\b", re.IGNORECASE)


def test_pages_have_no_inline_script_or_style(crawled):
    """The CSP would block them, so the page would silently break."""
    problems = set()
    for endpoint, _role, url, resp in crawled:
        if resp.mimetype != "text/html" or url.startswith("/api/v1/docs"):
            continue
        html = resp.get_data(as_text=True)
        for name, pattern in (("inline <script>", INLINE_SCRIPT), ('style="…"', STYLE_ATTR),
                              ("on…= handler", INLINE_HANDLER), ("<style>", STYLE_BLOCK)):
            if m := pattern.search(html):
                problems.add(f"{endpoint} ({url}): {name}: {m.group(0)[:100]!r}")
    assert not problems, "\n".join(sorted(problems))


def test_error_pages_carry_the_headers_too(poisoned):
    resp = poisoned.clients["owner"].get("/no/such/page")
    assert resp.status_code == 404
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_no_python_none_in_pages(crawled):
    """A None rendered as text ("None" placeholders, values) is a template slip users see."""
    bad = set()
    for endpoint, _role, url, resp in crawled:
        if resp.mimetype != "text/html":
            continue
        if m := re.search(r'(placeholder|value|title|aria-label)="None"', resp.get_data(as_text=True)):
            bad.add(f"{endpoint} ({url}): {m.group(0)}")
    assert not bad, "\n".join(sorted(bad))
