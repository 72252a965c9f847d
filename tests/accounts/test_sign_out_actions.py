"""Sign-out pages run through the one form-action runner: the change is
committed (the session generation and the audit row are in the database),
the browser's session is cleared, and the message flashed after the clear
reaches the next page (a flash set before the clear would be lost)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oims.models import AuditLog, User

from ..factories import login


@pytest.mark.parametrize("url,action,message", [
    ("/auth/logout", "auth.logout", "ログアウトしました。"),
    ("/auth/sessions/end", "auth.sessions_ended", "すべての端末からログアウトしました。"),
])
def test_sign_out_commits_clears_the_session_and_keeps_its_message(client, db, cast, url, action, message):
    user = cast.proposer
    assert login(client, user).status_code == 302
    nonce = user.session_nonce
    resp = client.post(url)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    assert message in client.get("/").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # signed out
    db.session.expire_all()
    assert db.session.get(User, user.id).session_nonce != nonce
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == action, AuditLog.actor_id == user.id))

