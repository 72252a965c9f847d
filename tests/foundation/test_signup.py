"""Signup without a public list of member firms; new organisations checked
(corporate number, coordinator approval) before they can propose."""

from __future__ import annotations

from sqlalchemy import select

from oims.auth.services import invitation_code
from oims.models import Organisation, Proposal, User

from ..factories import login, logout
from ..proposals.conftest import proposal_form
from .test_auth import SIGNUP


def test_signup_page_lists_no_member_firm(client, db, factory):
    factory.org(name="秘密の会員企業株式会社", corporate_number="4020001000002")
    db.session.commit()
    html = client.get("/auth/signup").get_data(as_text=True)
    assert "秘密の会員企業株式会社" not in html
    assert 'name="join_org"' not in html and "<select" not in html.split('name="join_key"')[0][-300:]
    assert 'name="join_key"' in html and 'name="org_corporate_number"' in html


def test_join_by_invitation_code_and_wrong_codes_say_nothing(client, db, factory):
    admin = factory.user("proposer", email="boss@example.jp")
    org = admin.organisation
    code = invitation_code(org)
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    for key in (tampered, f"{org.id + 1}-AAAAAAAAAAAA", "9999999999999"):
        resp = client.post("/auth/signup", data=dict(SIGNUP, org_mode="join", join_key=key, email="x@example.jp"))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400
        assert "法人番号または招待コードに一致する" in html and org.name not in html
    assert db.session.scalar(select(User).where(User.email == "x@example.jp")) is None
    resp = client.post("/auth/signup", data=dict(SIGNUP, org_mode="join", join_key=code.lower(),
                                                 email="new@example.jp"))
    assert resp.status_code == 302
    newbie = db.session.scalar(select(User).where(User.email == "new@example.jp"))
    assert newbie.organisation_id == org.id and newbie.status == "pending"
    # The administrator finds the code on the organisation's page.
    login(client, admin)
    assert code in client.get(f"/orgs/{org.id}").get_data(as_text=True)


def test_corporate_number_is_checked(client, db, factory):
    factory.org(corporate_number="4020001000002")
    db.session.commit()
    for number, message in [("", "法人番号を入力"), ("12345", "13桁"), ("3010401000001", "チェックデジット"),
                            ("4020001000002", "既に登録")]:
        resp = client.post("/auth/signup", data=dict(SIGNUP, org_corporate_number=number))
        assert resp.status_code == 400, number
        assert message in resp.get_data(as_text=True), number
    assert db.session.scalar(select(User).where(User.email == SIGNUP["email"])) is None
    # Full-width digits and hyphens as people type them are accepted.
    resp = client.post("/auth/signup", data=dict(SIGNUP, org_corporate_number="２-０１０４-０１００-０００１"))
    assert resp.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == SIGNUP["org_name"]))
    assert org.corporate_number == "2010401000001" and org.status == "pending"


def test_pending_org_cannot_propose_until_its_bureau_coordinator_approves(client, db, cast, factory):
    need = factory.need()
    assert client.post("/auth/signup", data=SIGNUP).status_code == 302  # Kanagawa: Kanto bureau
    org = db.session.scalar(select(Organisation).where(Organisation.name == SIGNUP["org_name"]))
    assert 'data-testid="org-pending"' in client.get(f"/proposals/new?need_id={need.id}").get_data(as_text=True)
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    assert resp.status_code == 400
    assert "コーディネーターの確認待ち" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Proposal).where(Proposal.org_id == org.id)) is None
    logout(client)
    # A coordinator of another bureau neither sees nor approves it.
    other = cast.other_coordinator
    login(client, other)
    assert SIGNUP["org_name"] not in client.get("/orgs/pending").get_data(as_text=True)
    assert client.post(f"/orgs/{org.id}/approve").status_code == 404
    logout(client)
    coord = factory.user("coordinator", prefecture="13")
    login(client, coord)
    page = client.get("/orgs/pending").get_data(as_text=True)
    assert SIGNUP["org_name"] in page and "2010401000001" in page
    assert client.post(f"/orgs/{org.id}/approve").status_code == 302
    db.session.refresh(org)
    assert org.status == "active"
    logout(client)
    login(client, SIGNUP["email"], SIGNUP["password"])
    assert 'data-testid="org-pending"' not in client.get(f"/proposals/new?need_id={need.id}").get_data(as_text=True)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 302
    assert db.session.scalar(select(Proposal).where(Proposal.org_id == org.id)) is not None


def test_demo_has_a_pending_organisation_for_the_kanto_coordinator(app, db):
    from oims.demo.loader import load_demo

    load_demo("demo-password-2026")
    org = db.session.scalar(select(Organisation).where(Organisation.status == "pending"))
    assert org is not None and org.bureau == "kanto"
    load_demo("demo-password-2026")  # idempotent
    assert len(db.session.scalars(select(Organisation).where(Organisation.status == "pending")).all()) == 1
