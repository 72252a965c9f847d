"""Password hashing (Argon2id via argon2-cffi) and the password policy."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _


@lru_cache(maxsize=4)
def _make_hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def _hasher() -> PasswordHasher:
    """Argon2id with the cost from OIMS_ARGON2_TIME_COST / OIMS_ARGON2_MEMORY_KIB
    (defaults: argon2-cffi's RFC 9106 low-memory profile). Tests lower them."""
    cfg = current_app.config if has_app_context() else {}
    return _make_hasher(int(cfg.get("OIMS_ARGON2_TIME_COST", 3)), int(cfg.get("OIMS_ARGON2_MEMORY_KIB", 65536)))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _make_hasher(time_cost, memory_kib).hash("not-a-real-password-0f9d2c")


def dummy_verify(password: str) -> None:
    """Verify against a throw-away hash when the e-mail is unknown, so that a
    login attempt takes as long whether or not the account exists."""
    h = _hasher()
    verify_password(_dummy_hash(h.time_cost, h.memory_cost), password)


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    path = Path(__file__).parent.parent / "data" / "common_passwords.txt"
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def policy_errors(password: str, *, email: str = "") -> list[str]:
    """Reasons the password is refused (empty list: acceptable)."""
    errors = []
    min_len = current_app.config.get("OIMS_PASSWORD_MIN_LENGTH", 10)
    if len(password) < min_len:
        errors.append(_("Use at least %(n)d characters.", n=min_len))
    if len(password) > 200:
        errors.append(_("Use at most 200 characters."))
    lowered = password.lower()
    if lowered in _common() or len(set(password)) <= 2:
        errors.append(_("This password is too common; choose another."))
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        errors.append(_("Do not use your e-mail address in the password."))
    return errors
