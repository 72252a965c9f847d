"""Configuration from OIMS_* environment variables with safe defaults.

Every variable read here is documented in README.md ("Configuration").
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def load_secret_key(instance_path: str) -> str:
    """Return OIMS_SECRET_KEY, or a random key kept in the instance folder.

    The key is generated once and written with mode 0600, so sessions survive
    restarts and every worker process of one deployment shares it.
    """
    if key := os.environ.get("OIMS_SECRET_KEY"):
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: if two workers race, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def normalise_db_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping for create_app()."""
    db_url = os.environ.get("OIMS_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "oims.sqlite3")
    )
    secure_cookies = _bool("OIMS_SECURE_COOKIES", False)
    return {
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int("OIMS_REMEMBER_DAYS", 14)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("OIMS_SESSION_HOURS", 12)),
        "MAX_CONTENT_LENGTH": _int("OIMS_MAX_UPLOAD_MB", 10) * 1024 * 1024,
        "OIMS_ALIAS_MIN_PEERS": _int("OIMS_ALIAS_MIN_PEERS", 3),
        "BABEL_DEFAULT_LOCALE": os.environ.get("OIMS_DEFAULT_LOCALE", "ja"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("OIMS_TIMEZONE", "Asia/Tokyo"),
        # memory:// counts per process; production with several gunicorn workers
        # or hosts sets a shared store, e.g. redis://127.0.0.1:6379/6.
        # (OIMS_RATELIMIT_STORAGE is the older name, still read.)
        "RATELIMIT_STORAGE_URI": (os.environ.get("OIMS_RATELIMIT_STORAGE_URI")
                                  or os.environ.get("OIMS_RATELIMIT_STORAGE") or "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("OIMS_RATELIMIT_KEY_PREFIX", "oims"),
        "RATELIMIT_ENABLED": _bool("OIMS_RATELIMIT_ENABLED", True),
        # Failed sign-ins only (successes never count): per account, and per address.
        "OIMS_LOGIN_RATE": os.environ.get("OIMS_LOGIN_RATE", "10 per minute;50 per hour"),
        "OIMS_LOGIN_IP_RATE": os.environ.get("OIMS_LOGIN_IP_RATE", "30 per minute;300 per hour"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are
        # trusted (nginx: 1). Without it every client has the proxy's address,
        # and the per-address sign-in limit would count everyone together.
        "OIMS_TRUSTED_PROXIES": _int("OIMS_TRUSTED_PROXIES", 0),
        "OIMS_API_RATE": os.environ.get("OIMS_API_RATE", "300 per minute"),
        "OIMS_BASE_URL": os.environ.get("OIMS_BASE_URL", "http://127.0.0.1:5000"),
        "OIMS_MAIL_FROM": os.environ.get("OIMS_MAIL_FROM", "OIMS <no-reply@oims.example.jp>"),
        "OIMS_MAIL_BACKEND": os.environ.get("OIMS_MAIL_BACKEND", "log"),  # log | smtp
        "OIMS_SMTP_HOST": os.environ.get("OIMS_SMTP_HOST", "127.0.0.1"),
        "OIMS_SMTP_PORT": _int("OIMS_SMTP_PORT", 25),
        "OIMS_SMTP_TLS": os.environ.get("OIMS_SMTP_TLS", "none"),  # none | starttls | ssl
        "OIMS_SMTP_USER": os.environ.get("OIMS_SMTP_USER", ""),
        "OIMS_SMTP_PASSWORD": os.environ.get("OIMS_SMTP_PASSWORD", ""),
        "OIMS_MAIL_MAX_ATTEMPTS": _int("OIMS_MAIL_MAX_ATTEMPTS", 8),
        "OIMS_RESET_TOKEN_MINUTES": _int("OIMS_RESET_TOKEN_MINUTES", 60),
        "OIMS_PASSWORD_MIN_LENGTH": _int("OIMS_PASSWORD_MIN_LENGTH", 10),
        "OIMS_UPLOAD_DIR": os.environ.get("OIMS_UPLOAD_DIR", str(Path(instance_path) / "uploads")),
        "OIMS_ENCODER": os.environ.get("OIMS_ENCODER", ""),
        "OIMS_MATCHING_ENABLED": _bool("OIMS_MATCHING_ENABLED", True),
        "OIMS_INDEX_IN_BACKGROUND": _bool("OIMS_INDEX_IN_BACKGROUND", True),
        "OIMS_SERVER_TIMING": _bool("OIMS_SERVER_TIMING", False),
        # embedded: each web process runs an encoding thread (one at a time holds the
        # lease); external: only `flask oims worker` processes encode.
        "OIMS_INDEX_WORKER": os.environ.get("OIMS_INDEX_WORKER", "embedded"),
        "OIMS_INDEX_POLL_SECONDS": float(os.environ.get("OIMS_INDEX_POLL_SECONDS", "0.5")),
        "OIMS_INDEX_LEASE_SECONDS": float(os.environ.get("OIMS_INDEX_LEASE_SECONDS", "20")),
        "OIMS_IMPORT_IN_BACKGROUND": _bool("OIMS_IMPORT_IN_BACKGROUND", True),
        "OIMS_REDIS_URL": os.environ.get("OIMS_REDIS_URL", ""),
        "OIMS_KPI_CACHE_SECONDS": _int("OIMS_KPI_CACHE_SECONDS", 600),
        "OIMS_RESPONSE_DAYS": _int("OIMS_RESPONSE_DAYS", 14),
        "OIMS_STALL_DAYS": _int("OIMS_STALL_DAYS", 30),
        # Matching-need alerts (oims/matchfeed/alerts.py)
        "OIMS_PUSH_WEEKLY_CAP": _int("OIMS_PUSH_WEEKLY_CAP", 3),
        "OIMS_PUSH_TOP_K": _int("OIMS_PUSH_TOP_K", 20),
        "OIMS_PUSH_MIN_PROBABILITY": _float("OIMS_PUSH_MIN_PROBABILITY", 0.3),
        "OIMS_DIGEST_MIN_PROBABILITY": _float("OIMS_DIGEST_MIN_PROBABILITY", 0.3),
        "OIMS_FIT_ENCODER": os.environ.get("OIMS_FIT_ENCODER", "use"),
        "OIMS_PAGE_SIZE": _int("OIMS_PAGE_SIZE", 20),
        # the needs search counts its matches up to this many ("more than 1,000 needs"); 0 = count them all
        "OIMS_SEARCH_COUNT_CAP": _int("OIMS_SEARCH_COUNT_CAP", 1000),
        "OIMS_ARGON2_TIME_COST": _int("OIMS_ARGON2_TIME_COST", 3),
        "OIMS_ARGON2_MEMORY_KIB": _int("OIMS_ARGON2_MEMORY_KIB", 65536),
    }
