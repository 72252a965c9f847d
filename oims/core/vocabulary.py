"""The one vocabulary: need statuses, proposal stages, account roles and the
parts a person plays on a proposal, with the named groups features ask about.

They are `StrEnum`s, so a member *is* its string: it compares equal to the value
stored in the database, renders as that value in templates and JSON, and can be
passed wherever a string was. Write `NeedStatus.PUBLISHED`, never "published";
ask a group (`NeedStatus.PUBLIC`, `ProposalStage.INACTIVE`) rather than
re-listing its members. Translated labels live next to the screens that show
them (`oims.proposals.workflow.stage_labels()` and friends).
"""

from __future__ import annotations

from enum import StrEnum


class NeedStatus(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"  # waiting for a coordinator
    RETURNED = "returned"  # sent back to the owner with a comment
    PUBLISHED = "published"
    CLOSED = "closed"  # the proposal deadline passed, or the owner closed it
    WITHDRAWN = "withdrawn"
    FULFILLED = "fulfilled"  # a partner was found


class ProposalStage(StrEnum):
    """In funnel order: the order of the members is the order a proposal moves along."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCREENING = "screening"
    SHORTLISTED = "shortlisted"  # forwarded to the need owner
    MEETING_REQUESTED = "meeting_requested"
    MEETING_SCHEDULED = "meeting_scheduled"
    MET = "met"
    NDA = "nda"
    POC = "poc"
    CONTRACT = "contract"
    ENDED = "ended"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    """An account's role (`User.role`)."""

    NEED_OWNER = "need_owner"
    PROPOSER = "proposer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Party(StrEnum):
    """The part a person plays on one proposal (`oims.policy.proposal_role`)."""

    PROPOSER = "proposer"
    OWNER = "owner"
    COORDINATOR = "coordinator"


class AccountStatus(StrEnum):
    """An account's status (`User.status`); organisations use the first three (`Organisation.status`)."""

    ACTIVE = "active"
    PENDING = "pending"  # waiting for approval: joining an organisation, or a new organisation
    DISABLED = "disabled"  # off-boarded by an admin (or with its organisation); cannot sign in
    DELETED = "deleted"  # pseudonymised at the person's request; cannot sign in


# --- named groups ---------------------------------------------------------------------------

NEED_STATUSES: tuple[NeedStatus, ...] = tuple(NeedStatus)
#: Statuses whose need anyone signed in may see (and the public search lists).
PUBLIC_NEED_STATUSES = (NeedStatus.PUBLISHED, NeedStatus.CLOSED, NeedStatus.FULFILLED)
#: Statuses in which the owner may edit the need; the bureau's coordinator edits it under review and published.
OWNER_EDITABLE_STATUSES = (NeedStatus.DRAFT, NeedStatus.RETURNED, NeedStatus.PUBLISHED)
COORDINATOR_EDITABLE_STATUSES = (NeedStatus.REVIEW, NeedStatus.PUBLISHED)

PROPOSAL_STAGES: tuple[ProposalStage, ...] = tuple(ProposalStage)
#: Stages of a proposal that is no longer alive.
INACTIVE_STAGES = (ProposalStage.DECLINED, ProposalStage.WITHDRAWN)
#: Stages after the first meeting that count as an outcome of the case.
OUTCOME_STAGES = (ProposalStage.NDA, ProposalStage.POC, ProposalStage.CONTRACT, ProposalStage.ENDED)
#: Stages at which an NDA is on record (restricted parts may be disclosed).
NDA_STAGES = (ProposalStage.NDA, ProposalStage.POC, ProposalStage.CONTRACT)
#: Stages from which a proposer may rate how the need owner treated them.
RATEABLE_STAGES = (
    ProposalStage.DECLINED, ProposalStage.MEETING_REQUESTED, ProposalStage.MEETING_SCHEDULED, ProposalStage.MET,
    *OUTCOME_STAGES,
)
#: Stages in which the need owner has the proposal (forwarded by a coordinator).
FORWARDED_STAGES = (
    ProposalStage.SHORTLISTED, ProposalStage.MEETING_REQUESTED, ProposalStage.MEETING_SCHEDULED, ProposalStage.MET,
    *OUTCOME_STAGES,
)

ROLES: tuple[Role, ...] = tuple(Role)
#: Bureau staff: they review needs, screen proposals and see every case of their bureau.
STAFF_ROLES = (Role.COORDINATOR, Role.ADMIN)
#: Stages from which a coordinator may shortlist a proposal (forward it to the need owner).
SHORTLISTABLE_STAGES = (ProposalStage.SUBMITTED, ProposalStage.SCREENING)
#: Stages of a forwarded case still in the coordinator's hands, which can stall.
LIVE_CASE_STAGES = (
    ProposalStage.SHORTLISTED, ProposalStage.MEETING_REQUESTED, ProposalStage.MEETING_SCHEDULED, ProposalStage.MET,
    ProposalStage.NDA, ProposalStage.POC,
)
#: Statuses of a need still in play (withdrawn when its organisation is off-boarded).
OPEN_NEED_STATUSES = (NeedStatus.DRAFT, NeedStatus.REVIEW, NeedStatus.RETURNED, NeedStatus.PUBLISHED)
#: Account statuses that end every way in (sign-in, reset links); the account stays for the records.
CLOSED_ACCOUNT_STATUSES = (AccountStatus.DISABLED, AccountStatus.DELETED)
#: Statuses from which the owner may submit a need for review.
SUBMITTABLE_NEED_STATUSES = (NeedStatus.DRAFT, NeedStatus.RETURNED)
#: Statuses from which a need may be withdrawn (by its owner or an admin).
WITHDRAWABLE_NEED_STATUSES = (NeedStatus.DRAFT, NeedStatus.REVIEW, NeedStatus.RETURNED, NeedStatus.PUBLISHED)
#: Statuses in which a need may be marked fulfilled: published, or closed at its deadline.
FULFILLABLE_NEED_STATUSES = (NeedStatus.PUBLISHED, NeedStatus.CLOSED)
#: Stages in which the proposer may still edit its proposal (before the deadline).
PROPOSER_EDITABLE_STAGES = (ProposalStage.DRAFT, ProposalStage.SUBMITTED)
#: Stages of a case that is over: ended, declined or withdrawn (no follow-up check-ins).
CLOSED_STAGES = (ProposalStage.ENDED, *INACTIVE_STAGES)
