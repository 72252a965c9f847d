"""Translated labels of a need's statuses and fields (pages, e-mails, the identifying-text check)."""

from __future__ import annotations

from flask_babel import gettext as _

from oims.core.vocabulary import NeedStatus


def status_labels() -> dict[str, str]:
    return {NeedStatus.DRAFT: _("Draft"), NeedStatus.REVIEW: _("Under review"),
            NeedStatus.RETURNED: _("Returned with comments"), NeedStatus.PUBLISHED: _("Published"),
            NeedStatus.CLOSED: _("Closed"), NeedStatus.WITHDRAWN: _("Withdrawn"),
            NeedStatus.FULFILLED: _("Fulfilled")}


def field_labels() -> dict[str, str]:
    return {"title": _("Title"), "summary": _("Public summary"), "background": _("Background and problem"),
            "sought": _("Technology or capability sought"), "partnership_types": _("Partnership types"),
            "keywords": _("Fields / keywords"), "regions": _("Preferred regions"),
            "budget": _("Expected scale / budget"), "deadline": _("Proposal deadline"),
            "desired_start": _("Desired start"), "anonymous": _("Post anonymously")}
