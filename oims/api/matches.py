"""/api/v1 rankings by the matcher: proposals and organisations for a need,
needs for the caller's organisation (tag "matches"). 503 when the matcher
cannot answer."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_babel import gettext as _

from oims.api.auth import token_required
from oims.api.problems import ApiError
from oims.api.serializers import org_ref, owner_json
from oims.api.views import api_user, arg, bp, int_arg, visible_need
from oims.core.timeutil import today_local
from oims.core.vocabulary import NeedStatus
from oims.endorsements.services import endorsed
from oims.extensions import db
from oims.matcher import service as matching_service
from oims.matcher.bands import calibrate
from oims.models import Need, Organisation, Proposal
from oims.policy import can_manage_need, can_view_need, can_view_proposal, visible_reasons
from oims.web.i18n import current_locale


def _unavailable() -> ApiError:
    return ApiError(503, _("Matching unavailable"),
                    _("The matcher is not available right now (disabled, or its index is being built)."))


def _search(fn_name: str, *args, **kwargs):
    fn = getattr(matching_service, fn_name, None)
    if fn is None:
        raise _unavailable()
    try:
        results = fn(*args, **kwargs)
    except Exception:
        current_app.logger.warning("matching call %s failed", fn_name, exc_info=True)
        raise _unavailable() from None
    if results is None:
        raise _unavailable()
    return results


def _fit(result, kind: str = "") -> dict:
    """The calibrated probability and band of a result (oims/matcher/bands.py)."""
    fit = calibrate(result, kind)
    return fit.as_json() if fit else {}


def _reasons(reasons) -> list[str]:
    return [str(r) for r in (reasons or [])][:5]


def _endorsements(org_id: int) -> list[str]:
    """Active endorsed capabilities of an organisation (badges of the ranked lists)."""
    return [e.capability for e in endorsed(org_id)]


@bp.get("/needs/<int:need_id>/matches")
@token_required
def match_need(need_id: int):
    user = api_user()
    need = visible_need(need_id)
    if not can_manage_need(user, need):
        raise ApiError(403, _("Forbidden"), _("Only the coordinators of the need's bureau see its rankings."))
    kind = arg("kind", ["proposals", "organisations"]) or "proposals"
    limit = int_arg("limit", 20, 1, 100)
    locale = current_locale()
    items = []
    if kind == "proposals":
        for hit in _search("rank_proposals", need, k=limit):
            p = db.session.get(Proposal, hit.id)
            if p is None or p.need_id != need.id or not can_view_proposal(user, p):
                continue
            reasons = visible_reasons(user, p, hit.reasons, hit.parts)  # staged disclosure
            items.append({"rank": len(items) + 1, "score": float(hit.score), **_fit(hit), "reasons": _reasons(reasons),
                          "proposal_id": p.id, "organisation": org_ref(p.org, locale), "title": p.title,
                          "stage": p.stage, "endorsements": _endorsements(p.org_id)})
    else:
        for r in _search("recommend_orgs", need, k=limit):
            org = db.session.get(Organisation, r.id)
            if org is None:
                continue
            items.append({"rank": len(items) + 1, "score": float(r.score), **_fit(r, "orgs"),
                          "reasons": _reasons(r.reasons), "organisation": org_ref(org, locale),
                          "prefecture": org.prefecture, "kind": org.kind, "endorsements": _endorsements(org.id)})
    return jsonify({"kind": kind, "items": items})


@bp.get("/matches/needs")
@token_required
def match_my_organisation():
    user = api_user()
    limit = int_arg("limit", 10, 1, 100)
    locale = current_locale()
    items = []
    for r in _search("needs_for_org", user.organisation, k=limit):
        need = db.session.get(Need, r.id)
        if need is None or need.status != NeedStatus.PUBLISHED or not can_view_need(user, need):
            continue
        if need.owner_org_id == user.organisation_id or need.deadline < today_local():
            continue  # its own needs, and needs closed by their deadline, are not "for you"
        items.append({"rank": len(items) + 1, "score": float(r.score), **_fit(r), "reasons": _reasons(r.reasons),
                      "need_id": need.id, "title": need.title, "owner": owner_json(need, user, locale)})
    return jsonify({"kind": "needs", "items": items})
