"""The needs search at national scale: the count of matches stops at
OIMS_SEARCH_COUNT_CAP ("more than N needs") while paging still reaches every
match; no count when the page tells the total; one query for the owners'
fairness badges of a page."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from oims.extensions import db as _db
from oims.needs.search import search_needs

from .test_search import _titles


@pytest.fixture
def statements(app):
    """The SQL statements run while the test runs (lower-cased, one line each)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.lower().split()))

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def seven(cast, factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "OIMS_PAGE_SIZE", 2)
    monkeypatch.setitem(app.config, "OIMS_SEARCH_COUNT_CAP", 3)
    return [factory.need(cast.owner, title=f"上限のあるニーズ{i}", deadline_days=10 + i) for i in range(7)]


def test_count_stops_at_the_cap_and_every_page_is_reachable(cast, as_user, seven):
    c = as_user(cast.proposer)
    seen, page, bodies = [], 1, {}
    while page < 10:
        resp = c.get(f"/needs/?q=上限のある&sort=deadline&page={page}")
        body = bodies[page] = resp.get_data(as_text=True)
        seen += _titles(resp)
        if f"page={page + 1}" not in body:
            break
        page += 1
    assert seen == [f"上限のあるニーズ{i}" for i in range(7)]  # all seven, in order, none twice
    assert page == 4
    assert "3件を超えるニーズが見つかりました" in bodies[1]  # counted up to the cap only
    assert "7件のニーズが見つかりました" in bodies[4]  # the last page knows the total


def test_capped_and_exact_totals_from_the_service(cast, seven, app):
    with app.test_request_context():
        first = search_needs(cast.proposer, "上限のある", {}, "deadline", 1)
        assert (first.total, first.total_capped, first.has_next, first.pages) == (3, True, True, 2)
        third = search_needs(cast.proposer, "上限のある", {}, "deadline", 3)
        assert third.has_next and [n.title for n in third.items] == ["上限のあるニーズ4", "上限のあるニーズ5"]
        last = search_needs(cast.proposer, "上限のある", {}, "deadline", 4)
        assert (last.total, last.total_capped, last.has_next) == (7, False, False)
        exact = search_needs(cast.proposer, "上限のある", {}, "deadline", 1, count_cap=None)
        assert (exact.total, exact.total_capped, exact.pages) == (7, False, 4)
        app.config["OIMS_SEARCH_COUNT_CAP"] = 0  # 0: count every match
        assert search_needs(cast.proposer, "上限のある", {}, "deadline", 1).total == 7


def test_the_api_reports_the_exact_total(cast, seven, client, db):
    from oims.api.auth import issue_token

    token, _row = issue_token(cast.proposer, "テスト用")
    db.session.commit()
    body = client.get("/api/v1/needs", query_string={"q": "上限のある", "per_page": 2},
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["total"] == 7 and body["pages"] == 4 and len(body["items"]) == 2


def test_no_count_when_the_page_tells_the_total(cast, as_user, factory, statements):
    factory.need(cast.owner, title="数えないニーズ")
    c = as_user(cast.proposer)
    statements.clear()
    body = c.get("/needs/?q=数えない").get_data(as_text=True)
    assert "1件のニーズが見つかりました" in body
    assert not [s for s in statements if s.startswith("select count(*)") and "from need" in s]


def test_one_query_for_the_fairness_badges_of_a_page(cast, as_user, factory, statements):
    for _ in range(3):
        factory.need(cast.owner, title="評価バッジのニーズ")
    c = as_user(cast.proposer)
    statements.clear()
    assert len(_titles(c.get("/needs/?q=評価バッジ"))) == 3
    assert len([s for s in statements if "from owner_rating" in s]) == 1
