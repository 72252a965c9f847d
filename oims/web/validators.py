"""Form validators shared by several features."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


class HttpUrl:
    """An absolute http(s) URL with a host — never javascript:, data: or the like,
    which WTForms' URL() lets through as long as they look like host names."""

    def __init__(self, message=None):
        self.message = message or _l("Enter a web address starting with http:// or https://.")

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if not value:
            return
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValidationError(self.message)
        field.data = value
