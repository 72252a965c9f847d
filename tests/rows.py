"""Small queries tests share: what a step added to a table.

Factories go through the services, so a factory-made need or proposal has
already sent its notifications and e-mails; a test that checks what *its*
step sent takes `mark = last_id(db, OutboxMessage)` first and looks at the
rows after the mark."""

from __future__ import annotations

from sqlalchemy import func, select


def last_id(db, model) -> int:
    """The highest id in `model`'s table now (0 when empty)."""
    return db.session.scalar(select(func.max(model.id))) or 0


def rows_after(db, model, mark: int, *where) -> list:
    """Rows of `model` added after `mark` (from last_id), oldest first, filtered by `where`."""
    return list(db.session.scalars(select(model).where(model.id > mark, *where).order_by(model.id)))
