"""Check-in operations. Functions flush; the caller (view or CLI) commits once."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update

from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.timeutil import today_local
from oims.core.vocabulary import CLOSED_STAGES, AccountStatus, Party, ProposalStage, Role
from oims.extensions import db
from oims.models import CheckIn, Meeting, Need, Proposal, User
from oims.models.base import utcnow
from oims.models.casework import CHECKIN_ANSWERS, CHECKIN_WEEKS
from oims.policy import proposal_role
from oims.proposals import workflow

TOKEN_SALT = "oims-checkin"
TOKEN_MAX_AGE = 60 * 24 * 3600  # a link works for 60 days
ANSWER_WITHIN = timedelta(days=7)  # unanswered after this: the case shows as stalled
MAX_NOTE = 2000


def answer_labels() -> dict[str, str]:
    # Every answer but "continuing" is the stage the case moves to (as far as the workflow allows).
    return {"continuing": _("Still talking; no NDA or PoC yet"), ProposalStage.NDA: _("We signed an NDA"),
            ProposalStage.POC: _("A PoC is under way"),
            ProposalStage.CONTRACT: _("We agreed joint development or a contract"),
            ProposalStage.ENDED: _("It did not continue")}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def make_token(checkin: CheckIn, user: User) -> str:
    return _serializer().dumps({"c": checkin.id, "u": user.id})


def read_token(token: str) -> tuple[CheckIn, User] | None:
    """The check-in and the user a link was made for, or None (bad, expired, or no longer a party)."""
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
        checkin, user = db.session.get(CheckIn, int(data["c"])), db.session.get(User, int(data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if checkin is None or user is None or not user.is_active:
        return None
    proposal = db.session.get(Proposal, checkin.proposal_id)
    if proposal_role(user, proposal) not in (Party.PROPOSER, Party.OWNER):
        return None
    return checkin, user


def _link(token: str) -> str:
    if has_request_context():
        return url_for("checkins.answer", token=token)
    with current_app.test_request_context("/"):
        return url_for("checkins.answer", token=token)


def due(now: datetime) -> list[tuple[Meeting, Proposal, int]]:
    """Held first meetings owed a check-in now: the latest due week not yet sent
    (a late first run sends one check-in, not three)."""
    out = []
    rows = db.session.execute(
        select(Meeting, Proposal).join(Proposal, Proposal.id == Meeting.proposal_id)
        .where(Meeting.status == "held", Meeting.starts_at.isnot(None), Meeting.starts_at <= now,
               Proposal.stage.notin_(CLOSED_STAGES))).all()
    sent: dict[int, set[int]] = {}
    if rows:
        for mid, weeks in db.session.execute(select(CheckIn.meeting_id, CheckIn.weeks).where(
                CheckIn.meeting_id.in_([m.id for m, _p in rows]))):
            sent.setdefault(mid, set()).add(weeks)
    for meeting, proposal in rows:
        owed = [w for w in CHECKIN_WEEKS if meeting.starts_at + timedelta(weeks=w) <= now]
        if owed and not any(w >= owed[-1] for w in sent.get(meeting.id, set())):
            out.append((meeting, proposal, owed[-1]))
    return out


def parties(proposal: Proposal) -> list[User]:
    """The active users of the proposing organisation and of the need's owner."""
    need = db.session.get(Need, proposal.need_id)
    return list(db.session.scalars(select(User).where(
        User.status == AccountStatus.ACTIVE,
        ((User.organisation_id == proposal.org_id) & (User.role == Role.PROPOSER))
        | ((User.organisation_id == need.owner_org_id) & (User.role.in_((Role.NEED_OWNER, Role.PROPOSER)))))
        .order_by(User.id)))


def send_checkins(now: datetime | None = None) -> int:
    """Create and send every check-in that is due; returns how many were created."""
    now = now or utcnow()
    count = 0
    for meeting, proposal, weeks in due(now):
        checkin = CheckIn(proposal_id=proposal.id, meeting_id=meeting.id, weeks=weeks, sent_at=now)
        db.session.add(checkin)
        db.session.flush()
        for user in parties(proposal):
            url = _link(make_token(checkin, user))
            notify(user, "checkin",
                   lambda w=weeks, t=proposal.title: _("%(weeks)d weeks since your first meeting on “%(title)s”: how is it going?",
                                     weeks=w, title=t),
                   url, email_template="checkin", subject=lambda: _("[OIMS] How did your first meeting go?"),
                   proposal=proposal, meeting=meeting, weeks=weeks)
        audit(None, "checkin.sent", checkin, proposal_id=proposal.id, weeks=weeks)
        count += 1
    db.session.flush()
    return count


def answer_checkin(checkin: CheckIn, *, actor: User, answer: str, note: str = "") -> CheckIn:
    """Record the answer and bring the case's stage in line with it (NDA, PoC,
    contract, ended), as far as the workflow allows from where the case is."""
    proposal = db.session.get(Proposal, checkin.proposal_id)
    role = proposal_role(actor, proposal)
    if role not in (Party.PROPOSER, Party.OWNER):
        raise NotAllowed()
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if answer not in CHECKIN_ANSWERS:
        errors["answer"] = [_("Choose one answer.")]
    if len(note) > MAX_NOTE:
        errors["note"] = [_("Too long: at most %(max)d characters (now %(n)d).", max=MAX_NOTE, n=len(note))]
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    # Both parties get a link: the first answer counts, in one conditional UPDATE.
    done = db.session.execute(update(CheckIn).where(CheckIn.id == checkin.id, CheckIn.answered_at.is_(None))
                              .values(answered_at=now, answered_by_id=actor.id, answer=answer, note=note))
    if done.rowcount != 1:
        raise ValidationFailed(_("This check-in has already been answered."))
    db.session.refresh(checkin)
    if answer != "continuing" and answer != proposal.stage:
        allowed = workflow.TRANSITIONS.get((proposal.stage, answer))
        if allowed and role in allowed:
            workflow.change_stage(proposal, answer, actor, note=note or _("Answered in a follow-up check-in."),
                                  on_date=today_local())
    proposal.last_activity_at = now
    audit(actor, "checkin.answered", checkin, proposal_id=proposal.id, answer=answer, stage=proposal.stage)
    db.session.flush()
    return checkin


def unanswered_checkins(user: User | None = None, now: datetime | None = None) -> list[CheckIn]:
    """Check-ins nobody answered within a week, in the coordinator's bureau (stalled cases)."""
    from flask_login import current_user

    user = user or current_user
    if user is None or not getattr(user, "is_staff", False):
        return []
    limit = (now or utcnow()) - ANSWER_WITHIN
    q = (select(CheckIn).join(Proposal, Proposal.id == CheckIn.proposal_id).join(Need, Need.id == Proposal.need_id)
         .where(CheckIn.answered_at.is_(None), CheckIn.sent_at < limit).order_by(CheckIn.sent_at))
    if not user.is_admin:
        q = q.where(Need.bureau == user.bureau)
    return list(db.session.scalars(q))


def case_checkins(proposal_id: int) -> list[CheckIn]:
    """The check-ins of one case, oldest first (a Jinja global for the case page)."""
    return list(db.session.scalars(select(CheckIn).where(CheckIn.proposal_id == proposal_id)
                                   .order_by(CheckIn.sent_at, CheckIn.id)))
