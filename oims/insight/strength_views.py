"""Regional strength and declines pages of the insight area (staff)."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from oims.core import reference as ref
from oims.insight import exports
from oims.insight.declines import bureau_declines
from oims.insight.strength import BUREAU_ROW, heat_class, strength
from oims.insight.views import bp
from oims.policy import staff_required
from oims.web.i18n import current_locale

MEASURES = ("orgs", "proposals")


def _bureau() -> tuple[str | None, dict]:
    """The bureau asked for (default: the coordinator's own; admins: the first)."""
    code = request.args.get("bureau") or ""
    if code and code not in ref.BUREAU_BY_CODE:
        return None, {"bureau": _("Unknown bureau.")}
    if not code:
        code = current_user.bureau if current_user.is_coordinator else ref.BUREAUS[0].code
    return code, {}


def row_label(row: str, bureau: str, locale: str) -> str:
    if row == BUREAU_ROW:
        return _("%(bureau)s (all its prefectures)", bureau=ref.label(ref.BUREAU_BY_CODE, bureau, locale))
    return ref.label(ref.PREFECTURE_BY_CODE, row, locale)


@bp.get("/strength")
@staff_required
def strength_page():
    bureau, errors = _bureau()
    data = strength(bureau) if bureau else None
    return render_template("insight/strength.html", data=data, bureau=bureau, errors=errors, measures=MEASURES,
                           heat_class=heat_class, row_label=row_label, bureaus=ref.BUREAUS), (400 if errors else 200)


@bp.get("/strength/<table>.csv")
@staff_required
def strength_csv(table: str):
    if table not in (*MEASURES, "gap"):
        abort(404)
    bureau, errors = _bureau()
    if errors:
        abort(400)
    data, locale = strength(bureau), current_locale()
    if table == "gap":
        header = ["industry_code", "industry", "needs", "needs_without_proposal", "local_proposer_orgs",
                  "local_orgs_per_need"]
        rows = [[r["industry"], ref.label(ref.INDUSTRY_BY_CODE, r["industry"], locale), r["needs"], r["unanswered"],
                 r["local_firms"], "" if r["firms_per_need"] is None else f"{r['firms_per_need']:.2f}"]
                for r in data["gap"]]
    else:
        grid = data[table]
        header = ["prefecture_code", "prefecture", "industry_code", "industry", "count", "prefecture_total",
                  "national_industry_count", "national_total", "specialisation_coefficient"]
        rows = []
        for row in grid.rows:
            for industry in grid.industries:
                value = grid.value(row, industry)
                rows.append([row, row_label(row, bureau, locale), industry,
                             ref.label(ref.INDUSTRY_BY_CODE, industry, locale), grid.counts.get((row, industry), 0),
                             grid.row_totals.get(row, 0), grid.national.get(industry, 0), grid.national_total,
                             "" if value is None else f"{value:.2f}"])
    return exports.csv_response(f"oims-strength-{table}-{bureau}-{date.today():%Y%m%d}.csv", header, rows)


@bp.get("/declines")
@staff_required
def declines():
    bureau, errors = _bureau()
    data = bureau_declines(bureau) if bureau else None
    locale = current_locale()
    return render_template(
        "insight/declines.html", data=data, bureau=bureau, errors=errors, bureaus=ref.BUREAUS,
        industry_name=lambda k: f"{k} {ref.label(ref.INDUSTRY_BY_CODE, k, locale)}",
        prefecture_name=lambda k: ref.label(ref.PREFECTURE_BY_CODE, k, locale)), (400 if errors else 200)


@bp.get("/declines.csv")
@staff_required
def declines_csv():
    bureau, errors = _bureau()
    if errors:
        abort(400)
    data, locale = bureau_declines(bureau), current_locale()
    header = ["dimension", "code", "label", "reason_code", "reason", "declined"]
    rows = []
    for dim, choices in (("industry", ref.INDUSTRY_BY_CODE), ("prefecture", ref.PREFECTURE_BY_CODE)):
        table = data[dim]
        for key in table["rows"]:
            for reason in table["reasons"]:
                n = table["counts"].get((key, reason), 0)
                if n:
                    rows.append([dim, key, ref.label(choices, key, locale), reason,
                                 ref.label(ref.DECLINE_REASON_BY_CODE, reason, locale) or _("Not given"), n])
    return exports.csv_response(f"oims-declines-{bureau}-{date.today():%Y%m%d}.csv", header, rows)
