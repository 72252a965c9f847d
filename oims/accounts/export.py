"""A person's own data (APPI disclosure request): JSON, or a ZIP of CSV files.

Only what is about the person or written by them: their account, sign-ins and
actions (audit log), API tokens, notifications, e-mails sent to them, and the
needs, proposals, messages and meetings they created. Nothing about other
people or other firms is included (no owner of an anonymous need, no other
firm's proposal): ids and the person's own texts only.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime

from sqlalchemy import select

from oims.extensions import db
from oims.models import (
    ApiToken,
    AuditLog,
    Meeting,
    Need,
    Notification,
    OrgJoinRequest,
    OutboxMessage,
    Proposal,
    ThreadMessage,
    User,
)
from oims.models.base import utcnow


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _rows(query, fields: tuple[str, ...]) -> list[dict]:
    return [{f: _iso(getattr(obj, f)) for f in fields} for obj in db.session.scalars(query)]


def personal_data(user: User) -> dict:
    org = user.organisation
    account = {
        "id": user.id, "name": user.name, "email": user.email, "role": user.role,
        "organisation_id": org.id, "organisation": org.name, "is_org_admin": user.is_org_admin,
        "status": user.status, "language": user.language or "", "created_at": _iso(user.created_at),
        "last_login_at": _iso(user.last_login_at),
    }
    return {
        "generated_at": utcnow().isoformat(),
        "account": account,
        "activity": _rows(select(AuditLog).where(AuditLog.actor_id == user.id).order_by(AuditLog.id),
                          ("created_at", "action", "object_type", "object_id", "ip")),
        "api_tokens": _rows(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id),
                            ("name", "prefix", "created_at", "last_used_at", "revoked_at")),
        "notifications": _rows(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id),
                               ("created_at", "kind", "text", "url", "read_at")),
        "emails": _rows(select(OutboxMessage).where(OutboxMessage.to == user.email).order_by(OutboxMessage.id),
                        ("created_at", "subject", "status", "sent_at")),
        "needs_created": _rows(select(Need).where(Need.created_by_id == user.id).order_by(Need.id),
                               ("id", "title", "status", "created_at")),
        "proposals_created": _rows(select(Proposal).where(Proposal.created_by_id == user.id).order_by(Proposal.id),
                                   ("id", "need_id", "title", "stage", "created_at")),
        "messages_written": _rows(select(ThreadMessage).where(ThreadMessage.author_id == user.id)
                                  .order_by(ThreadMessage.id), ("id", "proposal_id", "created_at", "body")),
        "meetings_proposed": _rows(select(Meeting).where(Meeting.proposed_by_id == user.id).order_by(Meeting.id),
                                   ("id", "proposal_id", "status", "starts_at", "ends_at")),
        "join_requests": _rows(select(OrgJoinRequest).where(OrgJoinRequest.user_id == user.id)
                               .order_by(OrgJoinRequest.id), ("organisation_id", "status", "created_at", "decided_at")),
    }


def personal_data_json(user: User) -> str:
    return json.dumps(personal_data(user), ensure_ascii=False, indent=2)


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # BOM: Excel, which most bureau staff and firms open CSV with, then reads UTF-8.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def personal_data_zip(user: User) -> bytes:
    data = personal_data(user)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        zf.writestr("account.csv", _csv([data["account"]]))
        for section, rows in data.items():
            if isinstance(rows, list):
                zf.writestr(f"{section}.csv", _csv(rows))
    return out.getvalue()
