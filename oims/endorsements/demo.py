"""Demo step (h8): a public research institute (公設試) allowed to endorse, with
a demo login, and endorsements of capabilities of demo proposers (one by the
bureau). Idempotent: keyed by (organisation, capability)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oims.auth.passwords import hash_password
from oims.core.timeutil import today_local
from oims.core.vocabulary import Role
from oims.extensions import db
from oims.models import Endorsement, Organisation, User

ENDORSER_EMAIL = "endorser@example.jp"


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    counts = {"endorsements": 0}
    endorser = db.session.scalar(select(Organisation).where(Organisation.name == "東京都立産業技術研究センター（デモ）"))
    if endorser is None:
        endorser = Organisation(name="東京都立産業技術研究センター（デモ）", name_en="Tokyo Metropolitan Industrial "
                                "Technology Research Institute (demo)", kind="support", industry="L",
                                employee_band="301-1000", profile="公設試験研究機関。中小企業の技術支援・依頼試験。")
        endorser.set_prefecture("13")
        db.session.add(endorser)
    endorser.endorser_kind = endorser.endorser_kind or "kosetsushi"
    db.session.flush()
    user = db.session.scalar(select(User).where(User.email == ENDORSER_EMAIL))
    if user is None:
        any_user = next(iter(users.values()), None)
        user = User(email=ENDORSER_EMAIL, name="山本 技術支援", role=Role.PROPOSER, organisation=endorser,
                    password_hash=any_user.password_hash if any_user else hash_password("oims-demo-2026"),
                    is_org_admin=True, language="ja")
        db.session.add(user)
        db.session.flush()
    coordinator = next((u for u in users.values() if u.role == Role.COORDINATOR), None)
    today = today_local()
    plan = [("omori_seimitsu", None, "難削材（インコネル・チタン）の5軸精密切削",
             "依頼試験で加工面粗さと寸法精度を当センターが測定・確認（2026年度）。"),
            ("jomo_composite", None, "CFRP高速プレス成形", "共同研究で成形サイクル90秒を確認。"),
            ("tama_vision", "bureau", "AI外観検査", "局の支援事業で導入実績を確認。")]
    for org_key, by, capability, note in plan:
        org = orgs.get(org_key)
        actor = coordinator if by == "bureau" else user
        if org is None or actor is None:
            continue
        if db.session.scalar(select(Endorsement.id).where(Endorsement.org_id == org.id,
                                                          Endorsement.capability == capability)):
            continue
        db.session.add(Endorsement(org_id=org.id, capability=capability, note=note,
                                   endorser_org_id=actor.organisation_id, endorser_user_id=actor.id,
                                   endorsed_on=today - timedelta(days=30), expires_on=today + timedelta(days=700)))
        counts["endorsements"] += 1
    db.session.flush()
    return counts
