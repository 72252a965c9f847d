"""A small, hand-computable world for the KPI tests (see test_kpi.py for the
figures worked out by hand). Period of interest: 2026-04-01..2026-06-30 JST.

Bureaus: chubu (Aichi 23), kanto (Tokyo 13), kinki (Osaka 27).
Owner A: large manufacturer (E) in Aichi; owner B: large ICT firm (G) in Tokyo.
The Kanto coordinator and the admin are the shared cast's (tests/cast.py).

    need  owner  published     partnership          bureau
    N1    A      04-01         joint_rnd, poc       chubu
    N2    A      05-10         supply               chubu
    N3    B      04-15         joint_rnd            kanto
    N4    B      08-01 (out)   alliance             kanto
    N5    A      draft                              chubu

    prop need proposer(kind,pref) submitted  stage     events (to_stage@date)                    fwd    resp   due   rank inv
    P1   N1   S1 sme 23           04-03      contract  shortlisted@04-05 met@04-11 nda contract  04-05  04-08  04-19  2   yes
    P2   N1   S2 university 27    04-02      declined  shortlisted@04-04 declined@04-06          04-04  04-06  04-18  15  no
    P3   N2   S3 startup 13       05-13      met       shortlisted@05-17 met@05-25               05-17  06-05  05-31  1   no
    P4   N3   S4 sme 23           04-20      poc       (none; a held Meeting)                    04-22  -      05-06  -   yes
    P5   N3   S1                  07-05 out  submitted
    P6   N4   S2                  08-03 out  submitted
    P7   N2   S2                  draft
    P8   N1   S3                  06-30 23:00 JST (in)  screening
    P9   N2   S4                  07-01 00:00 JST (out) submitted

All times are 12:00 JST (03:00 UTC) unless said otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete

from oims.models import Invitation, Meeting, ProposalEvent


def at(month: int, day: int, hour: int = 3, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def build(factory, db, *, anonymous_n1: bool = False) -> dict:
    w: dict = {}
    org_a = factory.org(kind="large", prefecture="23", industry="E", name="中部重工業株式会社")
    org_b = factory.org(kind="large", prefecture="13", industry="G", name="東京情報通信株式会社")
    w["owner_a"] = factory.user("need_owner", org=org_a)
    w["owner_b"] = factory.user("need_owner", org=org_b)
    w["coord_chubu"] = factory.user("coordinator", prefecture="23")
    w["coord_kanto"] = factory.cast.coordinator  # the shared cast's (tests/cast.py)
    w["admin"] = factory.cast.admin
    s = {
        "S1": factory.org(kind="sme", prefecture="23", name="愛知精密加工株式会社"),
        "S2": factory.org(kind="university", prefecture="27", name="大阪工業大学"),
        "S3": factory.org(kind="startup", prefecture="13", name="東京AIラボ株式会社"),
        "S4": factory.org(kind="sme", prefecture="23", name="名古屋樹脂成形株式会社"),
    }
    w["orgs"] = s
    w["proposers"] = {k: factory.user("proposer", org=o) for k, o in s.items()}

    def need(key, owner, published, types, status="published", **kw):
        n = factory.need(owner=owner, status=status, partnership_types=types, title=f"{key} 軽量化部材の共同開発",
                         **kw)
        n.published_at = published
        w[key] = n

    need("N1", w["owner_a"], at(4, 1), ["joint_rnd", "poc"], anonymous=anonymous_n1)
    need("N2", w["owner_a"], at(5, 10), ["supply"])
    need("N3", w["owner_b"], at(4, 15), ["joint_rnd"])
    need("N4", w["owner_b"], at(8, 1), ["alliance"])
    need("N5", w["owner_a"], None, ["joint_rnd"], status="draft")
    db.session.commit()

    def prop(key, need_key, who, stage, submitted, *, fwd=None, resp=None, due=None, rank=None, invited=False,
             events=()):
        p = factory.proposal(w[need_key], proposer=w["proposers"][who], stage=stage,
                             title=f"{key} 提案：CFRP部材")
        p.submitted_at = submitted
        p.forwarded_at = fwd
        p.responded_at = resp
        p.response_due = due
        p.shortlist_rank = rank
        if invited:
            inv = Invitation(need_id=p.need_id, org_id=p.org_id, coordinator_id=w["coord_chubu"].id)
            db.session.add(inv)
            db.session.flush()
            p.invitation_id = inv.id
        # The factory moved the proposal through the workflow today; this world's
        # history is pinned to the calendar above instead, so its events replace those.
        db.session.execute(delete(ProposalEvent).where(ProposalEvent.proposal_id == p.id))
        for frm, to, when in events:
            db.session.add(ProposalEvent(proposal_id=p.id, from_stage=frm, to_stage=to, created_at=when))
        w[key] = p

    prop("P1", "N1", "S1", "contract", at(4, 3), fwd=at(4, 5), resp=at(4, 8), due=date(2026, 4, 19), rank=2,
         invited=True, events=[("screening", "shortlisted", at(4, 5)), ("meeting_scheduled", "met", at(4, 11)),
                               ("met", "nda", at(4, 20)), ("nda", "contract", at(5, 1))])
    prop("P2", "N1", "S2", "declined", at(4, 2), fwd=at(4, 4), resp=at(4, 6), due=date(2026, 4, 18), rank=15,
         events=[("screening", "shortlisted", at(4, 4)), ("shortlisted", "declined", at(4, 6))])
    prop("P3", "N2", "S3", "met", at(5, 13), fwd=at(5, 17), resp=at(6, 5), due=date(2026, 5, 31), rank=1,
         events=[("screening", "shortlisted", at(5, 17)), ("meeting_scheduled", "met", at(5, 25))])
    prop("P4", "N3", "S4", "poc", at(4, 20), fwd=at(4, 22), due=date(2026, 5, 6), invited=True)
    prop("P5", "N3", "S1", "submitted", at(7, 5))
    prop("P6", "N4", "S2", "submitted", at(8, 3))
    prop("P7", "N2", "S2", "draft", None)
    prop("P8", "N1", "S3", "screening", at(6, 30, 14))
    prop("P9", "N2", "S4", "submitted", at(6, 30, 15))
    db.session.add(Meeting(proposal_id=w["P4"].id, status="held", proposed_by_id=w["owner_b"].id,
                           starts_at=at(5, 1), ends_at=at(5, 1, 4)))
    db.session.commit()
    return w


PERIOD = {"from": "2026-04-01", "to": "2026-06-30"}
