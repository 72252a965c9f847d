"""A two-bureau world for the access matrix and the other security tests.

Side "own" lives in the Kanto bureau, side "other" in Kinki. The six roles
of the matrix are fixed users: the need owner, the proposer and the
coordinator of Kanto, the coordinator of Kinki and an admin (plus anonymous).
"Own" objects are the Kanto need/proposal/meeting... those users are party
to; "other" objects are the same set in Kinki, made by other firms.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from oims.models import (
    ApiToken,
    Attachment,
    Invitation,
    Meeting,
    MeetingSlot,
    Notification,
    OrgJoinRequest,
    ThreadMessage,
    User,
)
from oims.models.base import utcnow
from oims.needs.uploads import store_bytes

from ..factories import PASSWORD, Factory

ROLES = ("anon", "owner", "proposer", "coord", "coord_other", "admin")
SIDES = ("own", "other")
PREFECTURE = {"own": "13", "other": "27"}  # Tokyo (Kanto bureau), Osaka (Kinki bureau)

# The smallest valid PNG: what attachments hold on disk.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")


def api_token_for(db, user: User) -> str:
    """Make an API token row for `user`; returns the clear token.

    Uses the API package's own issuing function when there is one, so the
    matrix follows however tokens are hashed there."""
    try:
        from oims.api.auth import issue_token as issue
    except ImportError:
        issue = None
    if issue is not None:
        result = issue(user, "matrix")
        db.session.commit()
        return result[0] if isinstance(result, tuple) else result
    token = "oims_" + secrets.token_urlsafe(24)
    db.session.add(ApiToken(user_id=user.id, name="matrix", prefix=token[:12],
                            token_hash=hashlib.sha256(token.encode()).hexdigest()))
    db.session.commit()
    return token


def _side(f: Factory, db, side: str) -> dict:
    pref = PREFECTURE[side]
    tag = "A" if side == "own" else "B"
    ids: dict = {}
    owner = f.user("need_owner", org=f.org(kind="large", prefecture=pref, name=f"大手{tag}工業"),
                   email=f"owner-{side}@example.jp")
    proposer = f.user("proposer", org=f.org(kind="sme", prefecture=pref, name=f"中小{tag}製作所"),
                      email=f"proposer-{side}@example.jp")
    coord = f.user("coordinator", org=f.org(kind="support", prefecture=pref, name=f"{tag}経済産業局"),
                   email=f"coord-{side}@example.jp")
    need = f.need(owner=owner, status="published", anonymous=True)
    need2 = f.need(owner=owner, status="published")
    need_review = f.need(owner=owner, status="review")
    need_draft = f.need(owner=owner, status="draft")
    prop = f.proposal(need, proposer=proposer, stage="shortlisted")
    prop_sub = f.proposal(need2, proposer=proposer, stage="submitted")
    prop_draft = f.proposal(need_review, proposer=proposer, stage="draft")
    need3 = f.need(owner=owner, status="published")
    prop_met = f.proposal(need3, proposer=proposer, stage="met", owner_disclosed=True)
    now = utcnow()
    from oims.proposals.receipts import issue_receipt

    for p in (prop, prop_sub, prop_met):
        issue_receipt(p, [], now)
    held = Meeting(proposal_id=prop_met.id, proposed_by_id=owner.id, status="held", uid=secrets.token_hex(8),
                   starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2, hours=-1),
                   url="https://meet.example.jp/x")
    db.session.add(held)
    meeting = Meeting(proposal_id=prop.id, proposed_by_id=owner.id, status="proposed", uid=secrets.token_hex(8))
    db.session.add(meeting)
    db.session.flush()
    slot = MeetingSlot(meeting_id=meeting.id, starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=1))
    db.session.add(slot)
    msg = ThreadMessage(proposal_id=prop.id, author_id=owner.id, body="質問です")
    inv = Invitation(need_id=need.id, org_id=proposer.organisation_id, coordinator_id=coord.id, message="ぜひ")
    db.session.add_all([msg, inv])
    atts = {}
    stored = store_bytes(PNG, "image/png")
    for key, kw in (("att_need", {"need_id": need.id}), ("att_proposal", {"proposal_id": prop.id})):
        att = Attachment(filename="図面.png", file_id=stored.id, content_type="image/png", size=len(PNG),
                         sha256=hashlib.sha256(PNG).hexdigest(), uploaded_by_id=owner.id, **kw)
        db.session.add(att)
        atts[key] = att
    joiner = User(email=f"joiner-{side}@example.jp", name="参加希望者", password_hash=owner.password_hash,
                  role="need_owner", organisation_id=owner.organisation_id, status="pending")
    db.session.add(joiner)
    db.session.flush()
    join = OrgJoinRequest(user_id=joiner.id, organisation_id=owner.organisation_id)
    note = Notification(user_id=owner.id, kind="test", text="x")
    db.session.add_all([join, note])
    from datetime import date

    from oims.models import Endorsement

    endorsement = Endorsement(org_id=proposer.organisation_id, capability="精密切削", endorser_org_id=coord.organisation_id,
                              endorser_user_id=coord.id, endorsed_on=date.today(),
                              expires_on=date.today() + timedelta(days=365))
    db.session.add(endorsement)
    from oims.models import ThemedCall, ThemedCallNeed

    call = ThemedCall(title=f"テーマ募集{tag}", deadline=date.today() + timedelta(days=30), bureau=coord.bureau,
                      org_id=coord.organisation_id, created_by_id=coord.id)
    db.session.add(call)
    db.session.flush()
    db.session.add(ThemedCallNeed(call_id=call.id, need_id=need.id, added_by_id=coord.id))
    db.session.commit()
    from oims.models import ApiToken

    token_row = ApiToken(user_id=owner.id, name="owner's", prefix="oims_xxxxxxx",
                         token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest())
    db.session.add(token_row)
    db.session.flush()
    from oims.imports.corporate_number import with_check_digit
    from oims.imports.services import create_job

    number = with_check_digit("10000000000" + ("1" if side == "own" else "2"))
    job = create_job(f"法人番号,名称,都道府県\n{number},取込{tag}株式会社,{pref}\n".encode(), "list.csv",
                     actor=coord)
    ids.update(
        import_job=job.id, token_row=token_row.id, owner=owner.id, proposer=proposer.id, coord=coord.id,
        owner_org=owner.organisation_id, proposer_org=proposer.organisation_id, coord_org=coord.organisation_id,
        need=need.id, need2=need2.id, need_review=need_review.id, need_draft=need_draft.id,
        proposal=prop.id, proposal_submitted=prop_sub.id, proposal_draft=prop_draft.id,
        meeting=meeting.id, slot=slot.id, need3=need3.id, proposal_met=prop_met.id, meeting_held=held.id, message=msg.id, invitation=inv.id,
        att_need=atts["att_need"].id, att_proposal=atts["att_proposal"].id,
        join_request=join.id, joiner=joiner.id, meeting_uid=meeting.uid, endorsement=endorsement.id,
        call=call.id,
    )
    return ids


_HASHES: dict = {}


def _cached_hash(real):
    """Every world user has the same password: hash it once per process."""
    def cached(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = real(password)
        return _HASHES[password]
    return cached


def build_world(db) -> dict:
    """Create both sides and the admin; returns {"own": ids, "other": ids, "users": {role: User id}}.

    The factories commit after each object; here they only flush, and the
    world is committed once (each commit is an fsync: 24 of them made the
    matrix three times slower)."""
    from .. import factories

    f = Factory(db)
    db.session.commit = db.session.flush
    real_hash = factories.hash_password
    factories.hash_password = _cached_hash(real_hash)
    try:
        own = _side(f, db, "own")
        other = _side(f, db, "other")
        admin = f.user("admin", org=f.org(kind="support", prefecture="13", name="本省"), email="admin@example.jp")
    finally:
        del db.session.commit
        factories.hash_password = real_hash
    db.session.commit()
    users = {"owner": own["owner"], "proposer": own["proposer"], "coord": own["coord"],
             "coord_other": other["coord"], "admin": admin.id}
    return {"own": own, "other": other, "users": users, "password": PASSWORD}
