"""Demo step: the proposals of `oims.demo_data.PROPOSALS`, each with the event
history that leads to its stage, a receipt and the forwarding data.

Runs after the needs step (needs are found by title). Idempotent: a proposal
is identified by (need, organisation) and left alone when it exists. No
notifications or e-mails are made for demo history.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oims.core.reference import DECLINE_REASONS
from oims.demo import data
from oims.extensions import db
from oims.models import Need, Organisation, Proposal, ProposalEvent, User
from oims.models.base import utcnow
from oims.proposals import receipts

# The path of stages (after "draft") that leads to each final stage, and who acts.
_PATHS = {
    "draft": [],
    "submitted": ["submitted"],
    "screening": ["submitted", "screening"],
    "shortlisted": ["submitted", "screening", "shortlisted"],
    "meeting_requested": ["submitted", "screening", "shortlisted", "meeting_requested"],
    "meeting_scheduled": ["submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled"],
    "met": ["submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled", "met"],
    "nda": ["submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled", "met", "nda"],
    "poc": ["submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled", "met", "nda",
            "poc"],
    "contract": ["submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled", "met",
                 "nda", "poc", "contract"],
    "ended": ["submitted", "screening", "shortlisted", "meeting_requested", "meeting_scheduled", "met", "ended"],
    "declined": ["submitted", "screening", "declined"],
    "withdrawn": ["submitted", "withdrawn"],
}
_ACTOR = {
    "submitted": "proposer", "screening": "coordinator", "shortlisted": "coordinator",
    "meeting_requested": "owner", "meeting_scheduled": "coordinator", "met": "coordinator",
    "nda": "owner", "poc": "owner", "contract": "owner", "ended": "owner", "declined": "coordinator",
    "withdrawn": "proposer",
}
_OUTCOMES = ("nda", "poc", "contract", "ended")
_DISCLOSED_FROM = "meeting_scheduled"
_DECLINE_NOTES = {
    "tech_mismatch": "ご提案の技術は興味深いものの、今回のニーズが求める量産条件との適合性が低いと判断しました。",
    "cost": "費用感がニーズ企業の想定予算と大きく異なるため、今回は見送りとさせていただきます。",
    "schedule": "ニーズ企業の開発日程に対して、ご提案の期間では間に合わないと判断しました。",
    "capacity": "量産規模に対する供給体制について、現時点では確認が取れませんでした。",
    "already_selected": "他のご提案で要件を満たす見通しが立ったため、今回は見送りとさせていただきます。",
    "need_changed": "ニーズ企業側で開発方針の見直しがあり、募集内容が変わりました。",
    "other": "ご提案ありがとうございました。別の機会に改めてご相談ください。",
}


def _first_user(users: dict[str, User], org: Organisation, role: str) -> User | None:
    for user in users.values():
        if user.organisation_id == org.id and user.role == role:
            return user
    return db.session.scalar(select(User).where(User.organisation_id == org.id, User.role == role)
                             .order_by(User.id).limit(1))


def _coordinator(users: dict[str, User], bureau: str) -> User | None:
    for role in ("coordinator", "admin"):
        for user in users.values():
            if user.role == role and user.organisation.bureau == bureau:
                return user
    for user in users.values():
        if user.role == "admin":
            return user
    return None


def load_demo_proposals(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    titles = {n["key"]: n["title"] for n in data.NEEDS}
    needs: dict[str, Need | None] = {}
    created = kept = skipped = 0
    now = utcnow()
    for index, row in enumerate(data.PROPOSALS):
        if row["need"] not in needs:
            needs[row["need"]] = db.session.scalar(
                select(Need).where(Need.title == titles[row["need"]]).order_by(Need.id).limit(1))
        need, org = needs[row["need"]], orgs.get(row["org"])
        proposer = _first_user(users, org, "proposer") if org is not None else None
        if need is None or proposer is None:
            skipped += 1  # the needs step did not run, or the data changed
            continue
        if db.session.scalar(select(Proposal.id).where(Proposal.need_id == need.id,
                                                       Proposal.org_id == org.id).limit(1)):
            kept += 1
            continue
        _create(index, row, need, org, proposer, users, now)
        created += 1
    db.session.flush()
    return {"proposals": created + kept, "proposals_created": created, "proposals_skipped": skipped}


def _create(index: int, row: dict, need: Need, org: Organisation, proposer: User,
            users: dict[str, User], now) -> Proposal:
    stage = row["stage"]
    path = _PATHS[stage]
    coordinator = _coordinator(users, need.bureau)
    owner = _first_user(users, need.owner_org, "need_owner")
    actors = {"proposer": proposer, "coordinator": coordinator or proposer, "owner": owner or coordinator or proposer}
    # History: starts after publication, at most ~40 days ago, steps spread up to a day ago.
    start = max(need.published_at or now - timedelta(days=40), now - timedelta(days=40))
    span = max(now - timedelta(days=1) - start, timedelta(hours=len(path) + 1))
    step = span / (len(path) + 1)
    created_at = start + step * 0.5 + timedelta(minutes=(index * 37) % 600)

    proposal = Proposal(
        need_id=need.id, org_id=org.id, created_by_id=proposer.id, stage="draft",
        title=row["title"], summary=row["summary"], solution=row.get("solution", ""),
        track_record=row.get("track_record", ""), team=row.get("team", ""),
        schedule=row.get("schedule", ""), cost=row.get("cost", ""),
        answers=list((need.keywords or [])[: 1 + index % 3]),
        created_at=created_at, last_activity_at=created_at,
    )
    db.session.add(proposal)
    db.session.flush()
    previous = "draft"
    at = created_at
    for i, to_stage in enumerate(path, start=1):
        at = created_at + step * i
        actor = actors[_ACTOR[to_stage]]
        note = ""
        if to_stage == "submitted":
            proposal.submitted_at = at
            receipts.issue_receipt(proposal, [], at)
        elif to_stage == "shortlisted":
            proposal.forwarded_at = at
            proposal.shortlisted_by_id = actor.id
            proposal.forward_comment = "技術的な適合性が高く、初回面談をお勧めします。"
            proposal.response_due = (at + timedelta(days=14)).date()
        elif to_stage == "meeting_requested":
            proposal.responded_at = at
        elif to_stage == "declined":
            reason = DECLINE_REASONS[index % len(DECLINE_REASONS)].code
            proposal.decline_reason = reason
            proposal.decline_note = note = _DECLINE_NOTES[reason]
        db.session.add(ProposalEvent(
            proposal_id=proposal.id, from_stage=previous, to_stage=to_stage, actor_id=actor.id, note=note,
            on_date=at.date() if to_stage in _OUTCOMES else None, created_at=at))
        previous = to_stage
    proposal.stage = stage
    proposal.last_activity_at = at
    if stage in _PATHS and _DISCLOSED_FROM in path and stage not in ("declined", "withdrawn"):
        proposal.owner_disclosed = True
    return proposal
