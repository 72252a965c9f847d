"""JSON shapes of the API's objects (matching the OpenAPI schemas)."""

from __future__ import annotations

from datetime import date, datetime

from oims.models import Meeting, Need, Organisation, Proposal, User
from oims.policy import owner_label, sees_owner, withheld_parts


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def owner_json(need: Need, user: User, locale: str, proposal: Proposal | None = None) -> dict:
    disclosed = sees_owner(user, need, proposal)
    return {"name": owner_label(need, user, locale, proposal), "disclosed": disclosed,
            "organisation_id": need.owner_org_id if disclosed else None}


def need_json(need: Need, user: User, locale: str) -> dict:
    return {
        "id": need.id, "title": need.title, "summary": need.summary, "background": need.background or "",
        "sought": need.sought or "", "partnership_types": list(need.partnership_types or []),
        "keywords": list(need.keywords or []), "regions": list(need.regions or []), "budget": need.budget or "",
        "deadline": iso(need.deadline), "desired_start": need.desired_start or "", "anonymous": bool(need.anonymous),
        "owner": owner_json(need, user, locale), "status": need.status, "bureau": need.bureau,
        "version": need.version or 1, "published_at": iso(need.published_at), "created_at": iso(need.created_at),
        "updated_at": iso(need.updated_at),
    }


def org_ref(org: Organisation, locale: str) -> dict:
    return {"id": org.id, "name": org.display_name(locale)}


def proposal_json(p: Proposal, locale: str, viewer: User | None = None) -> dict:
    """`viewer` decides the staged disclosure: sections marked "after NDA" are
    empty (and listed in `withheld`) for everyone but the proposer until the NDA."""
    hidden = withheld_parts(viewer, p)
    data = {
        "id": p.id, "need_id": p.need_id, "organisation": org_ref(p.org, locale), "title": p.title,
        "summary": p.summary or "", "solution": p.solution or "", "track_record": p.track_record or "",
        "team": p.team or "", "schedule": p.schedule or "", "cost": p.cost or "",
        "answers": [str(a) for a in (p.answers or [])], "stage": p.stage,
        "submitted_at": iso(p.submitted_at), "forwarded_at": iso(p.forwarded_at),
        "responded_at": iso(p.responded_at), "created_at": iso(p.created_at), "updated_at": iso(p.updated_at),
    }
    for part in hidden:
        data[part] = ""
    data["withheld"] = hidden
    return data


def meeting_json(m: Meeting) -> dict:
    return {
        "id": m.id, "proposal_id": m.proposal_id, "status": m.status, "mode": m.mode, "url": m.url or "",
        "address": m.address or "", "starts_at": iso(m.starts_at), "ends_at": iso(m.ends_at),
        "coordinator_attends": bool(m.coordinator_attends),
        "slots": [{"starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at)} for s in m.slots],
    }
