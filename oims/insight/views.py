from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.core import reference as ref
from oims.insight import exports
from oims.insight.kpi import DIMENSIONS, load_facts, report
from oims.insight.services import BadArguments, kpi_scope, may_view_kpi, org_labeller
from oims.matchfeed.judgments import precision_by_band
from oims.web.i18n import current_locale

bp = Blueprint("insight", __name__, url_prefix="/insight")


def _report_for_request():
    """The KPI report the signed-in user asked for (or the errors)."""
    try:
        scope, top_n = kpi_scope(current_user, request.args)
    except BadArguments as exc:
        return None, exc.errors
    return report(load_facts(scope), top_n, org_labeller(current_locale())), {}


@bp.get("/")
@login_required
def kpi():
    if not may_view_kpi(current_user):
        abort(403)
    data, errors = _report_for_request()
    charts = _charts(data, current_locale()) if data else {}
    return render_template("insight/kpi.html", report=data, errors=errors, charts=charts,
                           dimensions=DIMENSIONS, tables=exports, args=request.args,
                           bureaus=ref.BUREAUS, judged=_judged_precision() if data else None), (400 if errors else 200)


def _judged_precision():
    """The matcher's precision on coordinators' judged suggestions, by band (staff only)."""
    if not current_user.is_staff:
        return None
    scope, _top_n = kpi_scope(current_user, request.args)
    since, until = scope.bounds()
    return precision_by_band(bureau=scope.bureau, since=since, until=until)


@bp.get("/export/kpi/<name>.csv")
@login_required
def export_kpi(name: str):
    if not may_view_kpi(current_user):
        abort(403)
    if name not in exports.KPI_TABLES:
        abort(404)
    data, errors = _report_for_request()
    if errors:
        abort(400)
    header, rows = exports.kpi_table(data, name, current_locale())
    return exports.csv_response(f"oims-kpi-{name}-{date.today():%Y%m%d}.csv", header, rows)


@bp.get("/export/<kind>.csv")
@login_required
def export_list(kind: str):
    """Needs, proposals or meetings the user may see (any signed-in user)."""
    if kind not in exports.LISTS:
        abort(404)
    header, rows = exports.LISTS[kind](current_user, current_locale())
    return exports.csv_response(f"oims-{kind}-{date.today():%Y%m%d}.csv", header, rows)


def _charts(data: dict, locale: str) -> dict:
    """Chart.js configurations, handed to insight.js in data-* attributes."""
    names = exports.stage_names()
    charts = {"funnel": {"type": "bar", "labels": [names[r["stage"]] for r in data["funnel"]],
                         "datasets": [{"label": _("Count"), "data": [r["count"] for r in data["funnel"]]}]}}
    for dim in DIMENSIONS:
        rows = data["breakdowns"][dim][:15]
        charts[dim] = {"type": "bar", "horizontal": True,
                       "labels": [exports.dimension_label(dim, r["key"], locale) for r in rows],
                       "datasets": [{"label": _("Proposals"), "data": [r["proposals"] for r in rows]},
                                    {"label": _("Meetings"), "data": [r["meetings"] for r in rows]}]}
    rows = data["regional"][:15]
    charts["regional"] = {"type": "bar", "horizontal": True,
                          "labels": [ref.label(ref.PREFECTURE_BY_CODE, r["prefecture"], locale) for r in rows],
                          "datasets": [{"label": _("Proposals"), "data": [r["proposals"] for r in rows]}]}
    measures = exports.measure_names()
    charts["time"] = {"type": "bar", "labels": [measures[r["measure"]] for r in data["time_measures"]],
                      "datasets": [{"label": _("Median days"),
                                    "data": [r["median_days"] for r in data["time_measures"]]}]}
    m = data["matcher"]
    charts["matcher"] = {"type": "bar",
                         "labels": [_("Invited by a coordinator"), _("Top %(n)d of the ranking", n=m["top_n"]),
                                    _("Either")],
                         "datasets": [{"label": _("Meetings"),
                                       "data": [m["from_invitation"], m["from_top_n"], m["from_either"]]}]}
    return charts
