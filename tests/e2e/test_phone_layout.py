"""Phones (issue 13): at 390 px every main page fits the screen (no horizontal
scroll), tables become stacked cards with their column names, and no table
header cell is narrower than its text (no 「選/択」 split)."""

from __future__ import annotations

import re

import pytest

from oims.extensions import db as _db

from ..factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}

MEASURE = """() => {
  const doc = document.documentElement;
  const narrow = [];
  for (const th of document.querySelectorAll('th')) {
    const box = th.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;           // visually hidden table heads
    const text = th.innerText.trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(th);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    if (th.scrollWidth > th.clientWidth + 1 || (text.length <= 8 && lines > 1)) narrow.push(text);
  }
  // Tables with a head become cards; a head-less key/value table stays as it is.
  const cells = [...document.querySelectorAll('table.table:has(thead) tbody td')];
  return {
    overflow: doc.scrollWidth - doc.clientWidth,
    narrow,
    tables: document.querySelectorAll('table.table:has(thead)').length,
    stacked: document.querySelectorAll('table.table-stack').length,
    unlabelled: cells.filter(td => !td.hasAttribute('data-label')).length,
  };
}"""


def _login(page, email):
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#content form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard"))


def test_main_pages_fit_a_phone(browser, live_server, artifacts):
    with live_server.app.app_context():
        f = live_server.factory()
        owner = f.user("need_owner", email="phone.owner@example.jp")
        coord = f.user("coordinator", email="phone.coord@example.jp")
        proposer = f.user("proposer", email="phone.proposer@example.jp")
        need = f.need(owner=owner, title="EV用バッテリーケースの軽量化（マルチマテリアル化）")
        for _ in range(3):
            f.proposal(need)
        prop = f.proposal(need, proposer, stage="shortlisted")
        ids = {"need": need.id, "prop": prop.id}
        emails = {"owner": owner.email, "coord": coord.email, "proposer": proposer.email}
        _db.session.commit()

    pages = {
        "proposer": ["/dashboard", "/proposals/mine", "/needs/", f"/proposals/{ids['prop']}", "/notifications"],
        "owner": ["/dashboard", "/brokerage/inbox", "/needs/mine", f"/brokerage/case/{ids['prop']}"],
        "coord": ["/dashboard", "/brokerage/workspace", f"/brokerage/need/{ids['need']}", "/insight/",
                  "/needs/review"],
    }
    problems = []
    seen_tables = 0
    for who, urls in pages.items():
        ctx = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport=PHONE)
        ctx.set_default_timeout(20_000)
        page = ctx.new_page()
        _login(page, emails[who])
        for url in urls:
            resp = page.goto(url)
            assert resp.status == 200, (who, url, resp.status)
            m = page.evaluate(MEASURE)
            name = f"h9-phone-{who}{url.replace('/', '_')}.png"
            page.screenshot(path=str(artifacts / name), full_page=True)
            seen_tables += m["tables"]
            if m["overflow"] > 0:
                problems.append((who, url, "horizontal scroll", m["overflow"]))
            if m["narrow"]:
                problems.append((who, url, "header narrower than its text", m["narrow"]))
            if m["stacked"] != m["tables"] or m["unlabelled"]:
                problems.append((who, url, "table not stacked/labelled", m))
        ctx.close()
    assert seen_tables >= 4  # the check saw real tables
    assert not problems, problems


def test_desktop_keeps_real_tables(browser, live_server):
    """The stacking applies to phones only: at 1280 px the table head is visible."""
    with live_server.app.app_context():
        f = live_server.factory()
        proposer = f.user("proposer", email="desk.proposer@example.jp")
        f.proposal(f.need(), proposer)
        _db.session.commit()
    ctx = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    _login(page, "desk.proposer@example.jp")
    page.goto("/proposals/mine")
    assert page.locator("table.table thead th").first.is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('table.table tbody tr')).display") == "table-row"
    ctx.close()
