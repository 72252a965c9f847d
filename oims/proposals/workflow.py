"""Proposal stage transitions: who may move a proposal from which stage to
which, and the one function that does it (event, audit, notification).

Actors are the `Party` a user plays on the proposal: PROPOSER (its
organisation), OWNER (the need's organisation, once forwarded) and COORDINATOR
(staff of the need's bureau, or an admin).
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from oims.audit.log import audit
from oims.core.concurrency import claim_state
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import batch, notify
from oims.core.reference import DECLINE_REASON_BY_CODE
from oims.core.vocabulary import AccountStatus, Party, ProposalStage
from oims.extensions import db
from oims.models import Proposal, ProposalEvent, User
from oims.models.base import utcnow
from oims.policy import proposal_role
from oims.web.i18n import current_locale

S = ProposalStage
P, OWN, C = Party.PROPOSER, Party.OWNER, Party.COORDINATOR  # the three sides of a case
WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.SCREENING, S.SHORTLISTED, S.MEETING_REQUESTED)

TRANSITIONS: dict[tuple[ProposalStage, ProposalStage], set[Party]] = {
    (S.DRAFT, S.SUBMITTED): {P},
    (S.SUBMITTED, S.SCREENING): {C},
    (S.SUBMITTED, S.DECLINED): {C},
    (S.SCREENING, S.SHORTLISTED): {C},
    (S.SCREENING, S.DECLINED): {C},
    (S.SHORTLISTED, S.MEETING_REQUESTED): {OWN, C},
    (S.SHORTLISTED, S.DECLINED): {OWN, C},
    (S.MEETING_REQUESTED, S.MEETING_SCHEDULED): {P, OWN, C},
    (S.MEETING_REQUESTED, S.DECLINED): {OWN, C},
    (S.MEETING_SCHEDULED, S.MET): {P, OWN, C},
    (S.MEETING_SCHEDULED, S.ENDED): {OWN, C},
    (S.MET, S.NDA): {P, OWN, C},
    (S.MET, S.POC): {P, OWN, C},
    (S.MET, S.CONTRACT): {P, OWN, C},
    (S.MET, S.ENDED): {P, OWN, C},
    (S.NDA, S.POC): {P, OWN, C},
    (S.NDA, S.CONTRACT): {P, OWN, C},
    (S.NDA, S.ENDED): {P, OWN, C},
    (S.POC, S.CONTRACT): {P, OWN, C},
    (S.POC, S.ENDED): {P, OWN, C},
    (S.CONTRACT, S.ENDED): {P, OWN, C},
}
for _stage in WITHDRAWABLE:
    TRANSITIONS[(_stage, S.WITHDRAWN)] = {P}


def allowed_targets(proposal: Proposal, user: User) -> list[str]:
    role = proposal_role(user, proposal)
    return [to for (frm, to), who in TRANSITIONS.items() if frm == proposal.stage and role in who]


def change_stage(proposal: Proposal, to_stage: str, actor: User, *, note: str = "",
                 on_date: date | None = None, notify_proposer: bool = True,
                 on_behalf_of: str | None = None, recipients: list[User] | None = None) -> ProposalEvent:
    """Move `proposal` to `to_stage` or raise NotAllowed / ValidationFailed.

    Records a ProposalEvent and an audit entry and tells the proposer's
    users (in-app and e-mail; `recipients` when the caller has already read
    them). Flushes once — the conditional UPDATE of the stage together with
    every row added here and before — and the caller commits.
    `on_behalf_of` lets an admin act as one side (off-boarding an
    organisation withdraws its proposals as the proposer would).
    """
    role = proposal_role(actor, proposal)
    if on_behalf_of is not None:
        if not actor.is_admin:
            raise NotAllowed()
        role = on_behalf_of
    allowed = TRANSITIONS.get((proposal.stage, to_stage))
    if allowed is None:
        raise ValidationFailed(_("A proposal cannot move from this stage to that one."))
    if role not in allowed:
        raise NotAllowed()
    from_stage = proposal.stage
    if notify_proposer and recipients is None:
        with db.session.no_autoflush:  # the changes pending so far go out with the UPDATE below
            recipients = proposer_recipients(proposal)
    with batch():  # notifications and e-mails: one INSERT per table, after the UPDATE
        event = ProposalEvent(proposal=proposal, from_stage=from_stage, to_stage=to_stage,
                              actor_id=actor.id, note=note, on_date=on_date)
        db.session.add(event)
        audit(actor, f"proposal.{to_stage}", proposal, from_stage=event.from_stage,
              **({"on_behalf_of": on_behalf_of} if on_behalf_of else {}))
        if notify_proposer:
            _tell_proposer(proposal, to_stage, note, recipients)
        # The one conditional UPDATE, flushed with the rows added above: of two
        # concurrent changes from the same stage, exactly one moves the proposal;
        # the other gets StaleState and its whole transaction (event, audit,
        # notifications) is rolled back.
        claim_state(proposal, "stage", from_stage, to_stage, _stale_message, last_activity_at=utcnow())
    return event


def _stale_message(current: str | None) -> str:
    if current is None:
        return _("Someone else changed this proposal in the meantime. Nothing was changed; "
                 "reload the page to see its current state.")
    return _("Someone else changed this proposal in the meantime: it is now “%(stage)s”. Nothing was changed.",
             stage=stage_labels().get(current, current))


def proposer_recipients(proposal: Proposal) -> list[User]:
    """The proposing organisation's active users (told of every stage change)."""
    return list(db.session.scalars(select(User).where(
        User.organisation_id == proposal.org_id, User.status == AccountStatus.ACTIVE).order_by(User.id)))


def _tell_proposer(proposal: Proposal, to_stage: str, note: str, recipients: list[User]) -> None:
    reason = ""
    if to_stage == ProposalStage.DECLINED and proposal.decline_reason in DECLINE_REASON_BY_CODE:
        reason = DECLINE_REASON_BY_CODE[proposal.decline_reason]
    for user in recipients:
        def text(u=user):
            base = _("Your proposal “%(title)s” is now: %(stage)s",
                     title=proposal.title, stage=stage_labels()[to_stage])
            if to_stage != ProposalStage.DECLINED:
                return base
            # The decline notice carries the structured reason and the owner's note (issue 13).
            parts = [base]
            if reason:
                parts.append(_("Reason: %(reason)s", reason=reason.label(current_locale())))
            if note:
                parts.append(note)
            return " — ".join(parts)

        notify(user, "proposal_stage", text, _proposal_url(proposal),
               email_template="proposal_stage", subject=lambda: _("[OIMS] Proposal status update"),
               proposal=proposal, stage=to_stage, note=note, reason=reason)


def _proposal_url(proposal: Proposal) -> str:
    try:
        return url_for("proposals.view", proposal_id=proposal.id)
    except Exception:  # noqa: BLE001 - proposals blueprint not registered (library use)
        return ""


def stage_labels():
    """Translated stage names in the current locale (inside a request, or under
    `force_locale` for a recipient's language)."""
    return {
        S.DRAFT: _("Draft"), S.SUBMITTED: _("Proposal submitted"), S.SCREENING: _("Under screening"),
        S.SHORTLISTED: _("Shortlisted (forwarded to the need owner)"),
        S.MEETING_REQUESTED: _("Meeting requested"), S.MEETING_SCHEDULED: _("Meeting scheduled"),
        S.MET: _("Met"), S.NDA: _("NDA signed"), S.POC: _("PoC under way"),
        S.CONTRACT: _("Joint development / contract"), S.ENDED: _("Ended"),
        S.DECLINED: _("Declined"), S.WITHDRAWN: _("Withdrawn"),
    }
