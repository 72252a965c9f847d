"""Demo step: the needs of oims.demo_data.NEEDS, found by title (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from oims.core.timeutil import today_local
from oims.core.vocabulary import PUBLIC_NEED_STATUSES, STAFF_ROLES, NeedStatus, Role
from oims.demo import data
from oims.extensions import db
from oims.models import Need, NeedVersion
from oims.models.base import utcnow
from oims.needs.aliases import assign_alias
from oims.needs.search import refresh_search_text
from oims.needs.versions import COORDINATOR_EDIT, EDIT_AFTER_PUBLISH

RETURN_COMMENT = ("センサの設置方法と安全基準の確認範囲が読み取りにくいため、"
                  "「求める技術」に想定する設置箇所数と評価期間を追記してください。")
DIRECT_CONTACT = " 詳細は当社担当者まで直接お問い合わせください。"


def _owner_user(users, org):
    for user in users.values():
        if user.organisation_id == org.id and user.role == Role.NEED_OWNER:
            return user
    return None


def _coordinator(users, bureau):
    for user in users.values():
        if user.role == Role.COORDINATOR and user.organisation.bureau == bureau:
            return user
    return next((u for u in users.values() if u.role in STAFF_ROLES), None)


def load_demo_needs(orgs, users) -> dict:
    today = today_local()
    for i, row in enumerate(data.NEEDS):
        if db.session.scalar(select(Need.id).where(Need.title == row["title"])):
            continue
        org = orgs[row["owner"]]
        owner = _owner_user(users, org)
        status = NeedStatus(row["status"])
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
        if status != NeedStatus.DRAFT:
            need.submitted_at = now - timedelta(days=20 + i % 9)
        if status == NeedStatus.RETURNED:
            need.review_comment = RETURN_COMMENT
        if status in PUBLIC_NEED_STATUSES:
            coordinator = _coordinator(users, org.bureau)
            if status == NeedStatus.PUBLISHED:
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
                                           changed_by_id=coordinator.id, reason=COORDINATOR_EDIT,
                                           created_at=need.published_at - timedelta(hours=2)))
                need.version += 1
            # ... and some owners extended the deadline after publication.
            if status == NeedStatus.PUBLISHED and i % 4 == 1:
                snap = need.snapshot()
                snap["deadline"] = (need.deadline - timedelta(days=14)).isoformat()
                db.session.add(NeedVersion(need=need, version=need.version, snapshot=snap,
                                           changed_by_id=owner.id, reason=EDIT_AFTER_PUBLISH,
                                           created_at=need.published_at + timedelta(hours=30)))
                need.version += 1
    db.session.flush()
    titles = [row["title"] for row in data.NEEDS]
    versions = db.session.scalar(select(func.count(NeedVersion.id)).join(Need).where(Need.title.in_(titles)))
    return {"needs": len(titles), "need_versions": versions or 0}
