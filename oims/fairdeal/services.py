"""Fair-dealing operations. Every function checks who acts, changes rows and
flushes; the calling view commits once."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.vocabulary import Party
from oims.extensions import db
from oims.models import CaseTerms, FairDealingReport, Need, Proposal, User
from oims.models.base import utcnow
from oims.models.casework import IP_OWNERS, REPORT_CATEGORIES
from oims.policy import nda_recorded, proposal_role
from oims.proposals.services import bureau_coordinators

MAX_TEXT = 2000
MAX_REPORT = 4000
PARTIES = tuple(Party)


def ip_owner_labels() -> dict[str, str]:
    return {"owner": _("The need owner alone"), "proposer": _("The proposer alone"),
            "joint": _("Jointly owned"), "contribution": _("Each side by its contribution")}


def category_labels() -> dict[str, str]:
    return {"unpaid_poc": _("Unpaid PoC or work requested without payment"),
            "nda_abuse": _("NDA abuse (information used beyond its purpose)"),
            "ip_grab": _("One-sided demands on intellectual property"),
            "delay": _("Unreasonable delay or sudden cancellation"), "other": _("Other")}


def terms_open(proposal: Proposal) -> bool:
    """Terms are recorded once the case reaches the NDA or PoC stage."""
    return nda_recorded(proposal)


def terms_of(proposal: Proposal) -> CaseTerms | None:
    return db.session.scalar(select(CaseTerms).where(CaseTerms.proposal_id == proposal.id))


def warnings(terms: CaseTerms | None) -> list[tuple[str, str]]:
    """(code, message) for each pattern the guideline flags in these terms."""
    if terms is None:
        return []
    out = []
    has_nda = bool(terms.nda_scope) or terms.nda_mutual is not None or terms.nda_term_months is not None
    has_poc = bool(terms.poc_scope) or terms.poc_weeks is not None or terms.poc_paid is not None
    if has_poc and terms.poc_paid is False:
        out.append(("unpaid_poc", _("Unpaid PoC: the guideline asks that PoC work be paid for; having a "
                                    "startup or SME work for free may abuse a superior bargaining position.")))
    if terms.ip_owner == "owner":
        out.append(("one_sided_ip", _("One-sided ownership of the results: all results go to the need owner. "
                                      "The guideline flags this; consider joint ownership or ownership by "
                                      "contribution.")))
    if has_nda and terms.nda_term_months is None:
        out.append(("nda_no_term", _("The NDA has no term: the guideline flags NDAs without a period. "
                                     "Agree on one (for example one to three years).")))
    if terms.nda_mutual is False:
        out.append(("one_way_nda", _("One-way NDA: only one side's information is protected. The guideline "
                                     "recommends a mutual NDA.")))
    return out


def _clean_terms(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    clean = {}
    for name in ("nda_scope", "poc_scope"):
        value = (data.get(name) or "").strip()
        if len(value) > MAX_TEXT:
            errors[name] = [_("Too long: at most %(max)d characters (now %(n)d).", max=MAX_TEXT, n=len(value))]
        clean[name] = value
    for name, low, high in (("nda_term_months", 1, 240), ("poc_weeks", 1, 260), ("poc_fee_yen", 0, 10**11)):
        value = data.get(name)
        if value in (None, ""):
            clean[name] = None
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not low <= value <= high:
            errors[name] = [_("Enter a number between %(low)d and %(high)d.", low=low, high=high)]
        clean[name] = value
    for name in ("nda_mutual", "poc_paid"):
        value = data.get(name)
        clean[name] = {"yes": True, "no": False}.get(value) if value not in (None, "") else None
        if value not in (None, "", "yes", "no"):
            errors[name] = [_("Choose yes or no.")]
    ip_owner = data.get("ip_owner") or ""
    if ip_owner and ip_owner not in IP_OWNERS:
        errors["ip_owner"] = [_("Choose who owns the results from the list.")]
    clean["ip_owner"] = ip_owner
    if clean.get("poc_paid") is True and clean.get("poc_fee_yen") in (None, 0) and "poc_fee_yen" not in errors:
        errors["poc_fee_yen"] = [_("Enter the amount of a paid PoC.")]
    if errors:
        raise ValidationFailed(errors)
    return clean


def record_terms(proposal: Proposal, data: dict, *, actor: User) -> CaseTerms:
    """Create or update the case's key terms (either party or the coordinator)."""
    if proposal_role(actor, proposal) not in PARTIES:
        raise NotAllowed()
    if not terms_open(proposal):
        raise ValidationFailed(_("Key terms are recorded once the case reaches the NDA or PoC stage."))
    clean = _clean_terms(data)
    terms = terms_of(proposal)
    if terms is None:
        terms = CaseTerms(proposal_id=proposal.id)
        db.session.add(terms)
    for name, value in clean.items():
        setattr(terms, name, value)
    terms.updated_by_id = actor.id
    terms.updated_at = utcnow()
    proposal.last_activity_at = utcnow()
    db.session.flush()
    audit(actor, "case.terms_recorded", proposal, warnings=[code for code, _m in warnings(terms)])
    db.session.flush()
    return terms


