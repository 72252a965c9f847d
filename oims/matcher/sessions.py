"""Sessions of the matcher's own: index bookkeeping never commits a request's work."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy.orm import Session

from oims.extensions import db


@contextmanager
def own_session():
    """A session of its own, so index bookkeeping never commits a request's work."""
    session = Session(db.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
