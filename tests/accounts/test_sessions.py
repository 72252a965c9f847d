"""Sessions end on the server: sign-out (with "keep me signed in"), password
change and reset, "sign out of all devices" and an admin's "sign out
everywhere" make every session and remember-me cookie of the account fail,
copies included. Reset ends every reset link; API tokens are revoked unless
kept explicitly. All through HTTP; a copied cookie jar plays the attacker."""

from __future__ import annotations

import re

from sqlalchemy import select

from oims.models import ApiToken, AuditLog, OutboxMessage, PasswordResetToken

from ..factories import PASSWORD, login
from ..security.world import api_token_for

NEW_PASSWORD = "another-horse-battery-77"
REMEMBER = "remember_token"


def _copy_jar(app, client, names=("session", REMEMBER)):
    """Another browser holding copies of `client`'s cookies (a shared PC, a stolen jar)."""
    thief = app.test_client()
    copied = 0
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value, domain="localhost")
            copied += 1
    assert copied == len(names), f"expected cookies {names} in the jar"
    return thief


def _signed_out(resp) -> bool:
    return resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def _deleted_cookie(resp, name: str) -> bool:
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return "Expires=Thu, 01 Jan 1970" in header or "Max-Age=0" in header
    return False


def test_remember_cookie_alone_signs_in_before_sign_out(app, client, cast):
    """Positive control: the copied remember-me cookie is a working credential."""
    user = cast.proposer
    assert login(client, user, remember=True).status_code == 302
    thief = _copy_jar(app, client, names=(REMEMBER,))
    assert thief.get("/dashboard").status_code == 200


def test_sign_out_clears_and_invalidates_remember_cookie(app, client, db, cast):
    user = cast.proposer
    assert login(client, user, remember=True).status_code == 302
    thief_remember = _copy_jar(app, client, names=(REMEMBER,))
    thief_session = _copy_jar(app, client, names=("session",))
    resp = client.post("/auth/logout")
    assert resp.status_code == 302
    assert _deleted_cookie(resp, REMEMBER), resp.headers.getlist("Set-Cookie")
    assert client.get_cookie(REMEMBER) is None
    # The next person at the shared PC is not signed in ...
    assert _signed_out(client.get("/dashboard"))
    # ... and copies of either cookie taken before sign-out fail too.
    assert _signed_out(thief_remember.get("/dashboard"))
    assert _signed_out(thief_session.get("/dashboard"))
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.logout", AuditLog.actor_id == user.id))


def test_password_change_ends_copied_remember_cookie(app, client, cast):
    user = cast.proposer
    other = app.test_client()
    assert login(other, user, remember=True).status_code == 302
    thief = _copy_jar(app, other)
    assert login(client, user).status_code == 302
    resp = client.post("/auth/password", data={"pw-current": PASSWORD, "pw-password": NEW_PASSWORD,
                                               "pw-confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this browser stays signed in
    assert _signed_out(other.get("/dashboard"))
    assert _signed_out(thief.get("/dashboard"))


def test_sign_out_of_all_devices_from_settings(app, client, cast):
    user = cast.owner
    phone, laptop = app.test_client(), app.test_client()
    assert login(phone, user, remember=True).status_code == 302
    assert login(laptop, user).status_code == 302
    copy = _copy_jar(app, phone)
    assert login(client, user).status_code == 302
    resp = client.post("/auth/sessions/end")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    for c in (client, phone, laptop, copy):
        assert _signed_out(c.get("/dashboard"))
    # Signing in again works.
    assert login(client, user).status_code == 302 and client.get("/dashboard").status_code == 200


def test_admin_signs_a_user_out_everywhere(app, client, db, cast):
    user = cast.proposer
    admin = cast.admin
    victim = app.test_client()
    assert login(victim, user, remember=True).status_code == 302
    copy = _copy_jar(app, victim)
    assert login(client, admin).status_code == 302
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert f"/admin/users/{user.id}/sessions/end" in page  # the button is on the user's admin page
    resp = client.post(f"/admin/users/{user.id}/sessions/end")
    assert resp.status_code == 302
    assert _signed_out(victim.get("/dashboard")) and _signed_out(copy.get("/dashboard"))
    assert client.get("/dashboard").status_code == 200  # the admin's own session is untouched
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.sessions_ended"))
    assert entry.actor_id == admin.id and entry.object_id == user.id


def test_non_admin_cannot_sign_others_out(app, client, cast):
    user = cast.proposer
    coord = cast.coordinator
    victim = app.test_client()
    assert login(victim, user).status_code == 302
    assert login(client, coord).status_code == 302
    assert client.post(f"/admin/users/{user.id}/sessions/end").status_code == 403
    assert victim.get("/dashboard").status_code == 200


def _reset_links(db, email: str) -> list[str]:
    bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.to == email)
                                .order_by(OutboxMessage.id)).all()
    return [re.search(r"/auth/reset/[A-Za-z0-9_\-]+", b).group(0) for b in bodies]


