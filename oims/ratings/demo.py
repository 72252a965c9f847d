"""Demo step (h13): proposers' ratings of need owners from
`oims/data/demo/owner_ratings.toml`. Idempotent: one rating per proposal; rows
whose proposal is missing or not yet decided are skipped."""

from __future__ import annotations

from sqlalchemy import select

from oims.demo import data
from oims.extensions import db
from oims.models import Need, Organisation, OwnerRating, Proposal, User
from oims.policy import RATEABLE_STAGES


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    titles = {row["key"]: row["title"] for row in data.read("needs")}
    count = 0
    for row in data.read("owner_ratings"):
        org = orgs.get(row["org"])
        need = db.session.scalar(select(Need).where(Need.title == titles.get(row["need"], "")))
        if org is None or need is None:
            continue
        proposal = db.session.scalar(select(Proposal).where(Proposal.need_id == need.id, Proposal.org_id == org.id))
        if proposal is None or proposal.stage not in RATEABLE_STAGES or proposal.forwarded_at is None:
            continue
        rater = next((u for u in users.values() if u.organisation_id == org.id), None) or db.session.scalar(
            select(User).where(User.organisation_id == org.id).limit(1))
        if rater is None:
            continue
        if not db.session.scalar(select(OwnerRating.id).where(OwnerRating.proposal_id == proposal.id)):
            db.session.add(OwnerRating(proposal_id=proposal.id, need_id=need.id, owner_org_id=need.owner_org_id,
                                       rater_user_id=rater.id, decision=proposal.stage,
                                       counted=not need.anonymous or bool(proposal.owner_disclosed),
                                       **{k: row[k] for k in ("clear_reason", "on_time", "respectful")}))
        count += 1
    db.session.flush()
    return {"owner_ratings": count}
