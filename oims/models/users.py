from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oims.extensions import db
from oims.models.base import UTCDateTime, utcnow
from oims.models.orgs import Organisation


def _nonce() -> str:
    return secrets.token_hex(8)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The organisation's own administrator approves people who ask to join it.
    is_org_admin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active|pending|disabled|deleted
    # Why a disabled account is disabled: "admin" (by hand), "org" / "org-pending"
    # (its organisation was disabled; re-enabling the organisation restores it).
    disabled_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Set when the person was pseudonymised (account deleted); the row stays
    # because proposals, needs, meetings and the audit log refer to it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(5))
    # Part of the login identifier: changing it (password change or reset)
    # logs out every other session and invalidates remember-me cookies.
    session_nonce: Mapped[str] = mapped_column(String(32), default=_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_needs_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.status == "active" and not self.organisation.is_disabled

    def renew_nonce(self) -> None:
        """End every session and remember-me cookie of this user (the session
        generation: the nonce is part of the login identifier both carry)."""
        self.session_nonce = _nonce()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def is_staff(self) -> bool:
        """Bureau staff: coordinators and admins."""
        return self.role in ("coordinator", "admin")

    @property
    def is_need_owner(self) -> bool:
        return self.role == "need_owner"

    @property
    def is_proposer(self) -> bool:
        return self.role == "proposer"

    @property
    def bureau(self) -> str:
        return self.organisation.bureau


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # Only the SHA-256 of the token is stored; the token itself is in the e-mail.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PasswordResetToken {self.id} user={self.user_id}>"


class ApiToken(db.Model):
    """Personal API token; stored hashed, scoped to its user's rights."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… user={self.user_id}>"
