"""Test data factories (real rows in the real database)."""

from __future__ import annotations

import itertools

from oims.auth.passwords import hash_password
from oims.models import Organisation, User

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


def _need_defaults(n: int) -> dict:
    return {
        "title": f"軽量化部材の共同開発{n}",
        "summary": "電動車向けに、アルミ代替となる高強度樹脂部材の共同開発パートナーを探しています。",
        "background": "車体の軽量化が航続距離に直結するため、金属部品の樹脂化を進めたい。",
        "sought": "炭素繊維強化樹脂の成形技術と量産実績を持つ企業・大学。",
        "partnership_types": ["joint_rnd"], "keywords": ["CFRP", "軽量化", "射出成形"], "regions": [],
    }


def _add_methods():
    from datetime import date, timedelta

    from oims.models import Need, Proposal
    from oims.models.base import utcnow

    def need(self, owner=None, status="published", anonymous=False, deadline_days=30, **kw) -> Need:
        """A need owned by `owner` (a need_owner user; made when omitted)."""
        n = next(_seq)
        owner = owner or self.user("need_owner")
        data = _need_defaults(n)
        data.update(kw)
        org = owner.organisation
        obj = Need(owner_org_id=org.id, created_by_id=owner.id, status=status, anonymous=anonymous,
                   deadline=date.today() + timedelta(days=deadline_days), bureau=org.bureau,
                   alias=org.alias_base("ja") + "A社" if anonymous else "",
                   alias_en=org.alias_base("en") + " A" if anonymous else "", **data)
        obj.search_text = obj.matching_text().lower()
        if status in ("published", "closed", "fulfilled"):
            obj.published_at = utcnow()
        self.db.session.add(obj)
        self.db.session.commit()
        return obj

    def proposal(self, need, proposer=None, stage="submitted", **kw) -> Proposal:
        """A proposal to `need` by `proposer` (a proposer user; made when omitted)."""
        n = next(_seq)
        proposer = proposer or self.user("proposer")
        data = {"title": f"CFRP射出成形による部材提案{n}",
                "summary": "炭素繊維強化樹脂の射出成形で、アルミ部品比40%の軽量化を実現します。",
                "solution": "独自の金型温度制御で薄肉成形を行い、量産試作まで3か月で対応します。",
                "track_record": "自動車部品の樹脂化で10年の量産実績。", "team": "技術者5名"}
        data.update(kw)
        obj = Proposal(need_id=need.id, org_id=proposer.organisation_id, created_by_id=proposer.id,
                       stage=stage, **data)
        if stage != "draft":
            obj.submitted_at = utcnow()
        if stage not in ("draft", "submitted", "screening", "declined", "withdrawn"):
            obj.forwarded_at = utcnow()
        self.db.session.add(obj)
        self.db.session.commit()
        return obj

    Factory.need = need
    Factory.proposal = proposal


_add_methods()
