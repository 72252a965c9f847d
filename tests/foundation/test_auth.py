import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oims.models import OrgJoinRequest, OutboxMessage, PasswordResetToken, User
from oims.models.base import utcnow

from ..conftest import csrf_token_from
from ..factories import PASSWORD, login, logout

SIGNUP = {
    "name": "山田 太郎", "email": "yamada@example.jp", "password": "kawasaki-seimitsu-2026",
    "confirm": "kawasaki-seimitsu-2026", "role": "proposer", "org_mode": "new",
    "org_name": "川崎精密工業株式会社", "org_kind": "sme", "org_prefecture": "14",
    "org_industry": "E", "org_employee_band": "21-50", "org_corporate_number": "2010401000001",
}


def test_signup_creates_org_and_logs_in(client, db):
    resp = client.post("/auth/signup", data=SIGNUP)
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "yamada@example.jp"))
    assert user.role == "proposer" and user.is_org_admin and user.status == "active"
    assert user.organisation.bureau == "kanto"  # derived from Kanagawa
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("field,value,message", [
    ("password", "short", "10"),
    ("password", "password123", "よく使われる"),
    ("confirm", "different-password-1", "一致しません"),
    ("org_kind", "large", "種類"),
    ("email", "not-an-email", "メール"),
    ("org_prefecture", "99", "都道府県"),
])
def test_signup_bad_input_rerenders_and_saves_nothing(client, db, field, value, message):
    data = dict(SIGNUP, **{field: value})
    if field == "password":
        data["confirm"] = value
    resp = client.post("/auth/signup", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "yamada@example.jp")) is None
    assert "川崎精密工業株式会社" in resp.get_data(as_text=True)  # input kept


def test_signup_duplicate_email_refused(client, factory):
    factory.user("proposer", email="yamada@example.jp")
    resp = client.post("/auth/signup", data=SIGNUP)
    assert resp.status_code == 400 and "既に" in resp.get_data(as_text=True)


def test_join_needs_approval_by_org_admin(client, db, factory):
    admin = factory.user("proposer", email="boss@example.jp")
    org = admin.organisation
    org.corporate_number = "4020001000002"
    db.session.commit()
    data = dict(SIGNUP, org_mode="join", join_key="4020001000002", email="new@example.jp")
    resp = client.post("/auth/signup", data=data)
    assert resp.status_code == 302
    newbie = db.session.scalar(select(User).where(User.email == "new@example.jp"))
    assert newbie.status == "pending" and not newbie.is_org_admin
    # The pending user cannot sign in yet.
    resp = login(client, "new@example.jp", SIGNUP["password"])
    assert resp.status_code == 400 and "承認" in resp.get_data(as_text=True)
    # The admin was told by e-mail.
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.to == "boss@example.jp"))
    # Someone else's admin may not approve.
    outsider = factory.user("proposer", email="other@example.jp")
    login(client, outsider)
    req = db.session.scalar(select(OrgJoinRequest))
    assert client.post(f"/orgs/join-requests/{req.id}/approve").status_code == 404
    logout(client)
    login(client, admin)
    assert "new@example.jp" in client.get("/orgs/join-requests").get_data(as_text=True)
    assert client.post(f"/orgs/join-requests/{req.id}/approve").status_code == 302
    db.session.refresh(newbie)
    assert newbie.status == "active"
    logout(client)
    assert login(client, "new@example.jp", SIGNUP["password"]).status_code == 302


def test_coordinator_of_bureau_approves_join(client, db, cast, factory):
    member = factory.user("need_owner", prefecture="13")
    org = member.organisation
    org.corporate_number = "4020001000002"
    db.session.commit()
    client.post("/auth/signup", data=dict(SIGNUP, role="need_owner", org_mode="join", join_key="4020001000002",
                                          email="join@example.jp"))
    req = db.session.scalar(select(OrgJoinRequest))
    other_bureau = cast.other_coordinator
    login(client, other_bureau)
    assert client.post(f"/orgs/join-requests/{req.id}/approve").status_code == 404
    logout(client)
    coordinator = factory.user("coordinator", prefecture="11")
    login(client, coordinator)
    assert client.post(f"/orgs/join-requests/{req.id}/reject").status_code == 302
    db.session.refresh(req)
    assert req.status == "rejected" and req.user.status == "disabled"


def test_proposer_cannot_join_large_company(client, db, factory):
    factory.org(kind="large", corporate_number="4020001000002")
    db.session.commit()
    resp = client.post("/auth/signup", data=dict(SIGNUP, org_mode="join", join_key="4020001000002"))
    assert resp.status_code == 400
    assert db.session.scalar(select(User).where(User.email == SIGNUP["email"])) is None


def test_login_logout_and_wrong_password(client, cast):
    user = cast.proposer
    resp = login(client, user, "wrong-password-123")
    assert resp.status_code == 400 and "正しくありません" in resp.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    assert login(client, user).status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert logout(client).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_login_email_is_case_insensitive(client, factory):
    user = factory.user("proposer", email="case@example.jp")
    assert login(client, "CASE@Example.JP").status_code == 302
    assert user.last_login_at is not None


