"""/api/v1/needs: search, create, read and change needs (tag "needs")."""

from __future__ import annotations

from flask import url_for
from sqlalchemy.orm.exc import StaleDataError

from oims.api.auth import token_required
from oims.api.schemas import BUREAUS, OWNER_FILTERS, PARTNERSHIPS
from oims.api.serializers import need_json
from oims.api.views import (
    api_user,
    arg,
    bp,
    created,
    date_arg,
    json_body,
    page_args,
    page_response,
    require_if_match,
    visible_need,
    with_etag,
)
from oims.core import reference as ref
from oims.core.exceptions import EditConflict, NotAllowed
from oims.core.vocabulary import NEED_STATUSES, NeedStatus, Role
from oims.extensions import db
from oims.needs import services
from oims.needs.search import search_needs
from oims.policy import can_edit_need
from oims.web.i18n import current_locale


@bp.get("/needs")
@token_required
def list_needs():
    user = api_user()
    page, per_page = page_args()
    filters = {"status": arg("status", list(NEED_STATUSES) + ["all"]) or NeedStatus.PUBLISHED,
               "partnership": arg("partnership", PARTNERSHIPS), "keyword": arg("keyword", max_length=50),
               "region": arg("region", BUREAUS), "deadline_before": date_arg("deadline_before"),
               **{name: arg(name, codes) for name, codes in OWNER_FILTERS.items()}}
    sort = arg("sort", ["newest", "deadline"]) or "newest"
    # the API reports the exact total (its clients page through every match)
    result = search_needs(user, arg("q"), filters, sort, page, per_page=per_page, count_cap=None)
    locale = current_locale()
    return page_response(result, [need_json(n, user, locale) for n in result.items])


@bp.post("/needs")
@token_required
def create_need():
    user = api_user()
    # Access before input (the service checks the same rule again).
    if user.role != Role.NEED_OWNER or user.organisation.kind not in ref.OWNER_KINDS:
        raise NotAllowed()
    body = json_body("NeedCreate")
    need = services.create_need(user, body)
    db.session.commit()
    return created(need_json(need, user, current_locale()), url_for("api.get_need", need_id=need.id, _external=True))


@bp.get("/needs/<int:need_id>")
@token_required
def get_need(need_id: int):
    need = visible_need(need_id)
    return with_etag(need_json(need, api_user(), current_locale()), need)


@bp.patch("/needs/<int:need_id>")
@token_required
def update_need(need_id: int):
    need = visible_need(need_id)
    if not can_edit_need(api_user(), need):
        raise NotAllowed()
    body = json_body("NeedUpdate")
    require_if_match(need)
    services.update_need(need, body, api_user(), partial=True)
    try:
        db.session.commit()
    except StaleDataError:  # changed between the If-Match check and the commit
        db.session.rollback()
        raise EditConflict(visible_need(need_id), None) from None
    return with_etag(need_json(need, api_user(), current_locale()), need)
