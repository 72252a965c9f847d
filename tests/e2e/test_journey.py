"""The whole matching journey in a real browser (Chromium, headless), in
Japanese, then a shorter pass in English. Screenshots of the key pages go to
test-artifacts/e2e/."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from oims.extensions import db as _db
from oims.models import Meeting

from ..conftest import csrf_token_from
from ..factories import PASSWORD
from ..html import texts

pytestmark = pytest.mark.e2e

NEED_TITLE = "電動車向け軽量樹脂部材の共同開発パートナー募集"
OWNER_FIRM = "東都モビリティ工業株式会社"
OWNER_EMAIL = "tanaka@toto-mobility.example.jp"


def _shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def _login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#content form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard"))


def _flash_ok(page) -> None:
    """The page after an action shows a success message and no error."""
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").first.inner_text()


@pytest.fixture(scope="module")
def journey_users(live_server):
    """People prepared directly in the database: the Kanto coordinator, two SMEs
    that will propose and one (not proposing) that the matcher should recommend."""
    with live_server.app.app_context():
        f = live_server.factory()
        bureau = f.org(kind="support", prefecture="13", name="関東経済産業局 産業部")
        coord = f.user("coordinator", org=bureau, name="佐藤 調整官", email="sato@kanto.meti.example.jp")
        smes = {}
        for key, name, profile, techs in (
            ("sme1", "相模精密樹脂株式会社", "炭素繊維強化樹脂（CFRP）の射出成形と金型設計。自動車部品の軽量化で量産実績。",
             ["CFRP射出成形", "薄肉成形", "金型温度制御"]),
            ("sme2", "武蔵野コンポジット株式会社", "熱可塑性炭素繊維複合材のプレス成形。航空機・自動車向け軽量部材。",
             ["炭素繊維複合材", "プレス成形", "軽量化設計"]),
            ("sme3", "多摩ライトマテリアル株式会社", "炭素繊維強化樹脂による車体部品の軽量化。射出成形と接合技術、量産試作に対応。",
             ["炭素繊維強化樹脂", "射出成形", "異材接合", "軽量化"]),
        ):
            org = f.org(kind="sme", prefecture="14", name=name, profile=profile, technologies=techs)
            smes[key] = f.user("proposer", org=org, email=f"{key}@example.jp", name=f"{name[:2]} 担当")
        _db.session.commit()
        users = {"coord": coord.email, "sme1": smes["sme1"].email, "sme2": smes["sme2"].email,
                 "sme3_org": "多摩ライトマテリアル株式会社"}
    return users | {"funnel_before": _funnel(live_server, users["coord"])}


def _funnel(live_server, email: str) -> list[int]:
    """The coordinator's KPI funnel now: the live database is shared with the other browser
    journeys of the session, so test_07 checks what this journey added to it."""
    client = live_server.app.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return [int(n) for n in texts(client.get("/insight/").get_data(as_text=True), "funnel-count")]


@pytest.fixture(scope="module")
def state():
    return {}


def test_01_large_company_signs_up_and_posts_an_anonymous_need(open_as, artifacts, journey_users, state):
    page = open_as()
    page.goto("/auth/signup")
    page.fill("#name", "田中 一郎")
    page.fill("#email", OWNER_EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.check("input[name=role][value=need_owner]")
    page.check("input[name=org_mode][value=new]")
    page.fill("#org_name", OWNER_FIRM)
    page.fill("#org_corporate_number", "6030001000008")
    page.select_option("#org_kind", "large")
    page.select_option("#org_prefecture", "13")
    page.select_option("#org_industry", "E")
    page.select_option("#org_employee_band", "1001+")
    _shot(page, artifacts, "ja-01-signup")
    page.click("#content form button[type=submit]")
    page.wait_for_url(re.compile(r"/orgs/\d+/edit"))
    _flash_ok(page)

    page.goto("/needs/new")
    page.fill("#title", NEED_TITLE)
    page.fill("#summary", "電動車の航続距離を伸ばすため、アルミ部品を炭素繊維強化樹脂に置き換える共同開発先を探しています。")
    page.fill("#background", "車体の軽量化が課題です。金属部品の樹脂化を量産レベルで進めたい。")
    page.fill("#sought", "CFRPの射出成形技術と量産実績、金型設計の知見。")
    page.check("input[name=partnership_types][value=joint_rnd]")
    page.fill("#keywords", "軽量化, CFRP, 射出成形")
    page.fill("#deadline", (date.today() + timedelta(days=30)).isoformat())
    page.check("#anonymous")
    _shot(page, artifacts, "ja-02-need-form")
    page.click("button[name=action][value=submit]")
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    _flash_ok(page)
    state["need_url"] = page.url
    state["need_id"] = int(page.url.rstrip("/").rsplit("/", 1)[1])
    _shot(page, artifacts, "ja-03-need-submitted")


def test_02_coordinator_reviews_and_publishes(open_as, artifacts, journey_users, state):
    page = open_as()
    _login(page, journey_users["coord"])
    page.goto("/needs/review")
    page.click(f"text={NEED_TITLE}")
    page.goto(f"/needs/{state['need_id']}/review")
    _shot(page, artifacts, "ja-04-review")
    page.click("button[name=action][value=publish]")
    page.wait_for_load_state()
    _flash_ok(page)
    page.goto(f"/needs/{state['need_id']}")
    assert "公開" in page.inner_text("#content")


@pytest.mark.parametrize("who,query", [("sme1", "軽量樹脂"), ("sme2", "炭素繊維")])
def test_03_smes_find_it_by_japanese_search_and_propose(open_as, artifacts, journey_users, state, who, query):
    page = open_as()
    _login(page, journey_users[who])
    page.goto("/needs/")
    page.fill("#q", query)
    page.click("#content form[role=search] button[type=submit]")
    page.wait_for_load_state()
    results = page.inner_text("#content")
    assert NEED_TITLE in results, f"search {query!r} did not find the need"
    assert OWNER_FIRM not in results  # anonymous: the firm is not named
    _shot(page, artifacts, f"ja-05-search-{who}")
    page.click(f"text={NEED_TITLE}")
    assert OWNER_FIRM not in page.inner_text("#content")
    page.click(f"a[href*='/proposals/new?need_id={state['need_id']}']")
    page.fill("#title", f"{'CFRP射出成形' if who == 'sme1' else '炭素繊維プレス成形'}による軽量部材のご提案")
    page.fill("#summary", "アルミ部品比40%の軽量化を、量産可能なコストで実現します。")
    page.fill("#solution", "独自の金型温度制御による薄肉成形で、3か月で量産試作に対応します。")
    page.fill("#track_record", "自動車部品の樹脂化で10年の量産実績があります。")
    page.click("button[name=action][value=submit]")
    page.wait_for_url(re.compile(r"/proposals/\d+$"))
    _flash_ok(page)
    state[f"{who}_proposal"] = int(page.url.rsplit("/", 1)[1])
    if who == "sme1":
        _shot(page, artifacts, "ja-06-proposal-submitted")


def test_04_coordinator_ranks_invites_shortlists_and_forwards(open_as, artifacts, journey_users, state):
    page = open_as()
    _login(page, journey_users["coord"])
    page.goto(f"/brokerage/need/{state['need_id']}")
    text = page.inner_text("#content")
    assert "CFRP射出成形による軽量部材のご提案" in text and "炭素繊維プレス成形による軽量部材のご提案" in text
    _shot(page, artifacts, "ja-07-ranking")
    rec = page.locator("li, tr, .card, .list-group-item").filter(has_text=journey_users["sme3_org"]).filter(
        has=page.locator("form[action$='/invite']")).last
    assert rec.count() == 1, "the matcher did not recommend the firm with the matching profile"
    rec.locator("form[action$='/invite'] button[type=submit]").click()
    page.wait_for_load_state()
    _flash_ok(page)
    assert journey_users["sme3_org"] in page.inner_text(".alert-success, .alert-info")
    page.check(f"#sel-{state['sme1_proposal']}")
    page.fill("#comment", "技術・実績ともにニーズに合致しています。ぜひ一度ご面談ください。")
    # by test id: the table inside this form also holds the judgment buttons (of other forms)
    page.click("[data-testid=shortlist-submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    _shot(page, artifacts, "ja-08-forwarded")


def test_05_owner_asks_a_question_and_requests_a_meeting(open_as, artifacts, journey_users, state):
    page = open_as()
    _login(page, OWNER_EMAIL)
    page.goto("/brokerage/inbox")
    _shot(page, artifacts, "ja-09-owner-inbox")
    page.goto(f"/brokerage/case/{state['sme1_proposal']}")
    page.fill("#body", "量産時の月産能力はどの程度でしょうか？")
    page.click("form[action$='/message'] button[type=submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    assert "月産能力" in page.inner_text("#content")
    page.check("input[name=action][value=meeting]")
    page.click("form[action$='/respond'] button[type=submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    tz = ZoneInfo("Asia/Tokyo")
    base = (datetime.now(tz) + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    page.click("details:has(form[action$='/slots']) > summary")
    page.check("input[name=mode][value=online]")
    page.fill("#url", "https://meet.example.jp/oims-first-meeting")
    page.fill("#slot1", base.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#slot2", (base + timedelta(days=1, hours=4)).strftime("%Y-%m-%dT%H:%M"))
    page.click("form[action$='/slots'] button[type=submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    _shot(page, artifacts, "ja-10-slots-proposed")


def test_06_proposer_picks_a_slot_and_downloads_the_ics(open_as, artifacts, journey_users, state):
    page = open_as()
    _login(page, journey_users["sme1"])
    page.goto(f"/brokerage/case/{state['sme1_proposal']}")
    assert "月産能力" in page.inner_text("#content")  # the owner's question is visible to the proposer
    page.locator("input[name=slot_id]").first.check()
    page.click("form[action$='/pick'] button[type=submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    assert OWNER_FIRM in page.inner_text("#content")  # a meeting agreed: the owner is disclosed
    with page.expect_download() as dl:
        page.click("a[href$='invite.ics']")
    ics = dl.value.path().read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in ics and "BEGIN:VEVENT" in ics and "meet.example.jp" in ics
    _shot(page, artifacts, "ja-11-meeting-scheduled")


def test_07_outcome_recorded_and_dashboard_shows_it(open_as, artifacts, journey_users, state, live_server):
    page = open_as()
    _login(page, OWNER_EMAIL)
    page.goto(f"/brokerage/case/{state['sme1_proposal']}")
    page.click("form[action$='/held'] button[type=submit]")
    page.wait_for_load_state()
    assert "開始前の面談は実施済みにできません" in page.content()
    _shot(page, artifacts, "ja-12a-held-refused-before-start")
    # A week passes: the meeting (picked for next week) has now taken place.
    with live_server.app.app_context():
        meeting = _db.session.scalar(select(Meeting).where(Meeting.proposal_id == state["sme1_proposal"]))
        meeting.starts_at = meeting.starts_at - timedelta(days=8)
        _db.session.commit()
    page.goto(f"/brokerage/case/{state['sme1_proposal']}")
    page.click("form[action$='/held'] button[type=submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    page.select_option("#stage", "nda")
    page.fill("#on_date", date.today().isoformat())
    page.click("form[action$='/outcome'] button[type=submit]")
    page.wait_for_load_state()
    _flash_ok(page)
    _shot(page, artifacts, "ja-12-outcome")

    coord = open_as()
    _login(coord, journey_users["coord"])
    _shot(coord, artifacts, "ja-13-coordinator-dashboard")
    coord.goto("/insight/")
    counts = [int(c) for c in coord.get_by_test_id("funnel-count").all_inner_texts()]
    # this journey added: 1 need published, 2 proposals, 1 shortlisted, 1 met, 1 NDA/PoC, no deal
    added = [now - before for now, before in zip(counts, journey_users["funnel_before"], strict=True)]
    assert added == [1, 2, 1, 1, 1, 0], (counts, journey_users["funnel_before"])
    _shot(coord, artifacts, "ja-14-kpi")


def test_08_english_pass(open_as, artifacts, journey_users, state):
    """Shorter: an SME switches to English, finds the need, reads it, proposes."""
    page = open_as("en-GB")
    _login(page, journey_users["sme2"])
    page.click("nav form[action*='/lang/en'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/needs/")
    page.fill("#q", "炭素繊維")
    page.click("#content form[role=search] button[type=submit]")
    page.wait_for_load_state()
    assert "Search" in page.inner_text("#content") and NEED_TITLE in page.inner_text("#content")
    page.click(f"text={NEED_TITLE}")
    assert "Your organisation has already proposed" in page.inner_text("#content")
    _shot(page, artifacts, "en-01-need")
    page.goto(f"/proposals/{state['sme2_proposal']}")
    assert "Submitted" in page.inner_text("#content") or "submitted" in page.inner_text("#content")
    page.goto("/dashboard")
    _shot(page, artifacts, "en-02-dashboard")
