"""Themed call pages: the public list and page of each call, and for those
who run a call: create, edit, attach and detach needs, and its KPI."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.calls import services
from oims.calls.forms import AttachNeedForm, CallForm
from oims.core import reference as ref
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.models import Need, ThemedCall
from oims.policy import can_manage_call, can_run_calls, owner_label
from oims.web.forms import apply_errors
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
    try:
        call = services.create_call({f: getattr(form, f).data for f in services.FIELDS}, actor=current_user)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationFailed as exc:
        db.session.rollback()
        return _form_page(form, status=400, general=apply_errors(form, exc))
    db.session.commit()
    flash(_("The call “%(title)s” is open. Now add published needs to it.", title=call.title), "success")
    return redirect(url_for("calls.edit", call_id=call.id))


@bp.route("/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def edit(call_id: int):
    call = _managed_or_404(call_id)
    form = CallForm(obj=call) if request.method == "GET" else CallForm()
    _bureau_choices(form, call.bureau)
    if request.method == "GET":
        return _form_page(form, call)
    form.validate_on_submit()
    try:
        services.update_call(call, {f: getattr(form, f).data for f in services.FIELDS}, actor=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        return _form_page(form, call, 400, apply_errors(form, exc))
    db.session.commit()
    flash(_("The call was saved."), "success")
    return redirect(url_for("calls.edit", call_id=call.id))


@bp.post("/<int:call_id>/needs")
@login_required
def add_need(call_id: int):
    call = _managed_or_404(call_id)
    form = AttachNeedForm()
    form.validate_on_submit()
    need = db.session.get(Need, form.need_id.data or 0)
    try:
        services.attach_need(call, need, actor=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        edit_form = CallForm(obj=call, formdata=None)
        _bureau_choices(edit_form, call.bureau)
        return _form_page(edit_form, call, 400, [m for ms in exc.errors.values() for m in ms])
    db.session.commit()
    flash(_("The need was added to the call."), "success")
    return redirect(url_for("calls.edit", call_id=call.id))


@bp.post("/<int:call_id>/needs/<int:need_id>/remove")
@login_required
def remove_need(call_id: int, need_id: int):
    call = _managed_or_404(call_id)
    if services.detach_need(call, need_id, actor=current_user):
        db.session.commit()
        flash(_("The need was removed from the call."), "success")
    return redirect(url_for("calls.edit", call_id=call.id))
