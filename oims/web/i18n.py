"""Locale selection: the session's choice, then the user's setting, then Japanese."""

from __future__ import annotations

from flask import current_app, session
from flask_login import current_user

SUPPORTED = ("ja", "en")


def select_locale() -> str:
    lang = session.get("lang")
    if lang in SUPPORTED:
        return lang
    if current_user and current_user.is_authenticated and current_user.language in SUPPORTED:
        return current_user.language
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "ja")


def select_timezone() -> str:
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo")


def current_locale() -> str:
    from flask_babel import get_locale

    loc = get_locale()
    return loc.language if loc else "ja"
