"""Need fields from a form or JSON: checked, cleaned, with a message per field.

`clean_need_data` is the one validation of a need's fields; pages, the API and
the services all go through it. It raises `ValidationFailed` and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _

from oims.core import reference as ref
from oims.core.exceptions import ValidationFailed
from oims.core.timeutil import today_local
from oims.models import Need

LIMITS = {"title": 200, "summary": 2000, "background": 5000, "sought": 5000, "budget": 200,
          "desired_start": 100, "keyword": 50, "comment": 2000}
MAX_KEYWORDS = 15
TEXT_FIELDS = ("title", "summary", "background", "sought", "budget", "desired_start")
REQUIRED_TEXT = ("title", "summary")


def as_list(value) -> list[str]:
    """A list of strings from a list, or from text separated by commas (、，,), new lines or semicolons."""
    if value is None:
        return []
    if isinstance(value, str):
        for sep in ("、", "，", ",", "\n", ";"):
            value = value.replace(sep, ",")
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def as_date(value):
    """A date from a date, a datetime or an ISO string; None when empty, "invalid" when unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return "invalid"


def too_long(limit: int, text: str) -> str:
    return _("At most %(max)d characters (now %(n)d).", max=limit, n=len(text))


def clean_need_data(data: dict, *, partial: bool = False, current: Need | None = None) -> dict:
    """Validate need fields (from a form or JSON); return clean values or raise
    ValidationFailed with a message per field. `partial`: only the keys given."""
    errors: dict[str, list[str]] = {}
    out: dict = {}

    def err(field, message):
        errors.setdefault(field, []).append(message)

    for field in TEXT_FIELDS:
        if field in data or not partial:
            out[field] = _clean_text(field, data.get(field), err)
    cleaners = {"partnership_types": _clean_partnership_types, "keywords": _clean_keywords,
                "regions": _clean_regions}
    for field, clean in cleaners.items():
        if field in data or not partial:
            out[field] = clean(data.get(field), err)
    if "deadline" in data or not partial:
        deadline = _clean_deadline(data.get("deadline"), current, err)
        if deadline is not None:
            out["deadline"] = deadline
    if "anonymous" in data or not partial:
        value = data.get("anonymous")
        out["anonymous"] = value in (True, "y", "on", "true", "1", 1) if not isinstance(value, bool) else value
    if errors:
        raise ValidationFailed(errors)
    return out


def _clean_text(field: str, raw, err) -> str:
    value = str(raw or "").strip()
    if field in REQUIRED_TEXT and not value:
        err(field, _("This field is required."))
    elif len(value) > LIMITS[field]:
        err(field, too_long(LIMITS[field], value))
    return value


def _clean_partnership_types(raw, err) -> list[str]:
    types = as_list(raw)
    if not types:
        err("partnership_types", _("Choose at least one partnership type."))
    elif any(t not in ref.PARTNERSHIP_BY_CODE for t in types):
        err("partnership_types", _("Unknown partnership type."))
    return list(dict.fromkeys(types))


def _clean_keywords(raw, err) -> list[str]:
    kws = list(dict.fromkeys(as_list(raw)))
    if len(kws) > MAX_KEYWORDS:
        err("keywords", _("At most %(max)d keywords.", max=MAX_KEYWORDS))
    elif any(len(k) > LIMITS["keyword"] for k in kws):
        err("keywords", _("Each keyword may have at most %(max)d characters.", max=LIMITS["keyword"]))
    return kws


def _clean_regions(raw, err) -> list[str]:
    regions = as_list(raw)
    if any(r not in ref.BUREAU_BY_CODE for r in regions):
        err("regions", _("Unknown region."))
    return list(dict.fromkeys(regions))


def _clean_deadline(raw, current: Need | None, err) -> date | None:
    """The deadline, or None (with an error) when it is missing or not acceptable.

    A deadline already passed may stay as it is on an existing need (an edit
    that does not touch it), but may not be set anew."""
    deadline = as_date(raw)
    if deadline is None:
        err("deadline", _("This field is required."))
    elif deadline == "invalid":
        err("deadline", _("Enter a date as YYYY-MM-DD."))
    elif deadline <= today_local() and not (current is not None and current.deadline == deadline):
        err("deadline", _("The proposal deadline must be in the future."))
    elif deadline > today_local() + timedelta(days=730):
        err("deadline", _("The proposal deadline may be at most two years ahead."))
    else:
        return deadline
    return None
