"""Jinja helpers: bilingual reference labels, dates, navigation."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from oims.core import reference as ref
from oims.core.timeutil import format_local
from oims.web.i18n import current_locale


def _label(table: dict):
    def fn(code):
        return ref.label(table, code, current_locale())

    return fn


def _dt(value, fmt: str | None = None):
    """Every time and date in every template goes through this filter: one
    format, no seconds (`fmt` is accepted for old call sites and ignored)."""
    return format_local(value)


def _unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    from sqlalchemy import func, select

    from oims.extensions import db
    from oims.models import Notification

    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    ) or 0


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        prefecture=_label(ref.PREFECTURE_BY_CODE),
        bureau=_label(ref.BUREAU_BY_CODE),
        industry=_label(ref.INDUSTRY_BY_CODE),
        org_kind=_label(ref.ORG_KIND_BY_CODE),
        employee_band=_label(ref.EMPLOYEE_BAND_BY_CODE),
        partnership=_label(ref.PARTNERSHIP_BY_CODE),
        role=_label(ref.ROLE_BY_CODE),
        decline_reason=_label(ref.DECLINE_REASON_BY_CODE),
        dt=_dt,
    )

    @app.context_processor
    def inject():
        return {"current_locale": current_locale, "unread_count": _unread_count, "ref": ref,
                "has_endpoint": lambda endpoint: endpoint in app.view_functions}
