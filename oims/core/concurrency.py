"""Conditional state changes and optimistic versions (see docs in README: concurrency).

`claim_state` moves a row from an expected state to a new one or raises
`StaleState`; `check_version` refuses an edit based on an older version.
"""

from __future__ import annotations

from oims.core.exceptions import EditConflict, StaleState
from oims.extensions import db


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
        # The failed flush already ended the transaction; reset the session so
        # that building the message (locale of current_user...) can read again.
        db.session.rollback()
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