def test_reset_ends_every_link_sessions_and_tokens(app, client, db, cast):
    user = cast.owner
    token = api_token_for(db, user)
    api_token_for(db, user)
    signed_in = app.test_client()
    assert login(signed_in, user, remember=True).status_code == 302
    copy = _copy_jar(app, signed_in)
    client.post("/lang/en")
    for _ in range(3):
        assert client.post("/auth/reset", data={"email": user.email}).status_code == 302
    links = _reset_links(db, user.email)
    assert len(links) == 3
    resp = client.post(links[1], data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "2 personal API tokens were revoked." in page
    # Every other outstanding link is dead, not only the one used.
    for link in (links[0], links[2]):
        resp = client.get(link)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/reset")
        resp = client.post(link, data={"password": "third-horse-battery-99", "confirm": "third-horse-battery-99"})
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/auth/reset")
    assert db.session.scalar(select(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))) is None
    assert _signed_out(signed_in.get("/dashboard")) and _signed_out(copy.get("/dashboard"))
    resp = app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert login(app.test_client(), user, password=NEW_PASSWORD).status_code == 302


def test_reset_keeps_tokens_only_when_ticked(app, client, db, cast):
    user = cast.owner
    token = api_token_for(db, user)
    client.post("/lang/en")
    client.post("/auth/reset", data={"email": user.email})
    link = _reset_links(db, user.email)[0]
    resp = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "keep_api_tokens": "y"},
                       follow_redirects=True)
    assert "Your personal API tokens were kept." in resp.get_data(as_text=True)
    assert app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_password_change_revokes_tokens_by_default(app, client, db, cast):
    user = cast.proposer
    token = api_token_for(db, user)
    client.post("/lang/en")
    assert login(client, user).status_code == 302
    page = client.get("/auth/settings").get_data(as_text=True)
    assert 'name="pw-keep_api_tokens"' in page and "checked" not in page.split('name="pw-keep_api_tokens"')[1][:40]
    resp = client.post("/auth/password", data={"pw-current": PASSWORD, "pw-password": NEW_PASSWORD,
                                               "pw-confirm": NEW_PASSWORD}, follow_redirects=True)
    assert "1 personal API token was revoked." in resp.get_data(as_text=True)
    assert app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert rows and all(r.revoked_at is not None for r in rows)


def test_password_change_keeps_tokens_when_ticked(app, client, db, cast):
    user = cast.proposer
    token = api_token_for(db, user)
    assert login(client, user).status_code == 302
    resp = client.post("/auth/password", data={"pw-current": PASSWORD, "pw-password": NEW_PASSWORD,
                                               "pw-confirm": NEW_PASSWORD, "pw-keep_api_tokens": "y"})
    assert resp.status_code == 302
    assert login(app.test_client(), user, NEW_PASSWORD).status_code == 302  # the password did change
    assert app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
