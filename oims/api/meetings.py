"""/api/v1/meetings: meetings of the proposals the caller may see (tag "meetings")."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from oims.api.auth import token_required
from oims.api.serializers import meeting_json
from oims.api.views import api_user, bp, get_or_404, not_found, page_args, page_response
from oims.extensions import db
from oims.models import Meeting, Proposal
from oims.policy import can_view_proposal, proposal_filter


@bp.get("/meetings")
@token_required
def list_meetings():
    page, per_page = page_args()
    visible_ids = select(Proposal.id).where(proposal_filter(api_user()))
    query = select(Meeting).where(Meeting.proposal_id.in_(visible_ids)).order_by(Meeting.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return page_response(result, [meeting_json(m) for m in result.items])


@bp.get("/meetings/<int:meeting_id>")
@token_required
def get_meeting(meeting_id: int):
    meeting = get_or_404(Meeting, meeting_id)
    proposal = db.session.get(Proposal, meeting.proposal_id)
    if proposal is None or not can_view_proposal(api_user(), proposal):
        raise not_found()
    return jsonify(meeting_json(meeting))
