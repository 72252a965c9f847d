"""Who sees which KPI scope, and parsing of the period/bureau arguments
(shared by the dashboard, the CSV exports and the JSON API).

Scope decision: KPIs are aggregate figures, so a coordinator sees its own
bureau by default and may choose any other bureau or all of them; an admin
sees all by default. A need owner sees strictly its own organisation's needs
and only the proposals forwarded to it (what `oims.policy` lets it see).
Other roles have no KPI view.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from oims.core import reference as ref
from oims.extensions import db
from oims.insight.kpi import DEFAULT_TOP_N, Scope
from oims.models import Organisation, User


class BadArguments(ValueError):
    """Query arguments that cannot be understood; `errors` maps name → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def may_view_kpi(user: User) -> bool:
    return user.is_staff or user.is_need_owner


def _date(value: str | None, name: str, errors: dict) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Use a date like 2026-04-01.")
        return None


def kpi_scope(user: User, args) -> tuple[Scope, int]:
    """The scope and top-N a user asked for with `args` (a mapping), within
    the user's rights. Raises BadArguments."""
    errors: dict[str, str] = {}
    start = _date(args.get("from"), "from", errors)
    end = _date(args.get("to"), "to", errors)
    if start and end and start > end:
        errors["to"] = _("The end date is before the start date.")
    top_raw = args.get("top_n") or str(DEFAULT_TOP_N)
    top_n = int(top_raw) if top_raw.isascii() and top_raw.isdigit() and 1 <= int(top_raw) <= 1000 else None
    if top_n is None:
        errors["top_n"] = _("Give a whole number from 1 to 1000.")
    bureau_arg = args.get("bureau") or ""
    if bureau_arg and bureau_arg != "all" and bureau_arg not in ref.BUREAU_BY_CODE:
        errors["bureau"] = _("Unknown bureau.")
    if errors:
        raise BadArguments(errors)
    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo")
    if user.is_staff:
        if bureau_arg == "all":
            bureau = None
        elif bureau_arg:
            bureau = bureau_arg
        else:
            bureau = user.bureau if user.is_coordinator else None
        return Scope(start, end, bureau, tz=tz), top_n
    return Scope(start, end, None, owner_org_id=user.organisation_id, forwarded_only=True, tz=tz), top_n


def org_labeller(locale: str):
    """Names of need-owner organisations for the response-rate table. Only
    staff (who may see every owner) and the owner itself (its own name) ever
    get this table filled, so real names are right here."""
    cache: dict[int, str] = {}

    def label(org_id: int) -> str:
        if org_id not in cache:
            org = db.session.scalar(select(Organisation).where(Organisation.id == org_id))
            cache[org_id] = org.display_name(locale) if org else str(org_id)
        return cache[org_id]

    return label
