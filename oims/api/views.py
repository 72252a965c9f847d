"""The /api/v1 blueprint and the steps its endpoints share: the token's user,
query arguments and JSON bodies checked against the document, objects looked
up with their visibility (404), pages with their links, ETags.

Endpoints are thin: check the token's user may see the object (404) and may
act (403), then call the same services and policy functions as the pages.
Errors are RFC 9457 problem+json (`oims.api.problems`, raised through
`oims.api.auth.token_required`). The routes live in one module per tag of the
OpenAPI document: `needs.py`, `proposals.py`, `matches.py`, `meetings.py`,
`kpi.py`; the document itself in `openapi.py` and `docs.py`, the token pages
in `tokens.py`.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _

from oims.api.problems import ApiError, etag_of
from oims.api.schemas import MAX_ID
from oims.api.validation import bad_text, validate
from oims.core.exceptions import EditConflict
from oims.extensions import db
from oims.models import Need, Proposal, User
from oims.policy import can_view_need, can_view_proposal

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_user() -> User:
    """The user of the request's token (set by `token_required`)."""
    return g.api_user


# --- query arguments and bodies ---------------------------------------------------------

def bad_request(name: str, message: str) -> ApiError:
    return ApiError(400, _("Bad request"), _("Query parameter “%(name)s”: %(message)s", name=name,
                                             message=message), {name: [message]})


def arg(name: str, choices=None, max_length: int = 200) -> str:
    value = request.args.get(name, "")
    if name in request.args and value == "" and choices is not None:
        # Present but empty is not "absent": the document declares no empty value for it.
        raise bad_request(name, _("Must be one of: %(values)s.", values=", ".join(choices)))
    if bad_text(value) or len(value) > max_length:
        raise bad_request(name, _("Contains characters that cannot be stored."))
    if value and choices is not None and value not in choices:
        raise bad_request(name, _("Must be one of: %(values)s.", values=", ".join(choices)))
    return value


def int_arg(name: str, default: int | None, lo: int = 1, hi: int = MAX_ID) -> int | None:
    raw = request.args.get(name, "")
    if raw == "" and name not in request.args:
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise bad_request(name, _("Give a whole number from %(lo)d to %(hi)d.", lo=lo, hi=hi))
    return int(raw)


def date_arg(name: str) -> date | None:
    raw = arg(name)
    if not raw and name not in request.args:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(name, _("Enter a date as YYYY-MM-DD.")) from None


def json_body(schema: str, required: bool = True) -> dict:
    if not request.get_data() and not required:
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, _("Bad request"), _("Send a JSON object with Content-Type: application/json."))
    errors = validate(body, schema)
    if errors:
        raise ApiError(422, _("Invalid values"), _("Some values were refused; see “errors”."), errors)
    return body


# --- objects the caller may see ---------------------------------------------------------

def not_found() -> ApiError:
    return ApiError(404, _("Not found"), _("No such object, or you may not see it."))


def get_or_404(model, obj_id: int):
    obj = db.session.get(model, obj_id) if 1 <= obj_id <= MAX_ID else None
    if obj is None:
        raise not_found()
    return obj


def visible_need(need_id: int) -> Need:
    need = get_or_404(Need, need_id)
    if not can_view_need(api_user(), need):
        raise not_found()
    return need


def visible_proposal(proposal_id: int) -> Proposal:
    proposal = get_or_404(Proposal, proposal_id)
    if not can_view_proposal(api_user(), proposal):
        raise not_found()
    return proposal


# --- responses ----------------------------------------------------------------------------

def page_args() -> tuple[int, int]:
    default = min(current_app.config.get("OIMS_PAGE_SIZE", 20), 100)
    return int_arg("page", 1, 1, 100000), int_arg("per_page", default, 1, 100)


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


def page_response(pagination, items: list[dict]):
    """The page as JSON, with the same links in an RFC 8288 Link header."""
    body = _paged(pagination, items)
    resp = jsonify(body)
    links = [f'<{url}>; rel="{rel}"' for rel, url in body["links"].items() if url and rel != "self"]
    if links:
        resp.headers["Link"] = ", ".join(links)
    return resp


def created(body: dict, location: str):
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp


# --- optimistic concurrency over HTTP -----------------------------------------------------

def with_etag(body: dict, obj):
    resp = jsonify(body)
    resp.set_etag(etag_of(obj))
    return resp.make_conditional(request)


def require_if_match(obj) -> None:
    """Optimistic concurrency for writes: the client says which version it
    changes (`If-Match: <ETag of its GET>`); 428 without, 412 when stale."""
    if not request.headers.get("If-Match"):
        raise ApiError(428, _("Precondition required"),
                       _("Send If-Match with the ETag of the version you change (from GET)."))
    check_if_match(obj)


def check_if_match(obj) -> None:
    """412 (EditConflict) when an `If-Match` was sent and names another version."""
    if request.headers.get("If-Match") and not (request.if_match.star_tag
                                                or request.if_match.contains(etag_of(obj))):
        raise EditConflict(obj, None)
