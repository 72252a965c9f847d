"""Themed call pages: the public list and page of each call, and for those
who run a call: create, edit, attach and detach needs, and its KPI."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.calls import services
from oims.calls.forms import AttachNeedForm, CallForm
from oims.core import reference as ref
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.models import Need, ThemedCall
from oims.policy import can_manage_call, can_run_calls, owner_label
from oims.web.actions import run_action
from oims.web.i18n import current_locale

bp = Blueprint("calls", __name__, url_prefix="/calls")


def _call_or_404(call_id: int) -> ThemedCall:
    call = db.session.get(ThemedCall, call_id)
    if call is None:
        abort(404)
    return call


def _managed_or_404(call_id: int) -> ThemedCall:
    call = _call_or_404(call_id)
    if not can_manage_call(current_user, call):
        abort(404)
    return call


def _bureau_choices(form: CallForm, keep: str = "") -> None:
    codes = services.bureau_choices(current_user)
    if keep and keep not in codes:
        codes = [keep] + codes
    loc = current_locale()
    form.bureau.choices = [(c, ref.BUREAU_BY_CODE[c].label(loc)) for c in codes]


@bp.get("/")
def index():
    current, past = services.all_calls()
    counts = services.needs_count([c.id for c in current + past])
    return render_template("calls/index.html", current=current, past=past, counts=counts,
                           may_run=can_run_calls(current_user))


@bp.get("/<int:call_id>")
def view(call_id: int):
    call = _call_or_404(call_id)
    needs = services.listed_needs(call)
    loc = current_locale()
    labels = {n.id: owner_label(n, current_user if current_user.is_authenticated else None, loc) for n in needs}
    manage = can_manage_call(current_user, call)
    return render_template("calls/view.html", call=call, needs=needs, owner_labels=labels, manage=manage,
                           kpi=services.call_kpi(call) if manage else None, today=today_local())


def _form_page(form, call=None, status=200, general=()):
    attach = None
    if call is not None:
        attach = AttachNeedForm(formdata=None)
        attach.need_id.choices = [(0, "—")] + [(n.id, f"#{n.id} {n.title}") for n in services.attachable_needs(call)]
    return render_template("calls/edit.html", form=form, call=call, attach=attach, general=list(general),
                           needs=services.listed_needs(call) if call else []), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not can_run_calls(current_user):
        abort(403)
    form = CallForm()
    _bureau_choices(form)
    if request.method == "GET":
        form.bureau.data = current_user.bureau
        return _form_page(form)
    form.validate_on_submit()
    return run_action(
        lambda: services.create_call({f: getattr(form, f).data for f in services.FIELDS}, actor=current_user),
        success=lambda call: _("The call “%(title)s” is open. Now add published needs to it.", title=call.title),
        redirect_to=lambda call: url_for("calls.edit", call_id=call.id), form=form,
        on_invalid=lambda errors, status: _form_page(form, status=status, general=errors))


@bp.route("/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def edit(call_id: int):
    call = _managed_or_404(call_id)
    form = CallForm(obj=call) if request.method == "GET" else CallForm()
    _bureau_choices(form, call.bureau)
    if request.method == "GET":
        return _form_page(form, call)
    form.validate_on_submit()
    return run_action(
        lambda: services.update_call(call, {f: getattr(form, f).data for f in services.FIELDS}, actor=current_user),
        success=_("The call was saved."), redirect_to=url_for("calls.edit", call_id=call.id), form=form,
        on_invalid=lambda errors, status: _form_page(form, call, status, errors))


def _page_with_errors(call: ThemedCall, errors: list[str], status: int):
    """The edit page of `call` as saved, with the errors of an action on its needs."""
    edit_form = CallForm(obj=call, formdata=None)
    _bureau_choices(edit_form, call.bureau)
    return _form_page(edit_form, call, status, errors)


@bp.post("/<int:call_id>/needs")
@login_required
def add_need(call_id: int):
    call = _managed_or_404(call_id)
    form = AttachNeedForm()
    form.validate_on_submit()
    need = db.session.get(Need, form.need_id.data or 0)
    return run_action(
        lambda: services.attach_need(call, need, actor=current_user),
        success=_("The need was added to the call."), redirect_to=url_for("calls.edit", call_id=call.id),
        on_invalid=lambda errors, status: _page_with_errors(call, errors, status))


@bp.post("/<int:call_id>/needs/<int:need_id>/remove")
@login_required
def remove_need(call_id: int, need_id: int):
    call = _managed_or_404(call_id)
    return run_action(
        lambda: services.detach_need(call, need_id, actor=current_user),
        success=lambda removed: _("The need was removed from the call.") if removed else None,
        redirect_to=url_for("calls.edit", call_id=call.id))
