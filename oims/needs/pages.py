"""What the need pages show: the detail page's context, the edit and review
pages with their drafting help and identifying-text findings, and the one-click
redaction of posted wording. The routes are in `oims.needs.views`; nothing here
changes the database."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from oims.core.vocabulary import NeedStatus
from oims.insight.figures import badge_figures
from oims.models import Need
from oims.needs import drafting, identity
from oims.needs.aliases import descriptor
from oims.needs.anonymity import IdentifyingText
from oims.needs.forms import AttachmentForm
from oims.needs.labels import field_labels, status_labels
from oims.needs.search import has_active_proposal
from oims.needs.services import accepts_proposals
from oims.needs.uploads import attachments_of, display_name
from oims.needs.versions import coordinator_edits, version_diffs, versions_for
from oims.policy import (
    can_attach_to_need,
    can_edit_need,
    can_fulfil_need,
    can_manage_need,
    can_propose_to_need,
    can_review_need,
    can_submit_need,
    can_withdraw_need,
    is_need_owner,
    owner_label,
    sees_need_history,
    sees_owner,
)
from oims.web.actions import error_messages
from oims.web.forms import apply_errors
from oims.web.i18n import current_locale

# --- the detail page ---------------------------------------------------------------------------

def page_context(need: Need) -> dict:
    user = current_user
    return {
        "need": need,
        "owner_name": owner_label(need, user, current_locale()),
        "sees_owner": sees_owner(user, need),
        "is_owner": is_need_owner(user, need),
        "is_manager": can_manage_need(user, need),
        "can_edit": can_edit_need(user, need),
        "can_submit": can_submit_need(user, need),
        "can_withdraw": can_withdraw_need(user, need),
        "can_fulfil": can_fulfil_need(user, need),
        "can_review": can_review_need(user, need),
        "can_propose": accepts_proposals(need) and can_propose_to_need(user, need),
        "has_proposal": has_active_proposal(user, need),
        "attachments": [(a, display_name(a, user)) for a in attachments_of(need)],
        "can_attach": can_attach_to_need(user, need),
        "versions": versions_for(need, user),
        "coordinator_edits": version_diffs(need, coordinator_edits(need)) if sees_need_history(user, need) else [],
        "status_labels": status_labels(),
        "field_labels": field_labels(),
        "attach_form": AttachmentForm(),
        "response_badge": (badge_figures([need])[need.id]
                           if need.status in (NeedStatus.PUBLISHED, NeedStatus.CLOSED) else None),
    }


def view_page(need: Need, status: int = 200, errors: list[str] | None = None):
    return render_template("needs/view.html", errors=errors or [], **page_context(need)), status


def view_page_refused(need: Need, exc, status: int, **flags):
    """The detail page after a refused action; identifying-text findings shown
    with `flags` (identity_submit / identity_upload) saying which action to confirm."""
    if isinstance(exc, IdentifyingText):
        return render_template("needs/view.html", errors=error_messages(exc), **flags,
                               **findings_context(exc.findings, "owner"), **page_context(need)), status
    return view_page(need, status, error_messages(exc))


# --- the identifying-text check ------------------------------------------------------------------

def findings_context(findings, mode: str, override_reason: str = "") -> dict:
    return {"findings": findings or [], "kind_labels": identity.kind_labels(), "mode": mode,
            "override_reason": override_reason}


def redact_form(form, org, need: Need | None, value: str) -> None:
    """Apply a one-click redaction ("stars:<key>", "alias:<key>", "stars:*") to the posted text."""
    mode, _sep, key = (value or "").partition(":")
    terms = identity.identifying_terms(org)
    chosen = [t for t in terms if key == "*" or t.key == key]
    if not chosen:
        return
    base_ja, base_en = descriptor(org)
    alias_ja = need.alias if need is not None and need.alias else base_ja
    alias_en = need.alias_en if need is not None and need.alias_en else base_en
    for name in identity.TEXT_FIELDS:
        field = getattr(form, name)
        if not isinstance(field.data, str):
            continue
        text = field.data
        for _term, start, end in reversed(identity.find_in(text, terms)):
            if _term in chosen:
                if mode == "alias":
                    repl = alias_en if _term.key.isascii() else alias_ja
                else:
                    repl = "＊＊＊"
                text = text[:start] + repl + text[end:]
        field.data = text


# --- the edit page ---------------------------------------------------------------------------------

def drafting_panel(values: dict, need_id: int | None, checked: bool = False) -> dict:
    """The drafting-help panel: quality checklist and score, similar past needs, proposers' words."""
    items, score = drafting.quality_check(values)
    return {"items": items, "score": score, "checked": checked,
            "similar": drafting.similar_needs(values, user=current_user, exclude_id=need_id),
            "words": drafting.proposer_words(values)}


def edit_page(form, need: Need | None, *, general=(), findings=(), checked: bool = False, status: int = 200):
    """The new/edit page: the form, the drafting help and the findings of the identifying-text check."""
    return render_template("needs/edit.html", form=form, need=need, general=list(general),
                           drafting=drafting_panel(form.values(), need.id if need is not None else None, checked),
                           **findings_context(list(findings), "owner")), status


def edit_page_refused(form, need: Need | None):
    """`run_action`'s on_refused for the new/edit page: the errors on the form, the findings beside it."""
    def show(exc, status: int):
        findings = exc.findings if isinstance(exc, IdentifyingText) else []
        return edit_page(form, need, general=apply_errors(form, exc), findings=findings, status=status)
    return show


# --- the review page -------------------------------------------------------------------------------

def review_page(need: Need, form, return_form, *, general=(), findings=(), override_reason: str = "",
                status: int = 200):
    return render_template("needs/review.html", need=need, form=form, return_form=return_form,
                           general=list(general), owner_name=need.owner_org.display_name(current_locale()),
                           **findings_context(list(findings), "coordinator", override_reason)), status


def review_findings_page(need: Need, form, return_form, override_reason: str):
    """The review page as loaded, or after a one-click redaction of the posted wording (nothing saved)."""
    status = 200
    if request.method == "GET":
        form.load(need)
        findings = identity.check_need(need) if need.anonymous else []
    elif form.validate_on_submit():
        redact_form(form, need.owner_org, need, request.form["redact"])
        findings = identity.check_need(need, form.values()) if form.anonymous.data else []
    else:
        findings, status = [], 400
    return review_page(need, form, return_form, findings=findings, override_reason=override_reason, status=status)


def review_page_refused(need: Need, form, return_form, override_reason: str):
    """`run_action`'s on_refused for publishing: the errors on the form, the findings beside it."""
    def show(exc, status: int):
        findings = exc.findings if isinstance(exc, IdentifyingText) else []
        return review_page(need, form, return_form, general=apply_errors(form, exc), findings=findings,
                           override_reason=override_reason, status=status)
    return show
