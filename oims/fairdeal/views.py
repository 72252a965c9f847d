"""Fair-dealing routes: record a case's key terms, report a problem privately,
and the bureau's list of reports. Access first (404/403), then one service
call and one commit."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.brokerage.views import _case as load_case
from oims.brokerage.views import _render_case
from oims.core.vocabulary import Party
from oims.extensions import db
from oims.fairdeal import services
from oims.fairdeal.forms import ReportForm, TermsForm
from oims.models import Proposal, User
from oims.policy import staff_required
from oims.web.actions import run_action

bp = Blueprint("fairdeal", __name__, url_prefix="/fair-dealing")


def case_panel(proposal: Proposal, role: str) -> dict:
    """What the case page shows of fair dealing to `current_user` (a Jinja global)."""
    terms = services.terms_of(proposal)
    terms_form = getattr(g, "fairdeal_terms_form", None)
    if terms_form is None:
        terms_form = TermsForm(formdata=None, prefix="terms")
        if terms is not None:
            terms_form.load(terms)
    terms_form.fill_choices()
    report_form = getattr(g, "fairdeal_report_form", None) or ReportForm(formdata=None, prefix="report")
    report_form.fill_choices()
    return {
        "open": services.terms_open(proposal), "terms": terms, "warnings": services.warnings(terms),
        "terms_form": terms_form, "report_form": report_form, "may_report": role == Party.PROPOSER,
        "reports": services.reports_for(proposal, current_user), "categories": services.category_labels(),
        "ip_owners": services.ip_owner_labels(),
    }


def _case(proposal_id: int):
    return load_case(proposal_id)


def _rerender(proposal, role, general):
    db.session.rollback()
    return _render_case(proposal, role, 400, general)


@bp.post("/case/<int:proposal_id>/terms")
@login_required
def save_terms(proposal_id: int):
    proposal, role = _case(proposal_id)
    if role not in services.PARTIES:
        abort(403)
    form = TermsForm(prefix="terms")
    form.fill_choices()
    g.fairdeal_terms_form = form
    if not form.validate_on_submit():
        return _rerender(proposal, role, [])
    return run_action(
        lambda: services.record_terms(proposal, form.service_data(), actor=current_user),
        success=lambda terms: _("The key terms were recorded. Please look at the warnings below.")
        if services.warnings(terms) else _("The key terms were recorded."),
        category=lambda terms: "warning" if services.warnings(terms) else "success",
        redirect_to=url_for("brokerage.case", proposal_id=proposal.id) + "#fair-dealing", form=form,
        on_invalid=lambda errors, status: _rerender(proposal, role, errors))


@bp.post("/case/<int:proposal_id>/report")
@login_required
def report(proposal_id: int):
    proposal, role = _case(proposal_id)
    if role != Party.PROPOSER:
        abort(403)
    form = ReportForm(prefix="report")
    form.fill_choices()
    g.fairdeal_report_form = form
    if not form.validate_on_submit():
        return _rerender(proposal, role, [])
    return run_action(
        lambda: services.report_problem(proposal, actor=current_user, category=form.category.data or "",
                                        body=form.body.data or ""),
        success=_("Your report was sent to the bureau's coordinators. The need owner does not see it."),
        redirect_to=url_for("brokerage.case", proposal_id=proposal.id) + "#fair-dealing", form=form,
        on_invalid=lambda errors, status: _rerender(proposal, role, errors))


@bp.get("/reports")
@staff_required
def reports():
    items = services.bureau_reports(current_user)
    proposals = {p.id: p for p in db.session.query(Proposal).filter(
        Proposal.id.in_({r.proposal_id for r in items}))} if items else {}
    reporters = {u.id: u for u in db.session.query(User).filter(
        User.id.in_({r.reporter_id for r in items}))} if items else {}
    return render_template("fairdeal/reports.html", items=items, proposals=proposals, reporters=reporters,
                           categories=services.category_labels())
