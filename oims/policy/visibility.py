"""Who may see what: the one implementation of the visibility rules, used by
pages, exports and the JSON API alike.

- A proposer sees only its own organisation's proposals.
- A need owner sees its own needs (all states) and only the proposals a
  coordinator has forwarded.
- Coordinators see the needs of their bureau (all states) and the proposals
  made to them; published needs are visible to every signed-in user.
- Admins see everything.
- An anonymous need never shows its owner to a proposer until a meeting with
  that proposer is agreed (`Proposal.owner_disclosed`).
"""

from __future__ import annotations

from sqlalchemy import Select, and_, false, or_, select

from oims.core.vocabulary import (
    COORDINATOR_EDITABLE_STATUSES,
    FULFILLABLE_NEED_STATUSES,
    NDA_STAGES,
    OWNER_EDITABLE_STATUSES,
    PUBLIC_NEED_STATUSES,
    RATEABLE_STAGES,
    SUBMITTABLE_NEED_STATUSES,
    WITHDRAWABLE_NEED_STATUSES,
    NeedStatus,
    Party,
    ProposalStage,
    Role,
)
from oims.extensions import db
from oims.models import AuditLog, ImportJob, Meeting, Need, Organisation, Proposal, User

__all__ = [
    "PUBLIC_NEED_STATUSES",
    "need_filter",
    "visible_needs",
    "can_view_need",
    "is_need_owner",
    "can_edit_need",
    "can_manage_need",
    "can_submit_need",
    "may_withdraw_need",
    "can_withdraw_need",
    "may_fulfil_need",
    "can_fulfil_need",
    "can_review_need",
    "can_attach_to_need",
    "sees_need_history",
    "can_propose_to_need",
    "proposal_filter",
    "visible_proposals",
    "can_view_proposal",
    "proposal_role",
    "sees_owner",
    "owner_label",
    "RESTRICTABLE_PARTS",
    "NDA_STAGES",
    "nda_recorded",
    "withheld_parts",
    "attachment_withheld",
    "anything_withheld",
    "visible_reasons",
    "import_job_filter",
    "can_manage_import",
    "audit_filter",
    "owner_view_filter",
    "can_run_calls",
    "can_manage_call",
    "call_needs_filter",
    "RATEABLE_STAGES",
    "FAIRNESS_MIN_RATINGS",
    "can_rate_owner",
]


# --- needs -----------------------------------------------------------------

def need_filter(user: User):
    """SQL condition: needs `user` may see."""
    if user.is_admin:
        return Need.id.isnot(None)
    public = Need.status.in_(PUBLIC_NEED_STATUSES)
    if user.is_coordinator:
        return or_(Need.bureau == user.bureau, public)
    own = Need.owner_org_id == user.organisation_id
    if user.is_need_owner:
        return or_(own, Need.status == NeedStatus.PUBLISHED)
    # Proposers: published needs, plus closed ones they proposed to.
    proposed = Need.id.in_(select(Proposal.need_id).where(Proposal.org_id == user.organisation_id))
    return or_(Need.status == NeedStatus.PUBLISHED, and_(public, proposed), own)


def visible_needs(user: User) -> Select:
    return select(Need).where(need_filter(user))


def can_view_need(user: User, need: Need) -> bool:
    if user.is_admin:
        return True
    if need.owner_org_id == user.organisation_id:
        return True
    if user.is_coordinator:
        return need.bureau == user.bureau or need.status in PUBLIC_NEED_STATUSES
    if need.status == NeedStatus.PUBLISHED:
        return True
    if need.status in PUBLIC_NEED_STATUSES and user.is_proposer:
        return bool(db.session.scalar(select(Proposal.id).where(
            Proposal.need_id == need.id, Proposal.org_id == user.organisation_id).limit(1)))
    return False


def is_need_owner(user: User, need: Need) -> bool:
    return need.owner_org_id == user.organisation_id and user.role in (Role.NEED_OWNER, Role.PROPOSER)


