"""Demo step: the needs of oims.demo_data.NEEDS, found by title (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from oims.core.timeutil import today_local
from oims.demo import data
from oims.extensions import db
from oims.models import Need, NeedVersion
from oims.models.base import utcnow
from oims.needs.services import assign_alias, refresh_search_text

RETURN_COMMENT = ("センサの設置方法と安全基準の確認範囲が読み取りにくいため、"
                  "「求める技術」に想定する設置箇所数と評価期間を追記してください。")
DIRECT_CONTACT = " 詳細は当社担当者まで直接お問い合わせください。"


def _owner_user(users, org):
    for user in users.values():
        if user.organisation_id == org.id and user.role == "need_owner":
            return user
    return None


def _coordinator(users, bureau):
    for user in users.values():
        if user.role == "coordinator" and user.organisation.bureau == bureau:
            return user
    return next((u for u in users.values() if u.role in ("coordinator", "admin")), None)


def load_demo_needs(orgs, users) -> dict:
    today = today_local()
    for i, row in enumerate(data.NEEDS):
        if db.session.scalar(select(Need.id).where(Need.title == row["title"])):
            continue
        org = orgs[row["owner"]]
        owner = _owner_user(users, org)
        status = row["status"]
        need = Need(owner_org_id=org.id, owner_org=org, created_by_id=owner.id, status=status, bureau=org.bureau,
                    anonymous=row["anonymous"], deadline=today + timedelta(days=row["deadline_days"]),
                    **{k: row[k] for k in ("title", "summary", "background", "sought", "budget", "desired_start")},
                    partnership_types=list(row["partnership_types"]), keywords=list(row["keywords"]),
                    regions=list(row["regions"]))
        now = utcnow()
        db.session.add(need)
        if need.anonymous:
            assign_alias(need)
        refresh_search_text(need)
        if status != "draft":
            need.submitted_at = now - timedelta(days=20 + i % 9)
        if status == "returned":
            need.review_comment = RETURN_COMMENT
        if status in ("published", "closed", "fulfilled"):
            coordinator = _coordinator(users, org.bureau)
            if status == "published":
                need.published_at = now - timedelta(days=1 + (i * 5) % 25)
            else:
                need.published_at = now - timedelta(days=-row["deadline_days"] + 40)
                need.closed_at = now - timedelta(days=-row["deadline_days"])
            need.published_by_id = coordinator.id if coordinator else None
            db.session.flush()
            # History where it is plausible: the coordinator removed a request for
            # direct contact before publishing (OIMS brokers the first meeting) ...
            if i % 3 == 0 and coordinator is not None:
                snap = need.snapshot()
                snap["summary"] = need.summary + DIRECT_CONTACT
                db.session.add(NeedVersion(need=need, version=need.version, snapshot=snap,
                                           changed_by_id=coordinator.id, reason="coordinator_edit",
                                           created_at=need.published_at - timedelta(hours=2)))
                need.version += 1
            # ... and some owners extended the deadline after publication.
            if status == "published" and i % 4 == 1:
                snap = need.snapshot()
                snap["deadline"] = (need.deadline - timedelta(days=14)).isoformat()
                db.session.add(NeedVersion(need=need, version=need.version, snapshot=snap,
                                           changed_by_id=owner.id, reason="edit_after_publish",
                                           created_at=need.published_at + timedelta(hours=30)))
                need.version += 1
    db.session.flush()
    titles = [row["title"] for row in data.NEEDS]
    versions = db.session.scalar(select(func.count(NeedVersion.id)).join(Need).where(Need.title.in_(titles)))
    return {"needs": len(titles), "need_versions": versions or 0}
