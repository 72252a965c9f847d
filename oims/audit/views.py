from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from oims.audit.services import (
    OBJECT_TYPES,
    BadFilters,
    RowPage,
    actions_for,
    owner_views_query,
    page_number,
    parse_filters,
    trail_query,
)
from oims.core.timeutil import local_tz
from oims.core.vocabulary import Role
from oims.extensions import db
from oims.insight.exports import csv_response
from oims.policy import roles_required, staff_required

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50
CSV_LIMIT = 50_000


def _filters():
    try:
        return parse_filters(request.args), {}
    except BadFilters as exc:
        return None, exc.errors


@bp.get("/")
@staff_required
def trail():
    filters, errors = _filters()
    page = RowPage(trail_query(current_user, filters), page_number(request.args), PER_PAGE) if filters else None
    return render_template("audit/trail.html", page=page, errors=errors, args=request.args,
                           actions=actions_for(current_user), object_types=OBJECT_TYPES), (400 if errors else 200)


@bp.get("/trail.csv")
@staff_required
def trail_csv():
    filters, errors = _filters()
    if errors:
        abort(400)
    # IP addresses are personal data: admins only (coordinators get the column empty).
    rows = db.session.execute(trail_query(current_user, filters).limit(CSV_LIMIT)).all()
    header = ["id", "time", "actor_id", "actor", "actor_email", "action", "object_type", "object_id", "detail", "ip"]
    body = [[e.id, e.created_at.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M"), e.actor_id or "", u.name if u else "", u.email if u else "",
             e.action, e.object_type, e.object_id if e.object_id is not None else "",
             json.dumps(e.detail or {}, ensure_ascii=False), e.ip if current_user.is_admin else ""]
            for e, u in rows]
    return csv_response(f"oims-audit-{date.today():%Y%m%d}.csv", header, body)


@bp.get("/proposal-views")
@roles_required(Role.NEED_OWNER)
def proposal_views():
    """Who of the owner's organisation opened the proposals forwarded to it, and when."""
    page = RowPage(owner_views_query(current_user), page_number(request.args), PER_PAGE)
    return render_template("audit/proposal_views.html", page=page)
