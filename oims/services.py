"""Shared pieces of the service layer: validation errors and the audit log."""

from __future__ import annotations

from flask import has_request_context, request

from .extensions import db
from .models import AuditLog


class ValidationFailed(Exception):
    """A service refused its input; `errors` maps field names to messages
    (the key "" is for errors not tied to one field)."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"": [errors]}
        self.errors = errors
        super().__init__("; ".join(m for ms in errors.values() for m in ms))


class NotAllowed(Exception):
    """The actor may not perform this transition or action."""


def apply_errors(form, exc: ValidationFailed) -> list[str]:
    """Attach a service's errors to a WTForms form; return the form-level ones."""
    general = []
    for field, messages in exc.errors.items():
        target = getattr(form, field, None) if field else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            general.extend(messages)
    return general


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
