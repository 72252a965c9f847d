"""Proposal operations: verb-named functions that check the rules, change the
rows and flush. The calling view commits once (or rolls back on an error).

Stage changes go through `oims.workflow.change_stage`, which writes the event
and the audit entry and tells the proposer.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import batch, notify
from oims.core.reference import DECLINE_REASON_BY_CODE, PROPOSER_KINDS
from oims.core.vocabulary import (
    INACTIVE_STAGES,
    PROPOSER_EDITABLE_STAGES,
    AccountStatus,
    NeedStatus,
    Party,
    ProposalStage,
    Role,
)
from oims.extensions import db
from oims.models import Attachment, Need, Organisation, Proposal, User
from oims.models.base import utcnow
from oims.needs.services import accepts_proposals
from oims.policy import RESTRICTABLE_PARTS, proposal_role
from oims.proposals import lookups, receipts, workflow

# Limits of the text fields (the columns allow at least as much).
MAX_LENGTHS = {
    "title": 200, "summary": 2000, "solution": 10000, "track_record": 5000, "team": 2000,
    "schedule": 300, "cost": 300,
}
TEXT_FIELDS = tuple(MAX_LENGTHS)
REQUIRED_FOR_DRAFT = ("title",)
REQUIRED_FOR_SUBMISSION = ("title", "summary", "solution")
MAX_ANSWERS, MAX_ANSWER_LENGTH = 30, 300
MAX_DECLINE_NOTE = 2000
EDITABLE_STAGES = PROPOSER_EDITABLE_STAGES


class DuplicateProposal(ValidationFailed):
    """The organisation already has an active proposal for the need."""

    def __init__(self, existing: Proposal | None = None):
        self.existing = existing
        super().__init__(_("Your organisation already has an active proposal for this need. "
                           "Edit or withdraw that one instead of making a second."))


# --- rules -----------------------------------------------------------------------



def may_propose(user: User) -> bool:
    """Proposer accounts of SMEs, universities, institutes and startups."""
    return user.is_authenticated and user.role == Role.PROPOSER and user.organisation.kind in PROPOSER_KINDS


def active_proposal(need_id: int, org_id: int) -> Proposal | None:
    return db.session.scalar(select(Proposal).where(
        Proposal.need_id == need_id, Proposal.org_id == org_id,
        Proposal.stage.notin_(INACTIVE_STAGES)).limit(1))


def is_editable(proposal: Proposal) -> bool:
    return proposal.stage in EDITABLE_STAGES and accepts_proposals(proposal.need)


def can_edit(user: User, proposal: Proposal) -> bool:
    return proposal_role(user, proposal) == Party.PROPOSER and is_editable(proposal)


def can_withdraw(user: User, proposal: Proposal) -> bool:
    return ProposalStage.WITHDRAWN in workflow.allowed_targets(proposal, user)


def check_transition(proposal: Proposal, to_stage: str, actor: User) -> None:
    """Refuse early, before any input is looked at: NotAllowed when the actor's
    role never makes this move here, ValidationFailed when the stage does not
    allow it now."""
    role = proposal_role(actor, proposal)
    ever = set().union(*(who for (_frm, to), who in workflow.TRANSITIONS.items() if to == to_stage))
    if role not in ever:
        raise NotAllowed()
    allowed = workflow.TRANSITIONS.get((proposal.stage, to_stage))
    if allowed is None:
        raise ValidationFailed(_("This is not possible at the proposal's current stage (%(stage)s).",
                                 stage=workflow.stage_labels()[proposal.stage]))
    if role not in allowed:
        raise NotAllowed()


def _check_open(need: Need) -> None:
    if need.status != NeedStatus.PUBLISHED:
        raise ValidationFailed(_("This need is not open for proposals."))
    if not accepts_proposals(need):
        raise ValidationFailed(_("The deadline for proposals to this need (%(date)s) has passed.",
                                 date=need.deadline.isoformat()))


def _check_may_propose(need: Need, actor: User) -> None:
    if not may_propose(actor):
        raise NotAllowed()
    if need.owner_org_id == actor.organisation_id:
        raise ValidationFailed(_("You cannot propose to your own organisation's need."))
    if actor.organisation.is_pending:
        raise ValidationFailed(_("Your organisation is waiting for a coordinator of its bureau to check it; "
                                 "you can propose once it is approved."))


# --- input -----------------------------------------------------------------------

def answer_options(need: Need) -> list[str]:
    """The parts of a need a proposal can say it answers: its keywords, then the
    sentences (or lines) of what it seeks."""
    options: list[str] = []
    for kw in need.keywords or []:
        kw = (kw or "").strip()
        if kw and kw not in options:
            options.append(kw[:MAX_ANSWER_LENGTH])
    sought = (need.sought or "").strip()
    lines = [line.strip(" ・-•\t") for line in sought.splitlines() if line.strip(" ・-•\t")]
    if len(lines) <= 1:
        lines = [s.strip() + "。" for s in re.split(r"[。]", sought) if s.strip()]
    for line in lines:
        line = line[:MAX_ANSWER_LENGTH]
        if line not in options:
            options.append(line)
    return options


def clean_answers(values) -> list[str]:
    out: list[str] = []
    for value in values or []:
        value = (value or "").strip()
        if value and value not in out:
            out.append(value)
    return out


def _clean(data: dict, required: tuple[str, ...]) -> dict:
    """Trimmed text fields and answers, or ValidationFailed listing every problem."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for field, limit in MAX_LENGTHS.items():
        value = (data.get(field) or "").strip().replace("\r\n", "\n")
        if len(value) > limit:
            errors.setdefault(field, []).append(
                _("Too long: at most %(max)d characters (now %(n)d).", max=limit, n=len(value)))
        if field in required and not value:
            errors.setdefault(field, []).append(_("This field is required."))
        clean[field] = value
    answers = clean_answers(data.get("answers"))
    if len(answers) > MAX_ANSWERS:
        errors.setdefault("answers", []).append(
            _("Choose or write at most %(max)d points.", max=MAX_ANSWERS))
    if any(len(a) > MAX_ANSWER_LENGTH for a in answers):
        errors.setdefault("answers", []).append(
            _("Each point may have at most %(max)d characters.", max=MAX_ANSWER_LENGTH))
    clean["answers"] = answers
    if "after_nda" in data:  # staged disclosure: sections shown only after the NDA
        marked = [str(v) for v in (data.get("after_nda") or [])]
        if any(v not in RESTRICTABLE_PARTS for v in marked):
            errors.setdefault("after_nda", []).append(_("Only the listed sections can be disclosed after the NDA."))
        clean["after_nda"] = [p for p in RESTRICTABLE_PARTS if p in marked]
    if errors:
        raise ValidationFailed(errors)
    return clean