def can_edit_need(user: User, need: Need) -> bool:
    """The owner edits drafts, returned and published needs; the bureau's
    coordinator (or an admin) edits needs under review and published ones."""
    return ((is_need_owner(user, need) and need.status in OWNER_EDITABLE_STATUSES)
            or (can_manage_need(user, need) and need.status in COORDINATOR_EDITABLE_STATUSES))


def can_manage_need(user: User, need: Need) -> bool:
    """Coordinator duties on a need: review, publish, rank, invite, shortlist."""
    return user.is_admin or (user.is_coordinator and need.bureau == user.bureau)


def can_submit_need(user: User, need: Need) -> bool:
    """The owner submits a draft or a returned need for review."""
    return is_need_owner(user, need) and need.status in SUBMITTABLE_NEED_STATUSES


def may_withdraw_need(user: User, need: Need) -> bool:
    """The owner (or an admin) is who withdraws a need, whatever its status now."""
    return is_need_owner(user, need) or user.is_admin


def can_withdraw_need(user: User, need: Need) -> bool:
    """The owner (or an admin) withdraws a need not yet closed, fulfilled or withdrawn."""
    return may_withdraw_need(user, need) and need.status in WITHDRAWABLE_NEED_STATUSES


def may_fulfil_need(user: User, need: Need) -> bool:
    """The owner or the bureau's coordinator is who marks a need fulfilled, whatever its status now."""
    return is_need_owner(user, need) or can_manage_need(user, need)


def can_fulfil_need(user: User, need: Need) -> bool:
    """The owner or the bureau's coordinator marks a published or closed need fulfilled."""
    return may_fulfil_need(user, need) and need.status in FULFILLABLE_NEED_STATUSES


def can_review_need(user: User, need: Need) -> bool:
    """The bureau's coordinator (or an admin) publishes or returns a need under review."""
    return can_manage_need(user, need) and need.status == NeedStatus.REVIEW


def can_attach_to_need(user: User, need: Need) -> bool:
    """The owner adds and removes files while it may edit the need itself."""
    return is_need_owner(user, need) and need.status in OWNER_EDITABLE_STATUSES


def sees_need_history(user: User, need: Need) -> bool:
    """The owner and the bureau's staff see every version of a need and the
    coordinator's edits; others only the changes made after publication."""
    return is_need_owner(user, need) or can_manage_need(user, need)


def can_propose_to_need(user: User, need: Need) -> bool:
    """A proposer account of a proposing organisation, not the need's owner.
    Whether the need still takes proposals is `oims.needs.services.accepts_proposals`."""
    return user.is_proposer and not is_need_owner(user, need) and user.organisation.is_proposer_kind


# --- proposals ---------------------------------------------------------------

def proposal_filter(user: User):
    """SQL condition on Proposal (joined to Need where needed)."""
    if user.is_admin:
        return Proposal.id.isnot(None)
    own = Proposal.org_id == user.organisation_id
    if user.is_coordinator:
        # IN (subquery) rather than a correlated EXISTS: PostgreSQL plans it as a
        # hash semi-join (the EXISTS form took seconds at 100k proposals).
        bureau_need = Proposal.need_id.in_(select(Need.id).where(Need.bureau == user.bureau))
        return and_(Proposal.stage != ProposalStage.DRAFT, bureau_need)
    if user.is_need_owner:
        owned_need = Proposal.need_id.in_(select(Need.id).where(Need.owner_org_id == user.organisation_id))
        return or_(own, and_(owned_need, Proposal.forwarded_at.isnot(None)))
    if user.is_proposer:
        return own
    return false()


def visible_proposals(user: User) -> Select:
    return select(Proposal).where(proposal_filter(user))