def test_login_renews_session(client, cast):
    user = cast.proposer
    client.get("/auth/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker"
    login(client, user)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(f"{user.id}:")


def test_remember_me_sets_cookie(client, cast):
    user = cast.proposer
    resp = login(client, user, remember=True)
    assert "remember_token=" in resp.headers.get("Set-Cookie", "") or any(
        "remember_token" in c for c in resp.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("target,expected", [
    ("/orgs/join-requests", "/orgs/join-requests"),
    ("https://evil.example.com/", "/dashboard"),
    ("//evil.example.com/", "/dashboard"),
    ("/\\evil.example.com", "/dashboard"),
])
def test_next_parameter_never_redirects_off_site(client, cast, target, expected):
    user = cast.proposer
    resp = client.post("/auth/login?next=" + target, data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(expected)


def test_password_reset_single_use_and_expiry(client, db, factory):
    user = factory.user("proposer", email="reset@example.jp")
    resp = client.post("/auth/reset", data={"email": "reset@example.jp"})
    assert resp.status_code == 302
    # Unknown address: same answer, no e-mail.
    client.post("/auth/reset", data={"email": "nobody@example.jp"})
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [m.to for m in mails] == ["reset@example.jp"]
    link = re.search(r"http://\S+/auth/reset/(\S+)", mails[0].body_text)
    token = link.group(1)
    assert client.get(f"/auth/reset/{token}").status_code == 200
    weak = client.post(f"/auth/reset/{token}", data={"password": "12345678", "confirm": "12345678"})
    assert weak.status_code == 400
    new_pw = "a-brand-new-passphrase-7"
    assert client.post(f"/auth/reset/{token}", data={"password": new_pw, "confirm": new_pw}).status_code == 302
    assert login(client, user, new_pw).status_code == 302
    logout(client)
    # Second use refused.
    assert client.get(f"/auth/reset/{token}").status_code == 302
    # An expired token is refused.
    client.post("/auth/reset", data={"email": "reset@example.jp"})
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    token2 = re.search(r"/auth/reset/(\S+)", mail.body_text).group(1)
    row = db.session.scalars(select(PasswordResetToken).order_by(PasswordResetToken.id.desc())).first()
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    resp = client.post(f"/auth/reset/{token2}", data={"password": new_pw + "x", "confirm": new_pw + "x"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/reset")


def test_password_change_ends_other_sessions(app, client, cast):
    user = cast.proposer
    other = app.test_client()
    login(other, user)
    login(client, user)
    new_pw = "another-good-passphrase-9"
    resp = client.post("/auth/password", data={"pw-current": PASSWORD, "pw-password": new_pw, "pw-confirm": new_pw})
    assert resp.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert other.get("/dashboard").status_code == 302


def test_role_gates(client, cast):
    proposer = cast.proposer
    login(client, proposer)
    assert client.get("/orgs/").status_code == 403
    assert client.get("/orgs/staff/new").status_code == 403
    logout(client)
    coordinator = cast.coordinator
    login(client, coordinator)
    assert client.get("/orgs/").status_code == 200
    assert client.get("/orgs/staff/new").status_code == 403
    logout(client)
    admin = cast.admin
    login(client, admin)
    assert client.get("/orgs/staff/new").status_code == 200


def test_admin_creates_coordinator(client, db, cast):
    admin = cast.admin
    login(client, admin)
    resp = client.post("/orgs/staff/new", data={
        "name": "関東 花子", "email": "coord@example.jp", "role": "coordinator",
        "organisation": str(admin.organisation_id), "password": "bureau-staff-pass-1"})
    assert resp.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "coord@example.jp")).role == "coordinator"


def test_signup_cannot_create_staff_roles(client, db):
    resp = client.post("/auth/signup", data=dict(SIGNUP, role="coordinator"))
    assert resp.status_code == 400
    assert db.session.scalar(select(User)) is None


def test_csrf_enforced_when_enabled(variant_app, cast):
    app = variant_app(WTF_CSRF_ENABLED=True)
    user = cast.proposer
    with app.test_client() as c:
        resp = c.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert resp.status_code == 400 and "トークン" in resp.get_data(as_text=True)
        page = c.get("/auth/login").get_data(as_text=True)
        token = csrf_token_from(page)
        resp = c.post("/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302


def test_login_rate_limited(variant_app, cast):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="3 per minute")
    user = cast.proposer
    with app.test_client() as c:
        codes = [c.post("/auth/login", data={"email": user.email, "password": "wrong-pass-000"}).status_code
                 for _ in range(4)]
        assert codes == [400, 400, 400, 429]
        # Even the right password is refused while limited.
        assert c.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 429


def test_language_switch_per_session_and_user(client, db, cast):
    user = cast.proposer
    login(client, user)
    client.post("/lang/en")
    db.session.refresh(user)
    assert user.language == "en"
    assert '<html lang="en">' in client.get("/dashboard").get_data(as_text=True)
    logout(client)
    # a fresh session starts Japanese; the user's choice returns at sign-in
    fresh = client.application.test_client()
    assert '<html lang="ja">' in fresh.get("/").get_data(as_text=True)
    login(fresh, user)
    assert '<html lang="en">' in fresh.get("/dashboard").get_data(as_text=True)
