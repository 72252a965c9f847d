"""The audit log: one row per action that changes something that matters."""

from __future__ import annotations

from flask import has_request_context, request

from oims.extensions import db
from oims.models import AuditLog


def audit(actor, action: str, obj=None, **detail) -> AuditLog:
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "id", None),
        detail=detail,
        ip=(request.remote_addr or "")[:45] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
