"""Need-drafting help on the need new/edit pages: quality checklist with a
score, similar past needs with what they drew, and proposers' words."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from oims.models import Meeting, Need
from oims.needs import drafting

from ..factories import login, logout
from .conftest import need_form

VAGUE = {"title": "新技術", "summary": "良い技術を探しています。", "background": "", "sought": "",
         "keywords": "", "budget": "", "deadline": ""}


def _checks(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-check="(\w+)" data-ok="(yes|no)"', html))


def test_quality_check_rules_are_deterministic_and_explained():
    today = date(2026, 12, 2)
    items, score = drafting.quality_check({"partnership_types": []}, today=today)
    assert score == 0 and all(not i.ok and i.explanation for i in items)
    good = {"background": "航続距離を延ばすため車体の軽量化が必要ですが、現行のアルミ部品では重量目標に届かず困っています。",
            "sought": "炭素繊維強化樹脂（CFRP）の射出成形技術と、月1万個規模の量産実績。",
            "partnership_types": ["joint_rnd"], "deadline": today + timedelta(days=30),
            "budget": "試作費 500万〜1,000万円", "summary": "塗装工程は対象外です。"}
    items, score = drafting.quality_check(good, today=today)
    assert score == 100, [i.key for i in items if not i.ok]
    items, score = drafting.quality_check(dict(good, deadline=today + timedelta(days=3)), today=today)
    assert score == 83 and [i.key for i in items if not i.ok] == ["deadline"]


def test_new_page_checks_an_unsaved_draft_without_saving(client, db, cast):
    owner = cast.owner
    login(client, owner)
    html = client.get("/needs/new").get_data(as_text=True)
    assert 'id="drafting-help"' in html and "js/need-drafting.js" in html
    resp = client.post("/needs/new", data=dict(need_form(**VAGUE), action="check"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    checks = _checks(html)
    assert checks["problem"] == "no" and checks["budget"] == "no" and checks["deadline"] == "no"
    assert checks["partnership"] == "yes"
    assert "良い技術を探しています。" in html  # the draft stays in the form
    assert db.session.scalar(select(func.count(Need.id))) == 0  # nothing saved
    good = need_form(background="航続距離を延ばすために車体の軽量化が必要ですが、現行のアルミ部品では重量目標に届かず困っています。",
                     summary="塗装工程は対象外です。電動車の車体を軽くする高強度樹脂部材を共同で開発します。",
                     sought="炭素繊維強化樹脂（CFRP）の射出成形技術と、月1万個規模の量産実績。")
    html = client.post("/needs/new", data=dict(good, action="check")).get_data(as_text=True)
    assert _checks(html)["sought"] == "yes", "a 26-character 'sought' failed above"
    assert set(_checks(html).values()) == {"yes"} and "100 / 100" in html


def test_similar_needs_with_their_proposals_and_meetings_and_proposer_words(client, db, cast, factory):
    owner = cast.owner
    past = factory.need(title="樹脂部材による車体軽量化の共同開発")
    # Closed needs of other firms are not the owner's to see, however similar.
    factory.need(title="車体軽量化のための樹脂部材開発（他社・終了）", status="closed")
    own_closed = factory.need(owner=owner, title="自社の過去の軽量化部材ニーズ", status="closed")
    factory.need(title="食品工場の衛生管理システム", summary="食品工場の衛生記録を自動化したい。",
                 background="記録が紙です。", sought="IoTセンサと記録ソフト。", keywords=["HACCP"])
    proposal = factory.proposal(past)
    factory.proposal(past)
    db.session.add(Meeting(proposal_id=proposal.id, status="held", proposed_by_id=proposal.created_by_id))
    sme = factory.org(name="精密成形", technologies=["炭素繊維複合材", "熱可塑性CFRTP", "CFRP"],
                      profile="炭素繊維強化樹脂の射出成形と軽量化部材の量産。")
    db.session.commit()
    login(client, owner)
    html = client.post("/needs/new", data=dict(need_form(), action="check")).get_data(as_text=True)
    similar = html.split('data-testid="similar-needs"')[1].split("</ul>")[0]
    assert "樹脂部材による車体軽量化の共同開発" in similar
    assert "2件の提案、1件の面談" in similar
    assert "食品工場" not in similar and "他社・終了" not in similar
    assert f'/needs/{own_closed.id}"' in similar
    words = html.split('data-testid="proposer-words"')[1].split("</div>")[0]
    assert 'data-keyword="炭素繊維複合材"' in words and 'data-keyword="熱可塑性CFRTP"' in words
    assert 'data-keyword="CFRP"' not in words  # already in the draft's keywords
    assert sme.name not in html  # words, not who uses them


def test_edit_page_shows_the_panel_for_the_saved_need(client, db, cast, factory):
    owner = cast.owner
    need = factory.need(owner=owner, status="draft", budget="")
    login(client, owner)
    html = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    assert _checks(html)["budget"] == "no" and _checks(html)["partnership"] == "yes"
    other = cast.other_owner
    logout(client)
    login(client, other)
    resp = client.post(f"/needs/{need.id}/edit", data=dict(need_form(), action="check"))
    # another firm's draft is not visible to this owner: 404, as for any object one may not see
    assert resp.status_code == 404 and "drafting-help" not in resp.get_data(as_text=True)
