"""Demo step: invitations, message threads, first meetings (proposed, scheduled,
held), a couple of stalled cases, and finally the matcher's indexes.

Runs after the needs and proposals steps. Idempotent: invitations are keyed by
(need, organisation); threads and meetings are only added to proposals that
have none. No notifications or e-mails are made for demo history.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from oims.core.reference import PROPOSER_KINDS
from oims.core.vocabulary import (
    INACTIVE_STAGES,
    OUTCOME_STAGES,
    STAFF_ROLES,
    NeedStatus,
    Party,
    ProposalStage,
    Role,
)
from oims.extensions import db
from oims.matcher import service as ms
from oims.models import Invitation, Meeting, MeetingSlot, Need, Organisation, Proposal, ThreadMessage, User
from oims.models.base import utcnow

log = logging.getLogger(__name__)

_QUESTIONS = [
    (Party.OWNER, "ご提案ありがとうございます。量産時の月産能力と、試作から量産移行までの期間の目安を教えてください。"),
    (Party.PROPOSER, "現有設備で月産2万個まで対応できます。試作評価後、量産移行まで約6か月を見込んでいます。"),
    (Party.COORDINATOR, "初回面談では、評価条件と試作費の分担についても確認できるとよいと思います。"),
]
_STALL_STAGES = (ProposalStage.SHORTLISTED, ProposalStage.MET)


def _staff(users: dict[str, User], bureau: str) -> User | None:
    for role in STAFF_ROLES:
        for user in users.values():
            if user.role == role and user.organisation.bureau == bureau:
                return user
    return next((u for u in users.values() if u.role == Role.ADMIN), None)


def _first(users: dict[str, User], org_id: int, role: str) -> User | None:
    return next((u for u in users.values() if u.organisation_id == org_id and u.role == role), None) or \
        db.session.scalar(select(User).where(User.organisation_id == org_id, User.role == role).limit(1))


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    now = utcnow()
    counts = {"invitations": 0, "thread_messages": 0, "meetings": 0}
    needs = db.session.scalars(select(Need).where(Need.status == NeedStatus.PUBLISHED).order_by(Need.id)).all()
    proposer_orgs = [o for o in orgs.values() if o.kind in PROPOSER_KINDS]

    for n_index, need in enumerate(needs[:10]):
        coordinator = _staff(users, need.bureau)
        if coordinator is None:
            continue
        proposed = set(db.session.scalars(select(Proposal.org_id).where(Proposal.need_id == need.id)))
        keywords = [k.lower() for k in (need.keywords or [])]

        def fit(org, keywords=keywords, bureau=need.bureau):
            text = " ".join(org.capability_texts()).lower()
            return sum(1 for k in keywords if k in text), org.bureau == bureau

        candidates = sorted((o for o in proposer_orgs if o.id not in proposed), key=fit, reverse=True)[:2]
        for rank, org in enumerate(candidates, start=1):
            if not db.session.scalar(select(Invitation.id).where(Invitation.need_id == need.id,
                                                                 Invitation.org_id == org.id)):
                db.session.add(Invitation(need_id=need.id, org_id=org.id, coordinator_id=coordinator.id,
                                          message="貴社の技術がこのニーズに合うと考えます。ぜひご提案をご検討ください。",
                                          match_rank=rank, created_at=now - timedelta(days=20 - n_index)))
                counts["invitations"] += 1
        # An invitation that became a proposal: the first submitted proposal of every other need.
        if n_index % 2 == 0:
            prop = db.session.scalar(select(Proposal).where(Proposal.need_id == need.id, Proposal.stage != ProposalStage.DRAFT)
                                     .order_by(Proposal.id).limit(1))
            if prop is not None and prop.invitation_id is None:
                inv = Invitation(need_id=need.id, org_id=prop.org_id, coordinator_id=coordinator.id,
                                 message="ご提案をお待ちしています。", match_rank=1,
                                 created_at=(prop.created_at or now) - timedelta(days=3))
                db.session.add(inv)
                db.session.flush()
                prop.invitation_id = inv.id
                counts["invitations"] += 1
    db.session.flush()

    live = db.session.scalars(select(Proposal).where(Proposal.forwarded_at.isnot(None),
                                                     Proposal.stage.notin_(INACTIVE_STAGES))
                              .order_by(Proposal.id)).all()
    for i, prop in enumerate(live):
        need = prop.need
        owner = _first(users, need.owner_org_id, Role.NEED_OWNER)
        proposer = _first(users, prop.org_id, Role.PROPOSER)
        coordinator = _staff(users, need.bureau)
        if not (owner and proposer and coordinator):
            continue
        authors = {Party.OWNER: owner, Party.PROPOSER: proposer, Party.COORDINATOR: coordinator}
        has_messages = db.session.scalar(select(func.count(ThreadMessage.id)).where(
            ThreadMessage.proposal_id == prop.id))
        if not has_messages and i % 2 == 0:
            base = prop.forwarded_at or now - timedelta(days=10)
            for j, (who, body) in enumerate(_QUESTIONS[: 2 + i % 2]):
                db.session.add(ThreadMessage(proposal_id=prop.id, author_id=authors[who].id, body=body,
                                             created_at=base + timedelta(hours=6 * (j + 1))))
                counts["thread_messages"] += 1
        if db.session.scalar(select(func.count(Meeting.id)).where(Meeting.proposal_id == prop.id)):
            continue
        meeting = _demo_meeting(prop, owner, proposer, i, now)
        if meeting is not None:
            db.session.add(meeting)
            counts["meetings"] += 1
    db.session.flush()

    # Stalled cases: a couple of live cases with nothing happening for a long time.
    stall_days = current_app.config["OIMS_STALL_DAYS"]
    stalled = [p for p in live if p.stage in _STALL_STAGES][:2]
    for k, prop in enumerate(stalled):
        prop.last_activity_at = now - timedelta(days=stall_days + 5 + 7 * k)
    counts["stalled_cases"] = len(stalled)
    db.session.flush()
    counts.update(_index())
    return counts


def _demo_meeting(prop: Proposal, owner: User, proposer: User, i: int, now) -> Meeting | None:
    online = i % 2 == 0
    meeting = Meeting(proposal_id=prop.id, mode="online" if online else "onsite",
                      url="https://meet.example.jp/oims-" + uuid.uuid4().hex[:8] if online else "",
                      address="" if online else "さいたま新都心合同庁舎1号館 会議室",
                      proposed_by_id=owner.id, coordinator_attends=i % 3 == 0, uid=f"{uuid.uuid4()}@oims")
    day = now.replace(hour=1, minute=0, second=0, microsecond=0)  # 10:00 JST
    if prop.stage == ProposalStage.MEETING_REQUESTED:
        meeting.status = "proposed"
        meeting.slots = [MeetingSlot(starts_at=day + timedelta(days=5 + d), ends_at=day + timedelta(days=5 + d, hours=1))
                         for d in (0, 1, 3)]
    elif prop.stage == ProposalStage.MEETING_SCHEDULED:
        start = day + timedelta(days=1 + i % 6)
        meeting.status = "scheduled"
        meeting.starts_at, meeting.ends_at = start, start + timedelta(hours=1)
        meeting.slots = [MeetingSlot(starts_at=start, ends_at=start + timedelta(hours=1))]
    elif prop.stage in (ProposalStage.MET, *OUTCOME_STAGES):
        start = (prop.forwarded_at or now - timedelta(days=20)) + timedelta(days=7)
        meeting.status = "held"
        meeting.starts_at, meeting.ends_at = start, start + timedelta(hours=1)
        meeting.reminder_sent_at = start - timedelta(days=1)
        meeting.slots = [MeetingSlot(starts_at=start, ends_at=start + timedelta(hours=1))]
    else:
        return None
    return meeting


def _index() -> dict:
    """End the demo with the matcher indexed (when matching is enabled)."""
    svc = ms.service()
    if not svc.enabled:
        return {}
    try:
        db.session.commit()
        report = ms.reindex(force=False)
    except Exception as exc:  # noqa: BLE001 - the change log keeps the work; the worker finishes it
        log.warning("demo: indexing deferred (%s)", exc)
        return {"indexed": 0}
    return {"indexed": sum(len(svc.matcher(k)) for k in ms.KINDS),
            "index_updates": sum(u for u, _r in report.values())}
