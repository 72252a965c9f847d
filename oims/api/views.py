"""The /api/v1 endpoints. Thin: check the token's user may see the object
(404) and may act (403), then call the same services and policy functions as
the pages. Errors are RFC 9457 problem+json."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from oims.api.auth import token_required
from oims.api.openapi import MAX_ID
from oims.api.problems import ApiError
from oims.api.serializers import meeting_json, need_json, org_ref, owner_json, proposal_json
from oims.api.validation import bad_text, validate
from oims.core.exceptions import NotAllowed, StaleState, ValidationFailed
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.models import Meeting, Need, Organisation, Proposal
from oims.policy import (
    can_edit_need,
    can_manage_need,
    can_view_need,
    can_view_proposal,
    proposal_filter,
    proposal_role,
    visible_proposals,
    visible_reasons,
)
from oims.web.i18n import current_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# --- helpers -------------------------------------------------------------------------

def _user():
    return g.api_user


def _bad_request(name: str, message: str) -> ApiError:
    return ApiError(400, _("Bad request"), _("Query parameter “%(name)s”: %(message)s", name=name,
                                             message=message), {name: [message]})


def _arg(name: str, choices=None, max_length: int = 200) -> str:
    value = request.args.get(name, "")
    if name in request.args and value == "" and choices is not None:
        # Present but empty is not "absent": the document declares no empty value for it.
        raise _bad_request(name, _("Must be one of: %(values)s.", values=", ".join(choices)))
    if bad_text(value) or len(value) > max_length:
        raise _bad_request(name, _("Contains characters that cannot be stored."))
    if value and choices is not None and value not in choices:
        raise _bad_request(name, _("Must be one of: %(values)s.", values=", ".join(choices)))
    return value


def _int_arg(name: str, default: int | None, lo: int = 1, hi: int = MAX_ID) -> int | None:
    raw = request.args.get(name, "")
    if raw == "" and name not in request.args:
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise _bad_request(name, _("Give a whole number from %(lo)d to %(hi)d.", lo=lo, hi=hi))
    return int(raw)


def _date_arg(name: str) -> date | None:
    raw = _arg(name)
    if not raw and name not in request.args:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad_request(name, _("Enter a date as YYYY-MM-DD.")) from None


def _body(schema: str, required: bool = True) -> dict:
    if not request.get_data() and not required:
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, _("Bad request"), _("Send a JSON object with Content-Type: application/json."))
    errors = validate(body, schema)
    if errors:
        raise ApiError(422, _("Invalid values"), _("Some values were refused; see “errors”."), errors)
    return body


def _get(model, obj_id: int):
    obj = db.session.get(model, obj_id) if 1 <= obj_id <= MAX_ID else None
    if obj is None:
        raise ApiError(404, _("Not found"), _("No such object, or you may not see it."))
    return obj


def _need(need_id: int) -> Need:
    need = _get(Need, need_id)
    if not can_view_need(_user(), need):
        raise ApiError(404, _("Not found"), _("No such object, or you may not see it."))
    return need


def _proposal(proposal_id: int) -> Proposal:
    proposal = _get(Proposal, proposal_id)
    if not can_view_proposal(_user(), proposal):
        raise ApiError(404, _("Not found"), _("No such object, or you may not see it."))
    return proposal


def _page_args() -> tuple[int, int]:
    default = min(current_app.config.get("OIMS_PAGE_SIZE", 20), 100)
    return _int_arg("page", 1, 1, 100000), _int_arg("per_page", default, 1, 100)


def _paged(pagination, items: list[dict]) -> dict:
    view_args = request.view_args or {}
    # Only plain query arguments go into the links ("_external" & co. are url_for's own).
    args = {k: v for k, v in request.args.items() if not k.startswith("_") and k not in view_args}

    def link(page: int) -> str:
        return url_for(request.endpoint, **view_args, **dict(args, page=page), _external=True)

    return {
        "items": items, "page": pagination.page, "per_page": pagination.per_page, "total": pagination.total or 0,
        "pages": pagination.pages,
        "links": {"self": link(pagination.page), "next": link(pagination.page + 1) if pagination.has_next else None,
                  "prev": link(pagination.page - 1) if pagination.page > 1 else None},
    }


def _page_response(pagination, items: list[dict]):
    """The page as JSON, with the same links in an RFC 8288 Link header."""
    body = _paged(pagination, items)
    resp = jsonify(body)
    links = [f'<{url}>; rel="{rel}"' for rel, url in body["links"].items() if url and rel != "self"]
    if links:
        resp.headers["Link"] = ", ".join(links)
    return resp


def _created(body: dict, location: str):
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp


# --- needs ------------------------------------------------------------------------------

@bp.get("/needs")
@token_required
def list_needs():
    from oims.api.openapi import BUREAUS, OWNER_FILTERS, PARTNERSHIPS
    from oims.models.needs import NEED_STATUSES
    from oims.needs.services import search_needs

    user = _user()
    page, per_page = _page_args()
    filters = {"status": _arg("status", list(NEED_STATUSES) + ["all"]) or "published",
               "partnership": _arg("partnership", PARTNERSHIPS), "keyword": _arg("keyword", max_length=50),
               "region": _arg("region", BUREAUS), "deadline_before": _date_arg("deadline_before"),
               **{name: _arg(name, codes) for name, codes in OWNER_FILTERS.items()}}
    sort = _arg("sort", ["newest", "deadline"]) or "newest"
    result = search_needs(user, _arg("q"), filters, sort, page, per_page=per_page)
    locale = current_locale()
    return _page_response(result, [need_json(n, user, locale) for n in result.items])


@bp.post("/needs")
@token_required
def create_need():
    from oims.core import reference as ref
    from oims.needs.services import create_need as create

    user = _user()
    # Access before input (the service checks the same rule again).
    if user.role != "need_owner" or user.organisation.kind not in ref.OWNER_KINDS:
        raise NotAllowed()
    body = _body("NeedCreate")
    need = create(_user(), body)
    db.session.commit()
    return _created(need_json(need, _user(), current_locale()), url_for("api.get_need", need_id=need.id,
                                                                         _external=True))


def etag_of(obj) -> str:
    """The strong entity tag of a versioned object: changes with every saved change."""
    return f"{type(obj).__name__.lower()}-{obj.id}-v{obj.row_version}"


def _with_etag(body: dict, obj):
    resp = jsonify(body)
    resp.set_etag(etag_of(obj))
    return resp.make_conditional(request)


def _require_if_match(obj) -> None:
    """Optimistic concurrency for writes: the client says which version it
    changes (`If-Match: <ETag of its GET>`); 428 without, 412 when stale."""
    if not request.headers.get("If-Match"):
        raise ApiError(428, _("Precondition required"),
                       _("Send If-Match with the ETag of the version you change (from GET)."))
    if not request.if_match.contains(etag_of(obj)) and not request.if_match.star_tag:
        raise _stale(obj)


def _stale(obj) -> ApiError:
    return ApiError(412, _("Precondition failed"),
                    _("The object was changed since you read it (now %(etag)s). Nothing was changed; "
                      "GET it again, re-apply your change and send the new ETag.", etag=etag_of(obj)))


@bp.get("/needs/<int:need_id>")
@token_required
def get_need(need_id: int):
    need = _need(need_id)
    return _with_etag(need_json(need, _user(), current_locale()), need)


@bp.patch("/needs/<int:need_id>")
@token_required
def update_need(need_id: int):
    from sqlalchemy.orm.exc import StaleDataError

    from oims.needs.services import update_need as update

    need = _need(need_id)
    if not can_edit_need(_user(), need):
        raise NotAllowed()
    body = _body("NeedUpdate")
    _require_if_match(need)
    update(need, body, _user(), partial=True)
    try:
        db.session.commit()
    except StaleDataError:  # changed between the If-Match check and the commit
        db.session.rollback()
        raise _stale(_need(need_id)) from None
    return _with_etag(need_json(need, _user(), current_locale()), need)


# --- proposals ----------------------------------------------------------------------------

@bp.get("/proposals")
@token_required
def list_proposals():
    from oims.models.proposals import PROPOSAL_STAGES

    page, per_page = _page_args()
    query = visible_proposals(_user())
    if (need_id := _int_arg("need_id", None)) is not None:
        query = query.where(Proposal.need_id == need_id)
    if stage := _arg("stage", list(PROPOSAL_STAGES)):
        query = query.where(Proposal.stage == stage)
    result = db.paginate(query.order_by(Proposal.id.desc()), page=page, per_page=per_page, error_out=False)
    locale = current_locale()
    return _page_response(result, [proposal_json(p, locale, _user()) for p in result.items])


@bp.post("/proposals")
@token_required
def create_proposal():
    from oims.proposals.services import DuplicateProposal, may_propose
    from oims.proposals.services import create_proposal as create

    if not may_propose(_user()):
        raise NotAllowed()
    body = _body("ProposalCreate")
    need = db.session.get(Need, body["need_id"])
    if need is None or not can_view_need(_user(), need):
        raise ApiError(422, _("Invalid values"), _("Some values were refused; see “errors”."),
                       {"need_id": [_("No such need, or you may not see it.")]})
    data = {k: v for k, v in body.items() if k not in ("need_id", "submit")}
    try:
        proposal = create(need, data, actor=_user(), submit=bool(body.get("submit")))
    except DuplicateProposal as exc:
        raise ApiError(409, _("Conflict"), str(exc)) from None
    db.session.commit()
    return _created(proposal_json(proposal, current_locale(), _user()),
                    url_for("api.get_proposal", proposal_id=proposal.id, _external=True))


@bp.get("/proposals/<int:proposal_id>")
@token_required
def get_proposal(proposal_id: int):
    proposal = _proposal(proposal_id)
    return _with_etag(proposal_json(proposal, current_locale(), _user()), proposal)


@bp.post("/proposals/<int:proposal_id>/withdraw")
@token_required
def withdraw_proposal(proposal_id: int):
    from oims.proposals.services import withdraw_proposal as withdraw

    proposal = _proposal(proposal_id)
    if proposal_role(_user(), proposal) != "proposer":
        raise NotAllowed()
    body = _body("Withdrawal", required=False)
    if request.headers.get("If-Match") and not (request.if_match.star_tag
                                                or request.if_match.contains(etag_of(proposal))):
        raise _stale(proposal)
    try:
        withdraw(proposal, actor=_user(), note=body.get("note", ""))
    except StaleState:
        raise  # 409 with the state the winner left (problems.to_problem)
    except ValidationFailed as exc:
        if "note" in exc.errors:
            raise
        raise ApiError(409, _("Conflict"), str(exc)) from None
    db.session.commit()
    return _with_etag(proposal_json(proposal, current_locale(), _user()), proposal)


# --- meetings -----------------------------------------------------------------------------

@bp.get("/meetings")
@token_required
def list_meetings():
    page, per_page = _page_args()
    visible_ids = select(Proposal.id).where(proposal_filter(_user()))
    query = select(Meeting).where(Meeting.proposal_id.in_(visible_ids)).order_by(Meeting.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return _page_response(result, [meeting_json(m) for m in result.items])


@bp.get("/meetings/<int:meeting_id>")
@token_required
def get_meeting(meeting_id: int):
    meeting = _get(Meeting, meeting_id)
    proposal = db.session.get(Proposal, meeting.proposal_id)
    if proposal is None or not can_view_proposal(_user(), proposal):
        raise ApiError(404, _("Not found"), _("No such object, or you may not see it."))
    return jsonify(meeting_json(meeting))


# --- matches ------------------------------------------------------------------------------

def _matching():
    try:
        from oims.matcher import service as matching_service
    except ImportError:  # the matcher is not part of this installation
        return None
    return matching_service


def _unavailable() -> ApiError:
    return ApiError(503, _("Matching unavailable"),
                    _("The matcher is not available right now (disabled, or its index is being built)."))


def _search(fn_name: str, *args, **kwargs):
    ms = _matching()
    fn = getattr(ms, fn_name, None) if ms else None
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
    """The calibrated probability and band of a result (oims/match_bands.py)."""
    from oims.matcher.bands import calibrate

    fit = calibrate(result, kind)
    return fit.as_json() if fit else {}


def _reasons(reasons) -> list[str]:
    return [str(r) for r in (reasons or [])][:5]


def _endorsements(org_id: int) -> list[str]:
    """Active endorsed capabilities of an organisation (badges of the ranked lists)."""
    try:
        from oims.endorsements.services import endorsed
    except ImportError:
        return []
    return [e.capability for e in endorsed(org_id)]


@bp.get("/needs/<int:need_id>/matches")
@token_required
def match_need(need_id: int):
    user = _user()
    need = _need(need_id)
    if not can_manage_need(user, need):
        raise ApiError(403, _("Forbidden"), _("Only the coordinators of the need's bureau see its rankings."))
    kind = _arg("kind", ["proposals", "organisations"]) or "proposals"
    limit = _int_arg("limit", 20, 1, 100)
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
    user = _user()
    limit = _int_arg("limit", 10, 1, 100)
    locale = current_locale()
    items = []
    for r in _search("needs_for_org", user.organisation, k=limit):
        need = db.session.get(Need, r.id)
        if need is None or need.status != "published" or not can_view_need(user, need):
            continue
        if need.owner_org_id == user.organisation_id or need.deadline < today_local():
            continue  # its own needs, and needs closed by their deadline, are not "for you"
        items.append({"rank": len(items) + 1, "score": float(r.score), **_fit(r),
                      "reasons": _reasons(r.reasons), "need_id": need.id, "title": need.title, "owner": owner_json(need, user, locale)})
    return jsonify({"kind": "needs", "items": items})


# --- KPI ------------------------------------------------------------------------------------

@bp.get("/kpi")
@token_required
def kpi():
    from oims.insight.kpi import load_facts, report
    from oims.insight.services import BadArguments, kpi_scope, may_view_kpi, org_labeller

    user = _user()
    if not may_view_kpi(user):
        raise ApiError(403, _("Forbidden"), _("KPIs are for coordinators, administrators and need owners."))
    for name in ("from", "to", "bureau", "top_n"):
        if name in request.args and not _arg(name):
            raise _bad_request(name, _("Give a value or leave the parameter out."))
    try:
        scope, top_n = kpi_scope(user, request.args)
    except BadArguments as exc:
        raise ApiError(400, _("Bad request"), str(exc), {k: [v] for k, v in exc.errors.items()}) from None
    return jsonify(report(load_facts(scope), top_n, org_labeller(current_locale())))
