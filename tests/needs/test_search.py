"""Japanese search, filters, sort and pagination of published needs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from oims.models.base import utcnow

from ..html import texts


def _titles(resp) -> list[str]:
    return texts(resp.get_data(as_text=True), "need-result")


@pytest.fixture
def catalogue(cast, factory):
    o = cast.owner
    needs = {
        "body": factory.need(o, title="車体の軽量化部材", keywords=["軽量化", "CFRP"], partnership_types=["joint_rnd"],
                             regions=["kanto"], deadline_days=40),
        "battery": factory.need(o, title="バッテリーケースの軽量化", keywords=["アルミダイカスト", "EV"],
                                partnership_types=["supply"], regions=["chubu"], deadline_days=10,
                                summary="アルミダイカストによるＥＶ用バッテリーケース。"),
        "sensor": factory.need(o, title="橋梁の振動センサ", keywords=["IoT", "予知保全"], partnership_types=["poc"],
                               regions=[], deadline_days=20, summary="無線センサで構造物をモニタリングします。",
                               background="点検の省力化が課題。", sought="LPWA通信の実績。"),
    }
    return needs


def test_japanese_substring_search(cast, as_user, catalogue):
    c = as_user(cast.proposer)
    assert set(_titles(c.get("/needs/?q=軽量化"))) == {"車体の軽量化部材", "バッテリーケースの軽量化"}
    assert _titles(c.get("/needs/?q=振動")) == ["橋梁の振動センサ"]


def test_multiple_terms_are_anded(cast, as_user, catalogue):
    c = as_user(cast.proposer)
    assert _titles(c.get("/needs/", query_string={"q": "軽量化 バッテリー"})) == ["バッテリーケースの軽量化"]
    # ideographic space separates terms too
    assert _titles(c.get("/needs/", query_string={"q": "軽量化\u3000バッテリー"})) == ["バッテリーケースの軽量化"]
    assert _titles(c.get("/needs/", query_string={"q": "軽量化 振動"})) == []


def test_width_and_case_are_normalised(cast, as_user, catalogue):
    c = as_user(cast.proposer)
    # full-width ＥＶ in the text, half-width ev in the query, and the other way round
    assert _titles(c.get("/needs/", query_string={"q": "ev"})) == ["バッテリーケースの軽量化"]
    assert _titles(c.get("/needs/", query_string={"q": "ＬＰＷＡ"})) == ["橋梁の振動センサ"]


def test_like_wildcards_are_literal(cast, as_user, catalogue):
    c = as_user(cast.proposer)
    assert _titles(c.get("/needs/", query_string={"q": "%"})) == []
    assert _titles(c.get("/needs/", query_string={"q": "_"})) == []


def test_filters(cast, as_user, catalogue):
    c = as_user(cast.proposer)
    assert _titles(c.get("/needs/?partnership=poc")) == ["橋梁の振動センサ"]
    assert _titles(c.get("/needs/", query_string={"keyword": "cfrp"})) == ["車体の軽量化部材"]
    # a keyword filter is exact: 「軽量」 is not the keyword 「軽量化」
    assert _titles(c.get("/needs/", query_string={"keyword": "軽量"})) == []
    # region: needs preferring the region, plus nationwide ones
    assert set(_titles(c.get("/needs/?region=chubu"))) == {"バッテリーケースの軽量化", "橋梁の振動センサ"}
    before = (date.today() + timedelta(days=25)).isoformat()
    assert set(_titles(c.get(f"/needs/?deadline_before={before}"))) == {"バッテリーケースの軽量化", "橋梁の振動センサ"}
    assert _titles(c.get(f"/needs/?deadline_before={before}&partnership=supply&q=軽量化")) == ["バッテリーケースの軽量化"]
    # nonsense filter values are ignored, not errors
    assert c.get("/needs/?partnership=bogus&region=mars&deadline_before=soon&page=x").status_code == 200


def test_sort(cast, as_user, catalogue, db):
    now = utcnow()
    for i, key in enumerate(("sensor", "body", "battery")):
        catalogue[key].published_at = now - timedelta(days=i)
    db.session.commit()
    c = as_user(cast.proposer)
    assert _titles(c.get("/needs/?sort=newest")) == ["橋梁の振動センサ", "車体の軽量化部材", "バッテリーケースの軽量化"]
    assert _titles(c.get("/needs/?sort=deadline")) == ["バッテリーケースの軽量化", "橋梁の振動センサ", "車体の軽量化部材"]


def test_pagination(cast, as_user, factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "OIMS_PAGE_SIZE", 4)
    for i in range(10):
        factory.need(cast.owner, title=f"ページ送りのニーズ{i:02d}", deadline_days=10 + i)
    c = as_user(cast.proposer)
    seen = []
    for page in (1, 2, 3):
        titles = _titles(c.get(f"/needs/?q=ページ送り&sort=deadline&page={page}"))
        seen += titles
    assert seen == [f"ページ送りのニーズ{i:02d}" for i in range(10)]
    body = c.get("/needs/?q=ページ送り&sort=deadline&page=1").get_data(as_text=True)
    assert "page=2" in body and "sort=deadline" in body
    assert _titles(c.get("/needs/?q=ページ送り&page=9")) == []


def test_new_since_last_visit(cast, as_user, factory, db):
    old = factory.need(cast.owner, title="前回より前のニーズ")
    new = factory.need(cast.owner, title="前回より後のニーズ")
    now = utcnow()
    old.published_at = now - timedelta(days=3)
    new.published_at = now - timedelta(hours=1)
    cast.proposer.last_needs_visit_at = now - timedelta(days=1)
    db.session.commit()
    c = as_user(cast.proposer)
    assert _titles(c.get("/needs/?new=y")) == ["前回より後のニーズ"]
    # the visit is recorded, but within this session "new" still means since the visit before
    db.session.expire_all()
    assert cast.proposer.last_needs_visit_at > now - timedelta(minutes=1)
    assert _titles(c.get("/needs/?new=y")) == ["前回より後のニーズ"]
    # next session: nothing is new any more
    c = as_user(cast.proposer)
    assert _titles(c.get("/needs/?new=y")) == []
    assert len(_titles(c.get("/needs/"))) == 2


def test_search_service_directly(cast, catalogue):
    from oims.needs.search import search_needs

    page = search_needs(cast.proposer, "軽量化", {"partnership": "joint_rnd"}, "newest", 1)
    assert [n.title for n in page.items] == ["車体の軽量化部材"] and page.total == 1
    # a draft is invisible to proposers even through the service
    catalogue["body"].status = "draft"
    assert search_needs(cast.proposer, "軽量化", {"status": "draft"}, "newest", 1).total == 0