def report_problem(proposal: Proposal, *, actor: User, category: str, body: str) -> FairDealingReport:
    """A proposer tells the bureau's coordinators privately about a problem.
    Never shown to the need owner; the audit entry holds no text."""
    if proposal_role(actor, proposal) != Party.PROPOSER:
        raise NotAllowed()
    body = (body or "").strip()
    errors: dict[str, list[str]] = {}
    if category not in REPORT_CATEGORIES:
        errors["category"] = [_("Choose what the problem is about.")]
    if not body:
        errors["body"] = [_("Describe the problem.")]
    elif len(body) > MAX_REPORT:
        errors["body"] = [_("Too long: at most %(max)d characters (now %(n)d).", max=MAX_REPORT, n=len(body))]
    if errors:
        raise ValidationFailed(errors)
    report = FairDealingReport(proposal_id=proposal.id, reporter_id=actor.id, category=category, body=body)
    db.session.add(report)
    db.session.flush()
    audit(actor, "case.problem_reported", report, proposal_id=proposal.id)
    try:
        url = url_for("brokerage.case", proposal_id=proposal.id) + "#fair-dealing"
    except RuntimeError:
        url = ""
    for coordinator in bureau_coordinators(proposal.need.bureau):
        notify(coordinator, "fair_dealing_report",
               lambda: _("A proposer reported a problem in a case (fair dealing): “%(title)s”", title=proposal.title),
               url, email_template="fairdeal_report",
               subject=lambda: _("[OIMS] A proposer reported a problem to the bureau"), proposal=proposal)
    return report


def reports_for(proposal: Proposal, viewer: User) -> list[FairDealingReport]:
    """Reports on a case: all of them for its bureau's coordinators, the
    proposer's own organisation's for the proposer, none for anyone else."""
    role = proposal_role(viewer, proposal)
    q = select(FairDealingReport).where(FairDealingReport.proposal_id == proposal.id).order_by(FairDealingReport.id)
    if role == Party.COORDINATOR:
        return list(db.session.scalars(q))
    if role == Party.PROPOSER:
        return list(db.session.scalars(q.where(FairDealingReport.reporter_id.in_(
            select(User.id).where(User.organisation_id == viewer.organisation_id)))))
    return []


def bureau_reports(viewer: User) -> list[FairDealingReport]:
    q = (select(FairDealingReport).join(Proposal, Proposal.id == FairDealingReport.proposal_id)
         .join(Need, Need.id == Proposal.need_id).order_by(FairDealingReport.id.desc()))
    if not viewer.is_admin:
        q = q.where(Need.bureau == viewer.bureau)
    return list(db.session.scalars(q))
