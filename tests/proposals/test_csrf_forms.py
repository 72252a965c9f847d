"""With CSRF protection on (as in production), the proposal forms carry their
tokens: propose, then decline from the proposal page."""

from __future__ import annotations

from sqlalchemy import select

from oims.models import Proposal

from ..conftest import csrf_token_from
from ..factories import PASSWORD
from .conftest import proposal_form


def _login(c, user):
    token = csrf_token_from(c.get("/auth/login").get_data(as_text=True))
    assert c.post("/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code == 302


def test_forms_work_with_csrf_on(variant_app, cast, need, db):
    app = variant_app(WTF_CSRF_ENABLED=True)
    with app.test_client() as c:
        _login(c, cast.proposer)
        url = f"/proposals/new?need_id={need.id}"
        assert c.post(url, data=proposal_form()).status_code == 400  # no token
        token = csrf_token_from(c.get(url).get_data(as_text=True))
        resp = c.post(url, data=proposal_form(csrf_token=token))
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    proposal_id = db.session.scalar(select(Proposal.id).where(Proposal.org_id == cast.proposer.organisation_id))
    with app.test_client() as c:
        _login(c, cast.coordinator)
        page = c.get(f"/proposals/{proposal_id}").get_data(as_text=True)
        form = page[page.index(f'action="/proposals/{proposal_id}/decline"'):]
        token = csrf_token_from(form)
        resp = c.post(f"/proposals/{proposal_id}/decline",
                      data={"reason": "cost", "note": "", "csrf_token": token})
        assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, proposal_id).stage == "declined"