# --- operations --------------------------------------------------------------------

def create_proposal(need: Need, data: dict, *, actor: User, submit: bool = False,
                    attach: Callable[[Proposal], None] | None = None,
                    standing: tuple[int | None, int | None] | None = None) -> Proposal:
    """A new proposal of the actor's organisation to `need`, as a draft or
    submitted at once. `attach(proposal)` stores uploaded files before the
    receipt is made. `standing`: (active proposal id, invitation id) when read
    in this transaction already (`lookups.need_with_standing`). Raises NotAllowed,
    ValidationFailed or DuplicateProposal."""
    _check_may_propose(need, actor)
    _check_open(need)
    existing_id, invitation_id = standing or lookups.active_and_invitation(need.id, actor.organisation_id)
    if existing_id is not None:
        raise DuplicateProposal(db.session.get(Proposal, existing_id))
    clean = _clean(data, REQUIRED_FOR_SUBMISSION if submit else REQUIRED_FOR_DRAFT)
    # invitation_id given (None too): the matcher's hook need not look it up again.
    proposal = Proposal(need=need, need_id=need.id, org_id=actor.organisation_id, invitation_id=invitation_id,
                        created_by_id=actor.id, stage=ProposalStage.DRAFT, **clean)
    db.session.add(proposal)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Another request of the same organisation won the race; the partial
        # unique index refused this one. The transaction is dead: roll back
        # here (the session must work again to build the message).
        db.session.rollback()
        raise DuplicateProposal() from exc
    audit(actor, "proposal.created", proposal, need_id=need.id)
    attached = attach(proposal) if attach is not None else []
    if submit:
        # A proposal made in this transaction has exactly the files just saved
        # (`attach` returns them; None from an older hook: read them back).
        submit_proposal(proposal, actor=actor,
                        attachments=list(attached) if isinstance(attached, list | tuple) else None)
    return proposal


