"""Stage actions on the proposal page (routes of the proposals blueprint):
submit, withdraw, start screening, decline. Each finds the proposal, checks the
actor's side, then runs one service through `run_action`; a refusal shows the
proposal page again with the errors."""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.vocabulary import Party, ProposalStage
from oims.policy import proposal_role
from oims.proposals import services
from oims.proposals.forms import DeclineForm, WithdrawForm
from oims.proposals.views import bp, proposal_or_404, render_view
from oims.web.actions import error_messages, run_action


def _run(proposal, action, success: str, **forms):
    """One stage action: commit and back to the proposal page, or the page again (400/409) with the errors."""
    form = next(iter(forms.values()), None)
    return run_action(
        action, success=success, redirect_to=url_for("proposals.view", proposal_id=proposal.id), form=form,
        on_invalid=lambda errors, status: render_view(proposal, status, general_errors=errors, **forms))


@bp.post("/<int:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    if proposal_role(current_user, proposal) != Party.PROPOSER:
        abort(403)
    return _run(proposal, lambda: services.submit_proposal(proposal, actor=current_user),
                _("Your proposal was submitted. Keep the receipt below as proof of what you sent and when."))


@bp.post("/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    if proposal_role(current_user, proposal) != Party.PROPOSER:
        abort(403)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_view(proposal, 400, withdraw_form=form)
    return _run(proposal, lambda: services.withdraw_proposal(proposal, actor=current_user, note=form.note.data or ""),
                _("Your proposal was withdrawn."), withdraw_form=form)


@bp.post("/<int:proposal_id>/screen")
@login_required
def start_screening(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    return _run(proposal, lambda: services.start_screening(proposal, actor=current_user),
                _("Screening started. The proposer has been told."))


@bp.post("/<int:proposal_id>/decline")
@login_required
def decline(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    # Refused before the form is read, so a side that may never decline gets 403, not
    # form errors. Nothing was changed yet (no rollback, no commit): not a run_action.
    try:
        services.check_transition(proposal, ProposalStage.DECLINED, current_user)
    except NotAllowed:
        abort(403)
    except ValidationFailed as exc:
        return render_view(proposal, 400, general_errors=error_messages(exc))
    form = DeclineForm()
    form.fill_choices()
    if not form.validate_on_submit():
        return render_view(proposal, 400, decline_form=form)
    return _run(proposal, lambda: services.decline_proposal(
        proposal, actor=current_user, reason=form.reason.data or "", note=form.note.data or ""),
        _("The proposal was declined. The proposer has been told the reason."), decline_form=form)
