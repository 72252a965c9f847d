"""A person's data: download (JSON, ZIP of CSV) and deletion by
pseudonymisation, by the person (with the password) or by an admin. Business
records stay; nothing that identifies the person does."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from sqlalchemy import String, Text, select

from oims.extensions import db as _db
from oims.models import (
    ApiToken,
    AuditLog,
    Notification,
    OutboxMessage,
    Proposal,
    ThreadMessage,
    User,
)

from ..factories import PASSWORD, login
from ..security.world import api_token_for

NAME = "山田 花子"
EMAIL = "hanako.yamada@chusho.example.jp"
SECRET_FIRM = "秘密重工業株式会社"


def _scene(db, factory):
    owner_org = factory.org(kind="large", name=SECRET_FIRM)
    owner = factory.user("need_owner", org=owner_org)
    need = factory.need(owner=owner, anonymous=True)
    person = factory.user("proposer", name=NAME, email=EMAIL)
    prop = factory.proposal(need, proposer=person, stage="shortlisted", title="提案：軽量化の新工法")
    db.session.add_all([
        ThreadMessage(proposal_id=prop.id, author_id=person.id, body="試作の日程について質問します。"),
        Notification(user_id=person.id, kind="x", text="提案が送付されました"),
        Notification(user_id=owner.id, kind="join_request", text=f"{NAME}さんが参加を希望しています"),
        OutboxMessage(to=EMAIL, subject="[OIMS] test", body_text=f"{NAME} 様\nお知らせです。"),
    ])
    db.session.commit()
    return {"owner": owner, "need": need, "person": person, "proposal": prop}


def test_download_json_and_zip_has_own_data_only(app, client, db, factory):
    s = _scene(db, factory)
    api_token_for(db, s["person"])
    assert login(client, s["person"]).status_code == 302
    page = client.get("/auth/settings").get_data(as_text=True)
    assert "/account/data.json" in page and "/account/data.zip" in page and "/account/delete" in page
    resp = client.get("/account/data.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.get_data(as_text=True))
    assert data["account"]["email"] == EMAIL and data["account"]["name"] == NAME
    assert [p["id"] for p in data["proposals_created"]] == [s["proposal"].id]
    assert data["messages_written"][0]["body"] == "試作の日程について質問します。"
    assert any(a["action"] == "auth.login" for a in data["activity"])
    assert data["api_tokens"][0]["name"] == "matrix"
    # (the person's own notifications and mails, the workflow's ones from the factory included)
    assert "提案が送付されました" in [n["text"] for n in data["notifications"]]
    assert "[OIMS] test" in [m["subject"] for m in data["emails"]]
    # Nothing about others: not the anonymous need's owner, not others' notifications.
    raw = resp.get_data(as_text=True)
    assert SECRET_FIRM not in raw and "参加を希望" not in raw
    resp = client.get("/account/data.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.get_data()))
    names = set(zf.namelist())
    assert {"data.json", "account.csv", "proposals_created.csv", "activity.csv"} <= names
    rows = list(csv.DictReader(io.StringIO(zf.read("account.csv").decode("utf-8-sig"))))
    assert rows[0]["email"] == EMAIL
    rows = list(csv.DictReader(io.StringIO(zf.read("proposals_created.csv").decode("utf-8-sig"))))
    assert rows[0]["title"] == "提案：軽量化の新工法"
    assert all(SECRET_FIRM not in zf.read(n).decode("utf-8-sig") for n in names)


def test_export_needs_sign_in(client):
    for url in ("/account/data.json", "/account/data.zip"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def _text_values(db) -> list[tuple[str, str, str]]:
    """Every string/text value in the database: (table, column, value)."""
    out = []
    for table in _db.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
        if not cols:
            continue
        for row in db.session.execute(select(*cols)):
            for col, value in zip(cols, row, strict=True):
                if isinstance(value, str):
                    out.append((table.name, col.name, value))
    return out


def test_delete_own_account_pseudonymises_and_keeps_records(app, client, db, factory):
    s = _scene(db, factory)
    token = api_token_for(db, s["person"])
    pid, uid = s["proposal"].id, s["person"].id
    other = app.test_client()
    assert login(other, s["person"], remember=True).status_code == 302
    client.post("/lang/en")
    assert login(client, s["person"]).status_code == 302
    audit_before = db.session.query(AuditLog).count()
    # Wrong password: refused, nothing changed.
    resp = client.post("/account/delete", data={"password": "not-my-password-1", "confirm": "y"})
    assert resp.status_code == 400 and "The password is wrong." in resp.get_data(as_text=True)
    resp = client.post("/account/delete", data={"password": PASSWORD})
    assert resp.status_code == 400 and "Tick the box" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, uid).email == EMAIL
    # Confirmed.
    resp = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, uid)
    assert user.status == "deleted" and user.deleted_at is not None
    assert NAME not in user.name and EMAIL != user.email and user.email.endswith(".invalid")
    # Login impossible, every session and token ended.
    assert login(app.test_client(), EMAIL).status_code == 400
    assert client.get("/dashboard").status_code == 302 and other.get("/dashboard").status_code == 302
    assert app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # Business records kept, still attributed to the (pseudonymised) row.
    prop = db.session.get(Proposal, pid)
    assert prop is not None and prop.created_by_id == uid and prop.title == "提案：軽量化の新工法"
    assert db.session.scalar(select(ThreadMessage).where(ThreadMessage.author_id == uid))
    assert db.session.query(AuditLog).count() > audit_before
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.deleted")).detail == {"by": "self"}
    assert all(r.ip == "" for r in db.session.scalars(select(AuditLog).where(AuditLog.actor_id == uid)))
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == uid)).revoked_at is not None
    # Neither the name nor the e-mail address is left anywhere in the database.
    leaks = [(t, c) for t, c, v in _text_values(db) if NAME in v or EMAIL in v.lower()]
    assert not leaks, leaks


def test_admin_deletes_a_user_with_confirmation(app, client, db, cast, factory):
    s = _scene(db, factory)
    admin = cast.admin
    client.post("/lang/en")
    assert login(client, admin).status_code == 302
    uid = s["person"].id
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert EMAIL in page and f"/admin/users/{uid}/delete" in page
    assert client.post(f"/admin/users/{uid}/delete").status_code == 400  # not confirmed
    db.session.expire_all()
    assert db.session.get(User, uid).status == "active"
    resp = client.post(f"/admin/users/{uid}/delete", data={"confirm": "y"}, follow_redirects=True)
    assert "The account was deleted (pseudonymised)" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, uid).status == "deleted"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.deleted"))
    assert entry.actor_id == admin.id and entry.detail == {"by": "admin"}
    # Deleted accounts cannot be enabled again.
    resp = client.post(f"/admin/users/{uid}/enable", follow_redirects=True)
    assert "Only a disabled account can be enabled." in resp.get_data(as_text=True)


def test_admin_downloads_a_persons_data(app, client, db, cast, factory):
    s = _scene(db, factory)
    admin = cast.admin
    assert login(client, admin).status_code == 302
    resp = client.get(f"/admin/users/{s['person'].id}/data.json")
    assert resp.status_code == 200 and json.loads(resp.get_data())["account"]["email"] == EMAIL
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.data_exported")).actor_id == admin.id


def test_last_admin_cannot_delete_itself(app, client, db, cast):
    admin = cast.admin
    client.post("/lang/en")
    assert login(client, admin).status_code == 302
    resp = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 400 and "last administrator" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).status == "active"
