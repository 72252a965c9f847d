"""Test data factories: real rows in the real database, made through the app's
own services wherever the app has one, so a factory-made object is exactly
what the pages would have made (search text, alias, receipt, events, audit).

- `Factory.org` / `Factory.user` insert rows directly (the app's signup is a
  multi-step HTTP flow tested on its own in tests/foundation/).
- `Factory.need` creates a draft with `needs.services.create_need` and walks it
  through submission, publication (by a coordinator of the need's bureau),
  withdrawal, fulfilment or closing with the same services the pages call.
- `Factory.proposal` creates (and submits) with `proposals.services` and moves
  the stage with the brokerage services and `workflow.change_stage`.

Only scenario facts the services cannot produce are set by hand afterwards:
a deadline in the past (the services refuse one), and dates such as
`published_at` that a KPI test pins to the calendar.

For the shared users every test can start from, see tests/cast.py (the `cast` fixture).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from oims.auth.passwords import hash_password
from oims.models import Need, Organisation, Proposal, User

PASSWORD = "correct-horse-battery-42"
_seq = itertools.count(1)

# Stage paths the factory walks to reach a stage (each step through the app's services).
_PATH = ("submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled", "met")
_AFTER_MEETING = ("nda", "poc", "contract", "ended")


def _need_defaults(n: int) -> dict:
    return {
        "title": f"軽量化部材の共同開発{n}",
        "summary": "電動車向けに、アルミ代替となる高強度樹脂部材の共同開発パートナーを探しています。",
        "background": "車体の軽量化が航続距離に直結するため、金属部品の樹脂化を進めたい。",
        "sought": "炭素繊維強化樹脂の成形技術と量産実績を持つ企業・大学。",
        "partnership_types": ["joint_rnd"], "keywords": ["CFRP", "軽量化", "射出成形"], "regions": [],
    }


def _proposal_defaults(n: int) -> dict:
    return {"title": f"CFRP射出成形による部材提案{n}",
            "summary": "炭素繊維強化樹脂の射出成形で、アルミ部品比40%の軽量化を実現します。",
            "solution": "独自の金型温度制御で薄肉成形を行い、量産試作まで3か月で対応します。",
            "track_record": "自動車部品の樹脂化で10年の量産実績。", "team": "技術者5名"}


class Factory:
    def __init__(self, db):
        self.db = db
        self._cast = None

    @property
    def cast(self):
        """The shared users of this test (tests/cast.py), made on first use."""
        if self._cast is None:
            from .cast import Cast

            self._cast = Cast(self)
        return self._cast

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

    # --- staff that act on the objects the factory makes -------------------------------------

    def coordinator_of(self, bureau: str) -> User:
        """The coordinator who reviews this bureau's needs: the cast's one for
        Kanto and Kinki, else the first coordinator of the bureau, else a new one."""
        from sqlalchemy import select

        if bureau in ("kanto", "kinki"):
            return self.cast.coordinator_of(bureau)
        found = self.db.session.scalar(
            select(User).join(Organisation, User.organisation_id == Organisation.id)
            .where(User.role == "coordinator", Organisation.bureau == bureau).order_by(User.id).limit(1))
        if found is not None:
            return found
        prefecture = {"hokkaido": "01", "tohoku": "04", "chubu": "23", "chugoku": "34", "shikoku": "37",
                      "kyushu": "40", "okinawa": "47"}.get(bureau, "13")
        return self.user("coordinator", prefecture=prefecture, name=f"{bureau} 調整")

    # --- needs ---------------------------------------------------------------------------------

    def need(self, owner: User | None = None, status: str = "published", anonymous: bool = False,
             deadline_days: int = 30, **kw) -> Need:
        """A need of `owner` (a need_owner user; made when omitted) in `status`,
        made and moved by the needs services. `kw` are the need's form fields
        (title, summary, keywords, partnership_types, regions...)."""
        from oims.needs import services
        from oims.needs.deadlines import close_expired

        owner = owner or self.user("need_owner")
        future = deadline_days > 0
        data = _need_defaults(next(_seq)) | {"anonymous": anonymous,
                                              "deadline": date.today() + timedelta(days=deadline_days if future else 30)}
        data.update(kw)
        need = services.create_need(owner, data)
        if status != "draft":
            services.submit_for_review(need, owner, acknowledged=True)
        if status == "returned":
            services.return_need(need, self.coordinator_of(need.bureau), "表現を具体的にしてください。")
        elif status not in ("draft", "review"):
            services.publish(need, self.coordinator_of(need.bureau), override_reason="テスト用の公開")
        if status == "withdrawn":
            services.withdraw(need, owner)
        elif status == "fulfilled":
            services.mark_fulfilled(need, owner)
        if not future or status == "closed":
            # A past deadline is a scenario fact: the services accept only future dates.
            need.deadline = date.today() + timedelta(days=min(deadline_days, -1 if status == "closed" else 0))
        if status == "closed":
            close_expired()  # what the nightly `flask oims close-needs` does
        self.db.session.commit()
        return need

    # --- proposals -----------------------------------------------------------------------------

    def proposal(self, need: Need, proposer: User | None = None, stage: str = "submitted", **kw) -> Proposal:
        """A proposal to `need` by `proposer` (a proposer user; made when omitted)
        at `stage`, made by `proposals.services` and moved through the workflow
        by the need's coordinator, owner and proposer as the pages would."""
        from oims.brokerage import services as brokerage
        from oims.brokerage.shortlist import forward_shortlist
        from oims.proposals import services
        from oims.proposals.workflow import change_stage

        proposer = proposer or self.user("proposer")
        reason = kw.pop("decline_reason", "tech_mismatch")
        form_fields = (*services.TEXT_FIELDS, "answers", "after_nda")
        data = _proposal_defaults(next(_seq)) | {k: v for k, v in kw.items() if k in form_fields}
        fixed = {k: v for k, v in kw.items() if k not in form_fields}  # scenario facts, e.g. owner_disclosed
        need_state = (need.status, need.deadline)
        if need_state[0] != "published" or need_state[1] <= date.today():
            # Proposing to a closed or past need is refused by the service: open it for the moment.
            need.status, need.deadline = "published", date.today() + timedelta(days=30)
        prop = services.create_proposal(need, data, actor=proposer, submit=stage != "draft")
        coordinator = self.coordinator_of(need.bureau) if stage not in ("draft", "submitted", "withdrawn") else None
        owner = self.db.session.get(User, need.created_by_id)
        if stage == "withdrawn":
            services.withdraw_proposal(prop, actor=proposer)
        elif stage == "declined":
            services.decline_proposal(prop, actor=coordinator, reason=reason)
        elif stage == "screening":
            services.start_screening(prop, actor=coordinator)
        elif stage in _PATH[2:] or stage in _AFTER_MEETING:
            forward_shortlist(need, [prop], actor=coordinator, comment="")
            for step in _PATH[3:]:
                if prop.stage == stage:
                    break
                if step == "meeting_requested":
                    brokerage.request_meeting(prop, actor=owner)
                else:
                    change_stage(prop, step, coordinator)
            if stage in _AFTER_MEETING:
                change_stage(prop, stage, coordinator)
        need.status, need.deadline = need_state
        for key, value in fixed.items():
            setattr(prop, key, value)
        self.db.session.commit()
        return prop


def login(client, user_or_email, password: str = PASSWORD, remember: bool = False):
    email = getattr(user_or_email, "email", user_or_email)
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data, follow_redirects=False)


def logout(client):
    return client.post("/auth/logout")
