"""Demo step: the proposals of `oims.demo.data.PROPOSALS`, each with the event
history that leads to its stage, a receipt and the forwarding data.

Runs after the needs step (needs are found by title). Idempotent: a proposal
is identified by (need, organisation) and left alone when it exists. No
notifications or e-mails are made for demo history.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oims.core.reference import DECLINE_REASONS
from oims.core.vocabulary import INACTIVE_STAGES, OUTCOME_STAGES, Party, ProposalStage, Role
from oims.demo import data
from oims.extensions import db
from oims.models import Need, Organisation, Proposal, ProposalEvent, User
from oims.models.base import utcnow
from oims.proposals import receipts

S = ProposalStage
# The main line of the funnel, SUBMITTED … CONTRACT (each step a workflow transition).
_MAIN = (S.SUBMITTED, S.SCREENING, S.SHORTLISTED, S.MEETING_REQUESTED, S.MEETING_SCHEDULED, S.MET, S.NDA, S.POC,
         S.CONTRACT)
# The path of stages (after DRAFT) that leads to each final stage, and who acts
# (tests/foundation/test_demo_data.py checks both against the workflow's TRANSITIONS).
PATHS: dict[ProposalStage, list[ProposalStage]] = {
    S.DRAFT: [],
    **{stage: list(_MAIN[: i + 1]) for i, stage in enumerate(_MAIN)},
    S.ENDED: [*_MAIN[: _MAIN.index(S.MET) + 1], S.ENDED],
    S.DECLINED: [S.SUBMITTED, S.SCREENING, S.DECLINED],
    S.WITHDRAWN: [S.SUBMITTED, S.WITHDRAWN],
}
ACTOR: dict[ProposalStage, Party] = {
    S.SUBMITTED: Party.PROPOSER, S.SCREENING: Party.COORDINATOR, S.SHORTLISTED: Party.COORDINATOR,
    S.MEETING_REQUESTED: Party.OWNER, S.MEETING_SCHEDULED: Party.COORDINATOR, S.MET: Party.COORDINATOR,
    S.NDA: Party.OWNER, S.POC: Party.OWNER, S.CONTRACT: Party.OWNER, S.ENDED: Party.OWNER,
    S.DECLINED: Party.COORDINATOR, S.WITHDRAWN: Party.PROPOSER,
}
_DISCLOSED_FROM = S.MEETING_SCHEDULED
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
    for role in (Role.COORDINATOR, Role.ADMIN):
        for user in users.values():
            if user.role == role and user.organisation.bureau == bureau:
                return user
    for user in users.values():
        if user.role == Role.ADMIN:
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
        proposer = _first_user(users, org, Role.PROPOSER) if org is not None else None
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
    stage = ProposalStage(row["stage"])
    path = PATHS[stage]
    coordinator = _coordinator(users, need.bureau)
    owner = _first_user(users, need.owner_org, Role.NEED_OWNER)
    actors = {Party.PROPOSER: proposer, Party.COORDINATOR: coordinator or proposer,
              Party.OWNER: owner or coordinator or proposer}
    # History: starts after publication, at most ~40 days ago, steps spread up to a day ago.
    start = max(need.published_at or now - timedelta(days=40), now - timedelta(days=40))
    span = max(now - timedelta(days=1) - start, timedelta(hours=len(path) + 1))
    step = span / (len(path) + 1)
    created_at = start + step * 0.5 + timedelta(minutes=(index * 37) % 600)

    proposal = Proposal(
        need_id=need.id, org_id=org.id, created_by_id=proposer.id, stage=S.DRAFT,
        title=row["title"], summary=row["summary"], solution=row.get("solution", ""),
        track_record=row.get("track_record", ""), team=row.get("team", ""),
        schedule=row.get("schedule", ""), cost=row.get("cost", ""),
        answers=list((need.keywords or [])[: 1 + index % 3]),
        created_at=created_at, last_activity_at=created_at,
    )
    db.session.add(proposal)
    db.session.flush()
    previous = S.DRAFT
    at = created_at
    for i, to_stage in enumerate(path, start=1):
        at = created_at + step * i
        actor = actors[ACTOR[to_stage]]
        note = ""
        if to_stage == S.SUBMITTED:
            proposal.submitted_at = at
            receipts.issue_receipt(proposal, [], at)
        elif to_stage == S.SHORTLISTED:
            proposal.forwarded_at = at
            proposal.shortlisted_by_id = actor.id
            proposal.forward_comment = "技術的な適合性が高く、初回面談をお勧めします。"
            proposal.response_due = (at + timedelta(days=14)).date()
        elif to_stage == S.MEETING_REQUESTED:
            proposal.responded_at = at
        elif to_stage == S.DECLINED:
            reason = DECLINE_REASONS[index % len(DECLINE_REASONS)].code
            proposal.decline_reason = reason
            proposal.decline_note = note = _DECLINE_NOTES[reason]
        db.session.add(ProposalEvent(
            proposal_id=proposal.id, from_stage=previous, to_stage=to_stage, actor_id=actor.id, note=note,
            on_date=at.date() if to_stage in OUTCOME_STAGES else None, created_at=at))
        previous = to_stage
    proposal.stage = stage
    proposal.last_activity_at = at
    if _DISCLOSED_FROM in path and stage not in INACTIVE_STAGES:
        proposal.owner_disclosed = True
    return proposal
