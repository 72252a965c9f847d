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


# --- concurrency: conditional state changes and optimistic versions -----------------------------

class StaleState(ValidationFailed):
    """A state change lost a race: the row was no longer in the state the
    actor saw (the API answers 409). Nothing was changed."""

    def __init__(self, message: str, current: str | None = None):
        super().__init__(message)
        self.current = current


class EditConflict(Exception):
    """An edit was based on an older version of the object (pages show both
    versions; the API answers 412). Nothing was changed."""

    def __init__(self, obj, expected: int | None):
        super().__init__(f"{type(obj).__name__} {obj.id}: version {expected} is not {obj.row_version}")
        self.obj, self.expected = obj, expected


def claim_state(obj, column: str, expected, new: str, message_fn=None, **values) -> None:
    """Move `obj.<column>` from one of `expected` to `new`, or raise StaleState.

    The change is a conditional UPDATE: the mapper's version column makes it
    `UPDATE … SET <column> = :new, row_version = v + 1 WHERE id = :id AND
    row_version = v` (v: the version this transaction read), flushed here. Of
    two concurrent changes exactly one matches the row; on PostgreSQL the
    other waits for the winner's commit and then matches nothing, on SQLite
    it waits for the write lock and then matches nothing. The loser's flush
    fails, nothing of its transaction is kept, and it raises StaleState with
    the state the winner left. Going through the ORM keeps the ORM events
    (matcher index, audit hooks) working."""
    from sqlalchemy.orm.exc import StaleDataError

    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    if getattr(obj, column) not in expected:
        current = getattr(obj, column)
        raise StaleState(_stale_text(message_fn, current), current)
    model, obj_id = type(obj), obj.id  # read now: after a failed flush the object cannot be read
    setattr(obj, column, new)
    for key, value in values.items():
        setattr(obj, key, value)
    try:
        db.session.flush()
    except StaleDataError:
        current = committed_value(model, obj_id, column)
        raise StaleState(_stale_text(message_fn, current), current) from None


def _stale_text(message_fn, current) -> str:
    if message_fn:
        return message_fn(current)
    from flask_babel import gettext as _

    return _("Someone else changed this in the meantime. Nothing was changed; reload the page.")


def committed_value(model, obj_id: int, column: str):
    """`column` of the row as last committed, read on a connection of its own
    (the caller's transaction may be failed or hold an older snapshot)."""
    from sqlalchemy import select

    with db.engine.connect() as conn:
        return conn.scalar(select(getattr(model, column)).where(model.id == obj_id))


def check_version(obj, expected) -> None:
    """Refuse an edit based on another version than the one loaded (the
    version_id_col then guards the rest of the way to the commit)."""
    if expected is None or expected == "":
        return
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        raise EditConflict(obj, None) from None
    if expected != obj.row_version:
        raise EditConflict(obj, expected)
