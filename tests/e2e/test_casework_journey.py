"""h8 in a real browser (Chromium): staged disclosure with the owner preview,
a follow-up check-in answered from the e-mail link on a phone, the
fair-dealing terms with the guideline warnings, and an endorsement.
Screenshots go to test-artifacts/e2e/h8-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oims.extensions import db as _db

from ..factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "金型温度の独自制御シーケンス（非公開）"
PHONE = {"width": 390, "height": 844}


def _login(page, email):
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#content form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard"))


def _english(page):
    page.click("nav form[action*='/lang/en'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def _shot(page, artifacts, name):
    page.screenshot(path=str(artifacts / f"h8-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def people(live_server):
    from oims.models import Meeting
    from oims.models.base import utcnow

    with live_server.app.app_context():
        f = live_server.factory()
        bureau = f.org(kind="support", prefecture="13", name="関東経済産業局（h8）")
        coord = f.user("coordinator", org=bureau, email="h8.coord@example.jp")
        owner = f.user("need_owner", email="h8.owner@example.jp",
                       org=f.org(kind="large", prefecture="13", name="東都重工（h8）"))
        sme = f.user("proposer", email="h8.sme@example.jp", org=f.org(kind="sme", prefecture="14",
                                                                          name="相模精工（h8）", technologies=["精密切削"]))
        sme2 = f.user("proposer", email="h8.sme2@example.jp", org=f.org(kind="sme", prefecture="13", name="多摩加工（h8）"))
        need = f.need(owner=owner, title="h8 軽量部材の共同開発")
        met = f.proposal(need, proposer=sme2, stage="met", owner_disclosed=True, title="h8 面談済みの提案")
        held = utcnow() - timedelta(weeks=3)
        _db.session.add(Meeting(proposal_id=met.id, proposed_by_id=owner.id, status="held", starts_at=held,
                                ends_at=held + timedelta(hours=1), uid="h8-e2e"))
        _db.session.commit()
        return {"coord": coord.email, "owner": owner.email, "sme": sme.email, "sme2": sme2.email,
                "need": need.id, "met": met.id, "sme_org": sme.organisation_id}


def test_staged_disclosure_and_owner_preview(open_as, artifacts, people, live_server):
    page = open_as()
    _login(page, people["sme"])
    page.goto(f"/proposals/new?need_id={people['need']}")
    page.fill("#title", "h8 段階開示の提案")
    page.fill("#summary", "公開部分：CFRPで40%軽量化します。")
    page.fill("#solution", SECRET)
    page.check("input[name='after_nda'][value='solution']")
    page.click("button[name=action][value=submit]")
    page.wait_for_url(re.compile(r"/proposals/\d+$"))
    assert SECRET in page.content() and page.get_by_test_id("after-nda-badge").count() >= 1
    pid = int(page.url.rsplit("/", 1)[1])
    page.click("a.as-owner-link")
    page.wait_for_url(re.compile(r"/as-owner$"))
    assert page.get_by_test_id("as-owner-preview").is_visible()
    assert SECRET not in page.content() and page.get_by_test_id("withheld-part").count() >= 1
    _shot(page, artifacts, "01-preview-as-owner")
    page.set_viewport_size(PHONE)
    _shot(page, artifacts, "01b-preview-as-owner-390")
    with live_server.app.app_context():
        from oims.models import Proposal
        from oims.models.base import utcnow

        p = _db.session.get(Proposal, pid)
        p.stage, p.forwarded_at = "shortlisted", utcnow()
        _db.session.commit()
    owner = open_as()
    _login(owner, people["owner"])
    owner.goto(f"/proposals/{pid}")
    assert "公開部分" in owner.content() and SECRET not in owner.content()
    _shot(owner, artifacts, "02-owner-sees-public-parts")


def test_checkin_from_the_email_link_on_a_phone(open_as, artifacts, people, live_server):
    from oims.checkins.services import send_checkins
    from oims.models import OutboxMessage

    with live_server.app.app_context():
        assert send_checkins() == 1
        _db.session.commit()
        body = _db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == people["owner"])
                                   .order_by(OutboxMessage.id.desc())).first().body_text
    link = re.search(r"(/checkin/[\w.\-]+)", body).group(1)
    phone = open_as()
    phone.set_viewport_size(PHONE)
    phone.goto(link)  # not signed in
    assert phone.get_by_test_id("checkin-form").is_visible()
    phone.check("input[name='answer'][value='nda']")
    _shot(phone, artifacts, "03-checkin-phone")
    phone.click(".checkin-form button[type=submit]")
    assert phone.get_by_test_id("checkin-done").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392
    _shot(phone, artifacts, "04-checkin-answered-phone")


def test_fair_dealing_terms_with_warnings(open_as, artifacts, people):
    page = open_as()
    _login(page, people["sme2"])
    page.goto(f"/brokerage/case/{people['met']}")
    assert page.get_by_test_id("terms-form").count() == 1  # the case is at the NDA stage: terms can be recorded
    page.click("#fair-dealing details summary")
    page.fill("#terms-nda_scope", "試作データ")
    page.fill("#terms-poc_scope", "試作20個の評価")
    page.fill("#terms-poc_weeks", "12")
    page.check("input[name='terms-poc_paid'][value='no']")
    page.select_option("#terms-ip_owner", "owner")
    page.click("#fair-dealing .terms-form button[type=submit]")
    page.wait_for_url(re.compile(r"#fair-dealing$"))
    for code in ("unpaid_poc", "one_sided_ip", "nda_no_term"):
        assert page.get_by_test_id(f"fair-warning-{code}").is_visible(), code
    _shot(page, artifacts, "05-fair-dealing-terms")
    page.set_viewport_size(PHONE)
    _shot(page, artifacts, "05b-fair-dealing-terms-390")
    coord = open_as("en-US")
    _login(coord, people["coord"])
    coord.goto(f"/brokerage/case/{people['met']}")
    assert coord.get_by_test_id("fair-warning-unpaid_poc").is_visible()


def test_endorsement_badge(open_as, artifacts, people):
    page = open_as()
    _login(page, people["coord"])
    page.goto(f"/endorsements/?org_id={people['sme_org']}")
    page.fill("#capability", "精密切削")
    page.fill("#note", "局の支援事業で確認")
    page.click(".endorse-form button[type=submit]")
    page.wait_for_url(re.compile(r"/endorsements/$"))
    page.goto(f"/orgs/{people['sme_org']}")
    assert page.get_by_test_id("endorsement-badge").first.is_visible()
    _shot(page, artifacts, "06-endorsed-profile")
    page.goto(f"/brokerage/need/{people['need']}")
    assert page.get_by_test_id("endorsement-badge").count() >= 1
    page.set_viewport_size(PHONE)
    _shot(page, artifacts, "07-ranked-list-badge-390")


def test_english_pass(open_as, artifacts, people):
    """The same pages in English, for the proposer and the coordinator."""
    page = open_as("en-US")
    _login(page, people["sme2"])
    _english(page)
    page.goto(f"/brokerage/case/{people['met']}")
    assert page.locator("#fair-dealing h2").inner_text() == "Key terms (fair dealing)"
    assert "Unpaid PoC" in page.get_by_test_id("fair-warning-unpaid_poc").inner_text()
    page.click("#fair-dealing .fair-report summary")
    page.select_option("#report-category", "unpaid_poc")
    page.fill("#report-body", "Asked for 20 free prototypes before any contract.")
    page.click("#fair-dealing .fair-report button[type=submit]")
    page.wait_for_url(re.compile(r"#fair-dealing$"))
    assert page.get_by_test_id("fair-report-item").count() == 1
    _shot(page, artifacts, "08-en-case-report")
    coord = open_as("en-US")
    _login(coord, people["coord"])
    _english(coord)
    coord.goto("/fair-dealing/reports")
    assert "Asked for 20 free prototypes" in coord.content()
    coord.goto(f"/orgs/{people['sme_org']}")
    assert coord.locator("h2", has_text="Endorsed capabilities").is_visible()
    _shot(coord, artifacts, "09-en-endorsed-profile")
    owner = open_as("en-US")
    _login(owner, people["owner"])
    _english(owner)
    owner.goto(f"/brokerage/case/{people['met']}")
    assert "Asked for 20 free prototypes" not in owner.content()
    assert owner.get_by_test_id("case-checkins").is_visible()
