"""/api/v1/kpi: the figures of the KPI dashboard (tag "kpi")."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from oims.api.auth import token_required
from oims.api.problems import ApiError
from oims.api.views import api_user, arg, bad_request, bp
from oims.insight.kpi import load_facts, report
from oims.insight.services import BadArguments, kpi_scope, may_view_kpi, org_labeller
from oims.web.i18n import current_locale


@bp.get("/kpi")
@token_required
def kpi():
    user = api_user()
    if not may_view_kpi(user):
        raise ApiError(403, _("Forbidden"), _("KPIs are for coordinators, administrators and need owners."))
    for name in ("from", "to", "bureau", "top_n"):
        if name in request.args and not arg(name):
            raise bad_request(name, _("Give a value or leave the parameter out."))
    try:
        scope, top_n = kpi_scope(user, request.args)
    except BadArguments as exc:
        raise ApiError(400, _("Bad request"), str(exc), {k: [v] for k, v in exc.errors.items()}) from None
    return jsonify(report(load_facts(scope), top_n, org_labeller(current_locale())))