def can_view_proposal(user: User, proposal: Proposal) -> bool:
    if user.is_admin:
        return True
    if proposal.org_id == user.organisation_id:
        return True
    if user.is_coordinator:
        return proposal.stage != ProposalStage.DRAFT and proposal.need.bureau == user.bureau
    if user.is_need_owner:
        return proposal.need.owner_org_id == user.organisation_id and proposal.forwarded_at is not None
    return False


def proposal_role(user: User, proposal: Proposal) -> str | None:
    """How `user` stands to a proposal: proposer, owner, coordinator (or admin), or None."""
    if proposal.org_id == user.organisation_id:
        return Party.PROPOSER
    if user.is_staff and can_manage_need(user, proposal.need):
        return Party.COORDINATOR
    if proposal.need.owner_org_id == user.organisation_id and proposal.forwarded_at is not None:
        return Party.OWNER
    return None


# --- anonymity -----------------------------------------------------------------

def sees_owner(user: User | None, need: Need, proposal: Proposal | None = None) -> bool:
    """Whether `user` may know who owns `need`."""
    if not need.anonymous:
        return True
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or need.owner_org_id == user.organisation_id:
        return True
    if proposal is not None:
        return proposal.owner_disclosed and proposal.org_id == user.organisation_id
    return bool(db.session.scalar(select(Proposal.id).where(
        Proposal.need_id == need.id, Proposal.org_id == user.organisation_id,
        Proposal.owner_disclosed.is_(True)).limit(1)))


def owner_label(need: Need, user: User | None, locale: str = "ja", proposal: Proposal | None = None) -> str:
    """The name to show for a need's owner: the firm's name, or its alias."""
    if sees_owner(user, need, proposal):
        return need.owner_org.display_name(locale)
    return (need.alias_en if locale.startswith("en") and need.alias_en else need.alias) or "—"


# --- staged disclosure ----------------------------------------------------------

# Sections a proposer may mark "after NDA" (the title and summary always show).
RESTRICTABLE_PARTS = ("solution", "track_record", "team", "schedule", "cost")


def nda_recorded(proposal: Proposal) -> bool:
    """Whether the case has reached the NDA stage (now or at any time before)."""
    if proposal.stage in NDA_STAGES:
        return True
    return any(e.to_stage in NDA_STAGES for e in proposal.events)


def _disclosure_role(user: User | None, proposal: Proposal, as_role: str | None) -> str:
    if as_role:
        return as_role
    if user is not None and getattr(user, "organisation_id", None) == proposal.org_id:
        return Party.PROPOSER
    return "other"  # the owner, coordinators and admins alike


def withheld_parts(user: User | None, proposal: Proposal, *, as_role: str | None = None) -> list[str]:
    """The sections of `proposal` that `user` may not see yet: those marked
    "after NDA", for everyone outside the proposing organisation, until the
    NDA stage is recorded. `as_role="owner"` gives the owner's view (the
    proposer's preview)."""
    marked = [p for p in RESTRICTABLE_PARTS if p in (proposal.after_nda or [])]
    if not marked or _disclosure_role(user, proposal, as_role) == Party.PROPOSER or nda_recorded(proposal):
        return []
    return marked


def attachment_withheld(user: User | None, att, proposal: Proposal, *, as_role: str | None = None) -> bool:
    if att.proposal_id != proposal.id or not att.after_nda:
        return False
    return _disclosure_role(user, proposal, as_role) != Party.PROPOSER and not nda_recorded(proposal)


def anything_withheld(user: User | None, proposal: Proposal, attachments=()) -> bool:
    return bool(withheld_parts(user, proposal)) or any(
        attachment_withheld(user, a, proposal) for a in attachments)


def visible_reasons(user: User | None, proposal: Proposal, reasons, parts) -> list:
    """The matcher's reasons minus those quoting a section withheld from `user`."""
    hidden = set(withheld_parts(user, proposal))
    if not hidden or not reasons:
        return list(reasons or [])
    parts = list(parts or [])
    return [r for r in reasons
            if not (0 <= getattr(r, "document", -1) < len(parts) and parts[r.document] in hidden)]


