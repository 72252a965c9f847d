"""Session fixation, session cookies, sessions ended by a password change, open redirects on next=."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ..factories import PASSWORD, login

# --- sessions -------------------------------------------------------------------------------

def test_session_is_replaced_at_login(client, cast):
    user = cast.proposer
    client.post("/lang/ja")
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
    before = client.get_cookie("session").value
    assert login(client, user).status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess  # nothing carried over from the session before login
        assert sess.get("lang") == "ja"  # except the chosen language


def test_pre_login_cookie_gives_no_access(app, client, cast):
    user = cast.proposer
    client.get("/auth/login")
    old = client.get_cookie("session")
    old_value = old.value if old else ""
    assert login(client, user).status_code == 302
    attacker = app.test_client()
    if old_value:
        attacker.set_cookie("session", old_value, domain="localhost")
    resp = attacker.get("/dashboard")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_session_cookie_flags(client, cast):
    user = cast.proposer
    resp = login(client, user)
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_change_ends_other_sessions(app, client, cast):
    user = cast.proposer
    other = app.test_client()
    assert login(other, user).status_code == 302
    assert login(client, user).status_code == 302
    resp = client.post("/auth/password", data={"pw-current": PASSWORD, "pw-password": "another-horse-battery-77",
                                               "pw-confirm": "another-horse-battery-77"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert client.get("/dashboard").status_code == 200
    resp = other.get("/dashboard")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


# --- open redirects ---------------------------------------------------------------------------

EVIL = [
    "//evil.example/", "https://evil.example/", "http:evil.example", "/\\evil.example", "\\\\evil.example",
    "///evil.example", " //evil.example", "\t//evil.example", "javascript:alert(1)", "/%5Cevil.example",
    "https:/evil.example", "//evil.example@localhost/", "/\t/evil.example", "%2F%2Fevil.example",
    "data:text/html,<script>alert(1)</script>",
]


def _same_site(location: str) -> bool:
    parts = urlsplit(location)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
        return False
    # Browsers treat a backslash like a slash: "/\evil" would be protocol-relative.
    path = parts.path.replace("\\", "/")
    return not path.startswith("//") and not location.lstrip().startswith(("//", "\\"))


@pytest.mark.parametrize("target", EVIL)
def test_login_next_stays_on_site(client, cast, target):
    user = cast.proposer
    resp = client.post("/auth/login?next=" + target.replace("#", "%23"), data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    assert _same_site(resp.headers["Location"]), resp.headers["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_language_switch_next_stays_on_site(client, target):
    resp = client.post("/lang/en", data={"next": target})
    assert resp.status_code == 302
    assert _same_site(resp.headers["Location"]), resp.headers["Location"]


def test_login_next_keeps_a_local_path(client, cast):
    user = cast.proposer
    resp = client.post("/auth/login?next=/needs/", data={"email": user.email, "password": PASSWORD})
    assert urlsplit(resp.headers["Location"]).path == "/needs/"
