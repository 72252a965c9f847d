"""Off-boarding through HTTP: an admin disables and re-enables a user or an
organisation; the organisation's open proposals and needs are withdrawn
through the normal workflow with history entries, nothing is deleted."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from oims.models import (
    ApiToken,
    AuditLog,
    Meeting,
    Need,
    Notification,
    Proposal,
    ProposalEvent,
    User,
)
from oims.models.base import utcnow

from ..factories import PASSWORD, login
from ..security.world import api_token_for


def _signed_out(resp) -> bool:
    return resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def _admin_client(app, factory):
    admin = factory.user("admin")
    client = app.test_client()
    client.post("/lang/en")
    assert login(client, admin).status_code == 302
    return admin, client


def test_disable_user_refuses_sign_in_ends_sessions_and_tokens(app, client, db, cast, factory):
    user = cast.proposer
    token = api_token_for(db, user)
    assert login(client, user, remember=True).status_code == 302
    admin, admin_client = _admin_client(app, factory)
    resp = admin_client.post(f"/admin/users/{user.id}/disable", follow_redirects=True)
    assert "1 API tokens were revoked" in resp.get_data(as_text=True)
    db.session.refresh(user)
    assert user.status == "disabled" and user.disabled_reason == "admin"
    # The running session ends at its next request; the token is refused.
    assert _signed_out(client.get("/dashboard"))
    assert app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # Sign-in is refused with a clear message (the right password does not help).
    fresh = app.test_client()
    fresh.post("/lang/en")
    resp = login(fresh, user)
    assert resp.status_code == 400
    assert "This account is disabled. Contact the bureau" in resp.get_data(as_text=True)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.disabled",
                                                    AuditLog.object_id == user.id)).actor_id == admin.id
    # Re-enable: sign-in works again (revoked tokens stay revoked).
    assert admin_client.post(f"/admin/users/{user.id}/enable").status_code == 302
    assert login(app.test_client(), user).status_code == 302
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id)).revoked_at is not None


def test_admin_cannot_disable_self_and_others_cannot_disable(app, client, db, cast, factory):
    admin, admin_client = _admin_client(app, factory)
    resp = admin_client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "You cannot disable your own account." in resp.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.status == "active"
    coord, victim = cast.coordinator, cast.proposer
    assert login(client, coord).status_code == 302
    assert client.post(f"/admin/users/{victim.id}/disable").status_code == 403
    assert client.get(f"/admin/users/{victim.id}").status_code == 403
    db.session.refresh(victim)
    assert victim.status == "active"


def _org_scene(db, factory):
    """A proposer firm with an open, a shortlisted (with a proposed meeting) and
    a met proposal, and its own second user pending; plus a firm that owns needs."""
    firm_user = factory.user("proposer")
    firm = firm_user.organisation
    pending = User(email=f"pending-{secrets.token_hex(3)}@example.jp", name="承認待ち", role="proposer",
                   password_hash=firm_user.password_hash, organisation_id=firm.id, status="pending")
    hand_disabled = User(email=f"off-{secrets.token_hex(3)}@example.jp", name="無効", role="proposer",
                         password_hash=firm_user.password_hash, organisation_id=firm.id, status="disabled",
                         disabled_reason="admin")
    db.session.add_all([pending, hand_disabled])
    owner = factory.user("need_owner")
    needs = [factory.need(owner=owner) for _ in range(3)]
    p_open = factory.proposal(needs[0], proposer=firm_user, stage="submitted")
    p_short = factory.proposal(needs[1], proposer=firm_user, stage="meeting_requested")
    p_met = factory.proposal(needs[2], proposer=firm_user, stage="met")
    meeting = Meeting(proposal_id=p_short.id, proposed_by_id=owner.id, status="proposed", uid="u1",
                      starts_at=utcnow() + timedelta(days=3))
    db.session.add(meeting)
    db.session.commit()
    return {"user": firm_user, "org": firm, "pending": pending, "hand_disabled": hand_disabled, "owner": owner,
            "p_open": p_open, "p_short": p_short, "p_met": p_met, "meeting": meeting}


def test_disable_proposer_org_withdraws_open_proposals_through_workflow(app, db, factory):
    s = _org_scene(db, factory)
    token = api_token_for(db, s["user"])
    member = app.test_client()
    assert login(member, s["user"]).status_code == 302
    events_before = db.session.scalar(select(func.count(ProposalEvent.id)))
    admin, admin_client = _admin_client(app, factory)
    page = admin_client.get(f"/orgs/{s['org'].id}").get_data(as_text=True)
    assert f"/admin/orgs/{s['org'].id}/disable" in page
    resp = admin_client.post(f"/admin/orgs/{s['org'].id}/disable", follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "2 users disabled, 1 API tokens revoked, 2 proposals withdrawn, 0 needs withdrawn, 1 meetings cancelled" in text
    assert "1 proposal is past the meeting stage" in text
    db.session.expire_all()
    org = db.session.get(type(s["org"]), s["org"].id)
    assert org.status == "disabled" and org.disabled_at is not None
    # Users: disabled, sessions ended, tokens revoked.
    assert _signed_out(member.get("/dashboard"))
    assert app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(app.test_client(), s["user"]).status_code == 400
    # Proposals: withdrawn with an event by the admin and a reason; the met one is left.
    for key in ("p_open", "p_short"):
        p = db.session.get(Proposal, s[key].id)
        assert p.stage == "withdrawn"
        last = p.events[-1]
        assert (last.to_stage, last.actor_id) == ("withdrawn", admin.id)
        assert "organisation was disabled" in last.note
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "proposal.withdrawn",
                                                        AuditLog.object_id == p.id)).detail["on_behalf_of"] == "proposer"
    assert db.session.get(Proposal, s["p_met"].id).stage == "met"
    assert db.session.get(Meeting, s["meeting"].id).status == "cancelled"
    assert db.session.scalar(select(func.count(ProposalEvent.id))) == events_before + 2  # nothing lost, two added
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "org.disabled"))
    assert entry.detail["proposals_left"] == [s["p_met"].id]

    # Re-enable: users disabled with the organisation come back as they were;
    # the one an admin disabled by hand stays disabled; history stays.
    resp = admin_client.post(f"/admin/orgs/{s['org'].id}/enable", follow_redirects=True)
    assert "with 2 of its users" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, s["user"].id).status == "active"
    assert db.session.get(User, s["pending"].id).status == "pending"
    assert db.session.get(User, s["hand_disabled"].id).status == "disabled"
    assert db.session.get(Proposal, s["p_open"].id).stage == "withdrawn"
    assert login(app.test_client(), s["user"]).status_code == 302


def test_disable_owner_org_withdraws_its_needs_and_tells_proposers(app, db, cast, factory):
    owner = cast.owner
    published = factory.need(owner=owner, status="published")
    draft = factory.need(owner=owner, status="draft")
    fulfilled = factory.need(owner=owner, status="fulfilled")
    proposer = cast.proposer
    prop = factory.proposal(published, proposer=proposer, stage="submitted")
    admin, admin_client = _admin_client(app, factory)
    resp = admin_client.post(f"/admin/orgs/{owner.organisation_id}/disable", follow_redirects=True)
    assert "2 needs withdrawn" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Need, published.id).status == "withdrawn"
    assert db.session.get(Need, draft.id).status == "withdrawn"
    assert db.session.get(Need, fulfilled.id).status == "fulfilled"  # closed business stays as it was
    assert db.session.get(Proposal, prop.id).stage == "submitted"  # the other firm's proposal is not touched
    assert db.session.scalar(select(Notification).where(Notification.user_id == proposer.id,
                                                        Notification.kind == "need_withdrawn"))
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == admin.id)).all()
    assert actions.count("need.withdrawn") == 2 and "org.disabled" in actions


def test_org_disable_is_admin_only(app, client, db, cast):
    coord = cast.coordinator
    target = cast.proposer
    assert login(client, coord).status_code == 302
    assert client.post(f"/admin/orgs/{target.organisation_id}/disable").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).status == "active"
    assert login(app.test_client(), target, PASSWORD).status_code == 302


def test_disabled_org_cannot_be_joined_nor_its_requests_approved(app, client, db, factory):
    from oims.auth.services import invitation_code
    from oims.models import OrgJoinRequest

    s = _org_scene(db, factory)
    req = OrgJoinRequest(user_id=s["pending"].id, organisation_id=s["org"].id)
    db.session.add(req)
    db.session.commit()
    _admin, admin_client = _admin_client(app, factory)
    assert admin_client.post(f"/admin/orgs/{s['org'].id}/disable").status_code == 302
    page = client.get("/auth/signup").get_data(as_text=True)
    assert s["org"].name not in page
    resp = client.post("/auth/signup", data={
        "name": "新人", "email": "newbie@example.jp", "password": "long-unusual-pass-314", "confirm":
        "long-unusual-pass-314", "role": "proposer", "org_mode": "join", "join_key": invitation_code(s["org"])})
    assert resp.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "newbie@example.jp")) is None
    resp = admin_client.post(f"/orgs/join-requests/{req.id}/approve", follow_redirects=True)
    assert "This organisation is disabled." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, s["pending"].id).status == "disabled"
    assert db.session.get(OrgJoinRequest, req.id).status == "pending"


def test_a_disabled_organisation_cannot_be_invited(app, db, cast, factory):
    owner = cast.owner
    need = factory.need(owner=owner)
    firm = cast.proposer.organisation
    active_firm = cast.other_proposer.organisation
    coord = cast.coordinator  # the need's bureau
    _admin, admin_client = _admin_client(app, factory)
    assert admin_client.post(f"/admin/orgs/{firm.id}/disable").status_code == 302
    client = app.test_client()
    assert login(client, coord).status_code == 302
    client.post(f"/brokerage/need/{need.id}/invite", data={"org_id": firm.id})
    client.post(f"/brokerage/need/{need.id}/invite", data={"org_id": active_firm.id})
    from oims.models import Invitation

    assert db.session.scalar(select(Invitation).where(Invitation.org_id == firm.id)) is None
    assert db.session.scalar(select(Invitation).where(Invitation.org_id == active_firm.id))  # control