# --- bulk imports ----------------------------------------------------------------

# Who may import at all is the route guard (staff only); what a job may touch is
# its `bureau` (a coordinator's own, set by create_job); who may see a job:

def import_job_filter(user: User):
    """SQL condition on ImportJob: the jobs `user` may see and run."""
    if user.is_admin:
        return ImportJob.id.isnot(None)
    if user.is_coordinator:
        return ImportJob.bureau == user.bureau
    return false()


def can_manage_import(user: User, job) -> bool:
    return user.is_admin or (user.is_coordinator and job.bureau == user.bureau)


# --- audit trail -----------------------------------------------------------------

def audit_filter(user: User):
    """SQL condition on AuditLog: the entries `user` may browse. Admins see
    all; a coordinator only entries about its own bureau's objects (needs,
    proposals and meetings to its needs, its organisations and their users,
    its import jobs); nobody else browses the trail."""
    if user.is_admin:
        return AuditLog.id.isnot(None)
    if not user.is_coordinator:
        return false()
    bureau = user.bureau
    needs = select(Need.id).where(Need.bureau == bureau)
    proposals = select(Proposal.id).where(Proposal.need_id.in_(needs))
    meetings = select(Meeting.id).where(Meeting.proposal_id.in_(proposals))
    orgs = select(Organisation.id).where(Organisation.bureau == bureau)
    users = select(User.id).where(User.organisation_id.in_(orgs))
    jobs = select(ImportJob.id).where(ImportJob.bureau == bureau)
    by_type = (("need", needs), ("proposal", proposals), ("meeting", meetings), ("organisation", orgs),
               ("user", users), ("importjob", jobs))
    return or_(*(and_(AuditLog.object_type == kind, AuditLog.object_id.in_(ids)) for kind, ids in by_type))


def owner_view_filter(user: User):
    """SQL condition on AuditLog: the owner's views of the proposals forwarded
    to `user`'s organisation (what a need owner may see of the trail)."""
    forwarded = select(Proposal.id).where(
        Proposal.need_id.in_(select(Need.id).where(Need.owner_org_id == user.organisation_id)),
        Proposal.forwarded_at.isnot(None))
    return and_(AuditLog.action == "proposal.viewed_by_owner", AuditLog.object_type == "proposal",
                AuditLog.object_id.in_(forwarded))


# --- themed calls ------------------------------------------------------------------

def can_run_calls(user: User) -> bool:
    """Who may open a themed call: bureau staff, and partner support bodies the
    bureau has allowed to endorse (公設試, 商工会議所, 金融機関, ...)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_staff or bool(user.organisation.endorser_kind)


def can_manage_call(user: User, call) -> bool:
    """Edit a call, attach needs, see its KPI: the running body, the call's
    bureau's coordinators, admins."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_admin or (user.is_coordinator and call.bureau == user.bureau):
        return True
    return call.org_id == user.organisation_id and can_run_calls(user)


def call_needs_filter():
    """SQL condition on Need: the needs a call's public page lists (published only;
    a need that closes or is withdrawn leaves the public page)."""
    return Need.status == NeedStatus.PUBLISHED


# --- proposers' ratings of need owners ----------------------------------------------

# RATEABLE_STAGES (oims.core.vocabulary): the stages that follow a decision of the
# owner's side on a proposal: a decline, a meeting (requested, agreed, held) or an outcome.
FAIRNESS_MIN_RATINGS = 5  # below this, no badge: no single rating may identify its author


def can_rate_owner(user: User, proposal: Proposal) -> bool:
    """Only the proposing organisation, only after the owner had the proposal
    (forwarded) and decided on it."""
    return (getattr(user, "is_authenticated", False) and user.is_active
            and proposal.org_id == user.organisation_id and proposal.forwarded_at is not None
            and proposal.stage in RATEABLE_STAGES)