def update_proposal(proposal: Proposal, data: dict, *, actor: User, submit: bool = False,
                    attach: Callable[[Proposal], None] | None = None) -> Proposal:
    """Change a draft or submitted proposal before the deadline (and submit a
    draft when `submit`). A submitted proposal gets a new receipt for its new
    content; the previous hash is kept in the audit log."""
    if proposal_role(actor, proposal) != Party.PROPOSER:
        raise NotAllowed()
    _check_editable(proposal)
    required = REQUIRED_FOR_SUBMISSION if (submit or proposal.stage == ProposalStage.SUBMITTED) else REQUIRED_FOR_DRAFT
    clean = _clean(data, required)
    for field, value in clean.items():
        setattr(proposal, field, value)
    proposal.last_activity_at = utcnow()
    db.session.flush()
    if attach is not None:
        attach(proposal)
    if proposal.stage == ProposalStage.SUBMITTED:
        previous = proposal.receipt_hash
        _issue_receipt(proposal)
        audit(actor, "proposal.edited", proposal, previous_receipt_hash=previous,
              receipt_hash=proposal.receipt_hash)
    else:
        audit(actor, "proposal.edited", proposal)
    if submit and proposal.stage == ProposalStage.DRAFT:
        submit_proposal(proposal, actor=actor)
    return proposal


def _check_editable(proposal: Proposal) -> None:
    if proposal.stage not in EDITABLE_STAGES:
        raise ValidationFailed(_("This proposal can no longer be changed: it is already being screened "
                                 "or has been closed."))
    need = proposal.need
    if need.status != NeedStatus.PUBLISHED or not accepts_proposals(need):
        raise ValidationFailed(_("The deadline for proposals to this need (%(date)s) has passed; "
                                 "the proposal can no longer be changed.", date=need.deadline.isoformat()))


def submit_proposal(proposal: Proposal, *, actor: User, attachments: list[Attachment] | None = None) -> Proposal:
    """draft → submitted: check completeness, issue the receipt, tell the
    proposer's users and the coordinators of the need's bureau.

    Everything (stage, receipt, event, audit rows, notifications and their
    outbox e-mails) is written by the one conditional UPDATE's flush in
    `workflow.change_stage`; the people to tell are read in one query first.
    `attachments`: the proposal's files when the caller knows them (a proposal
    created in this transaction), else they are read."""
    if proposal_role(actor, proposal) != Party.PROPOSER:
        raise NotAllowed()
    if proposal.stage != ProposalStage.DRAFT:
        raise ValidationFailed(_("Only a draft can be submitted."))
    _check_open(proposal.need)
    _clean({f: getattr(proposal, f) for f in TEXT_FIELDS} | {"answers": proposal.answers},
           REQUIRED_FOR_SUBMISSION)
    # Reads first, without flushing: the changes below go out in one flush.
    with db.session.no_autoflush:
        if attachments is None:
            attachments = proposal_attachments(proposal)
        proposer_users, coordinators = lookups.submission_recipients(proposal)
    now = utcnow()
    proposal.submitted_at = now
    receipts.issue_receipt(proposal, attachments, now)
    with batch():  # every notification and e-mail of the submission: one INSERT per table
        _tell_coordinators(proposal, coordinators)
        workflow.change_stage(proposal, ProposalStage.SUBMITTED, actor, recipients=proposer_users)
    return proposal


