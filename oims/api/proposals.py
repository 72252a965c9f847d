"""/api/v1/proposals: list, create, read and withdraw proposals (tag "proposals")."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from oims.api.auth import token_required
from oims.api.problems import ApiError
from oims.api.serializers import proposal_json
from oims.api.views import (
    api_user,
    arg,
    bp,
    check_if_match,
    created,
    int_arg,
    json_body,
    page_args,
    page_response,
    visible_proposal,
    with_etag,
)
from oims.core.exceptions import NotAllowed, StaleState, ValidationFailed
from oims.core.vocabulary import PROPOSAL_STAGES, Party
from oims.extensions import db
from oims.models import Need, Proposal
from oims.policy import can_view_need, proposal_role, visible_proposals
from oims.proposals import services
from oims.web.i18n import current_locale


@bp.get("/proposals")
@token_required
def list_proposals():
    page, per_page = page_args()
    query = visible_proposals(api_user())
    if (need_id := int_arg("need_id", None)) is not None:
        query = query.where(Proposal.need_id == need_id)
    if stage := arg("stage", list(PROPOSAL_STAGES)):
        query = query.where(Proposal.stage == stage)
    result = db.paginate(query.order_by(Proposal.id.desc()), page=page, per_page=per_page, error_out=False)
    locale = current_locale()
    return page_response(result, [proposal_json(p, locale, api_user()) for p in result.items])


@bp.post("/proposals")
@token_required
def create_proposal():
    user = api_user()
    if not services.may_propose(user):
        raise NotAllowed()
    body = json_body("ProposalCreate")
    need = db.session.get(Need, body["need_id"])
    if need is None or not can_view_need(user, need):
        raise ApiError(422, _("Invalid values"), _("Some values were refused; see “errors”."),
                       {"need_id": [_("No such need, or you may not see it.")]})
    data = {k: v for k, v in body.items() if k not in ("need_id", "submit")}
    try:
        proposal = services.create_proposal(need, data, actor=user, submit=bool(body.get("submit")))
    except services.DuplicateProposal as exc:
        raise ApiError(409, _("Conflict"), str(exc)) from None
    db.session.commit()
    return created(proposal_json(proposal, current_locale(), user),
                   url_for("api.get_proposal", proposal_id=proposal.id, _external=True))


@bp.get("/proposals/<int:proposal_id>")
@token_required
def get_proposal(proposal_id: int):
    proposal = visible_proposal(proposal_id)
    return with_etag(proposal_json(proposal, current_locale(), api_user()), proposal)


@bp.post("/proposals/<int:proposal_id>/withdraw")
@token_required
def withdraw_proposal(proposal_id: int):
    proposal = visible_proposal(proposal_id)
    if proposal_role(api_user(), proposal) != Party.PROPOSER:
        raise NotAllowed()
    body = json_body("Withdrawal", required=False)
    check_if_match(proposal)  # optional here: a stage change is guarded by the workflow (409)
    try:
        services.withdraw_proposal(proposal, actor=api_user(), note=body.get("note", ""))
    except StaleState:
        raise  # 409 with the state the winner left (problems.to_problem)
    except ValidationFailed as exc:
        if "note" in exc.errors:
            raise  # 422 on the field
        raise ApiError(409, _("Conflict"), str(exc)) from None  # no longer withdrawable
    db.session.commit()
    return with_etag(proposal_json(proposal, current_locale(), api_user()), proposal)
