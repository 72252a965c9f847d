"""Test data factories (real rows in the real database)."""

from __future__ import annotations

import itertools

from oims.models import Organisation, User
from oims.passwords import hash_password

PASSWORD = "correct-horse-battery-42"
_seq = itertools.count(1)


class Factory:
    def __init__(self, db):
        self.db = db

    def org(self, kind: str = "sme", prefecture: str = "13", **kw) -> Organisation:
        n = next(_seq)
        org = Organisation(
            name=kw.pop("name", f"テスト組織{n}"), kind=kind,
            industry=kw.pop("industry", "S" if kind == "support" else "E"),
            employee_band=kw.pop("employee_band", "1001+" if kind == "large" else "21-50"), **kw,
        )
        org.set_prefecture(prefecture)
        self.db.session.add(org)
        self.db.session.flush()
        return org

    def user(self, role: str = "proposer", org: Organisation | None = None, **kw) -> User:
        n = next(_seq)
        if org is None:
            kind = {"need_owner": "large", "proposer": "sme", "coordinator": "support", "admin": "support"}[role]
            org = self.org(kind=kind, prefecture=kw.pop("prefecture", "13"))
        user = User(email=kw.pop("email", f"user{n}@example.jp"), name=kw.pop("name", f"利用者{n}"),
                    password_hash=hash_password(kw.pop("password", PASSWORD)), role=role, organisation=org,
                    is_org_admin=kw.pop("is_org_admin", True), **kw)
        self.db.session.add(user)
        self.db.session.commit()
        return user


def login(client, user_or_email, password: str = PASSWORD, remember: bool = False):
    email = getattr(user_or_email, "email", user_or_email)
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data, follow_redirects=False)


def logout(client):
    return client.post("/auth/logout")