def _issue_receipt(proposal: Proposal) -> None:
    """A new receipt for the current content of a submitted proposal, timestamped
    now (`submitted_at` stays the first submission: the KPI clock)."""
    receipts.issue_receipt(proposal, proposal_attachments(proposal), utcnow())


def withdraw_proposal(proposal: Proposal, *, actor: User, note: str = "") -> Proposal:
    note = (note or "").strip()
    if proposal_role(actor, proposal) != Party.PROPOSER:
        raise NotAllowed()
    if len(note) > MAX_DECLINE_NOTE:
        raise ValidationFailed({"note": [_("Too long: at most %(max)d characters (now %(n)d).",
                                           max=MAX_DECLINE_NOTE, n=len(note))]})
    if proposal.stage not in workflow.WITHDRAWABLE:
        raise ValidationFailed(_("A proposal cannot be withdrawn once a meeting has been agreed."))
    workflow.change_stage(proposal, ProposalStage.WITHDRAWN, actor, note=note)
    return proposal


def start_screening(proposal: Proposal, *, actor: User) -> Proposal:
    check_transition(proposal, ProposalStage.SCREENING, actor)
    workflow.change_stage(proposal, ProposalStage.SCREENING, actor)
    return proposal


def decline_proposal(proposal: Proposal, *, actor: User, reason: str, note: str = "") -> Proposal:
    """Decline with a reason from the fixed list plus free text; both reach
    the proposer through the workflow's notification and e-mail."""
    check_transition(proposal, ProposalStage.DECLINED, actor)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if reason not in DECLINE_REASON_BY_CODE:
        errors["reason"] = [_("Choose a reason from the list.")]
    if reason == "other" and not note:
        errors["note"] = [_("Explain the reason when you choose “Other”.")]
    if len(note) > MAX_DECLINE_NOTE:
        errors["note"] = [_("Too long: at most %(max)d characters (now %(n)d).", max=MAX_DECLINE_NOTE, n=len(note))]
    if errors:
        raise ValidationFailed(errors)
    proposal.decline_reason = reason
    proposal.decline_note = note
    workflow.change_stage(proposal, ProposalStage.DECLINED, actor, note=note)
    try:  # a declined case keeps no proposed or scheduled meeting
        from oims.brokerage.services import cancel_open_meetings
    except ImportError:  # pragma: no cover - brokerage not installed
        pass
    else:
        cancel_open_meetings(proposal)
    return proposal


def record_owner_view(proposal: Proposal, viewer: User) -> None:
    """Every view of a forwarded proposal by the need owner is audited."""
    audit(viewer, "proposal.viewed_by_owner", proposal, need_id=proposal.need_id)
    db.session.flush()


# --- queries and notifications ---------------------------------------------------------

def proposal_attachments(proposal: Proposal) -> list[Attachment]:
    if proposal.id is None:
        return []
    return list(db.session.scalars(
        select(Attachment).where(Attachment.proposal_id == proposal.id).order_by(Attachment.id)))


def bureau_coordinators(bureau: str) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Organisation, User.organisation_id == Organisation.id)
        .where(User.role == Role.COORDINATOR, User.status == AccountStatus.ACTIVE, Organisation.bureau == bureau)
        .order_by(User.id)))


def _tell_coordinators(proposal: Proposal, coordinators: list[User] | None = None) -> None:
    need = proposal.need
    org = db.session.get(Organisation, proposal.org_id)
    try:
        url = url_for("proposals.view", proposal_id=proposal.id)
    except RuntimeError:  # no request or app context with a server name
        url = ""
    for user in bureau_coordinators(need.bureau) if coordinators is None else coordinators:
        def text(org=org):
            return _("New proposal to screen: “%(title)s” from %(org)s",
                     title=proposal.title, org=org.name)

        notify(user, "proposal_submitted", text, url, email_template="proposal_submitted",
               subject=lambda: _("[OIMS] New proposal to screen"),
               proposal=proposal, need=need, org=org)
