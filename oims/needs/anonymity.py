"""The identifying-text gate: an anonymous need whose text or files name its
owner is not submitted or published without someone taking responsibility.

The check itself (what names the owner, where) is `oims.needs.identity`; this is
the rule applied at submission (the owner acknowledges) and at publication
(the coordinator gives a reason). Both are audit-logged with what was found.
"""

from __future__ import annotations

from flask_babel import gettext as _

from oims.audit.log import audit
from oims.core.exceptions import ValidationFailed
from oims.models import Need, User
from oims.needs import identity
from oims.needs.validation import LIMITS, too_long


class IdentifyingText(ValidationFailed):
    """An anonymous need's text or files name its owner; `findings` says where."""

    def __init__(self, findings: list, message: str):
        self.findings = findings
        super().__init__({"": [message]})


def require_anonymity(need: Need, actor: User, *, acknowledged: bool = False, override_reason: str = "",
                      stage: str = "submission") -> list:
    """Before submission (owner) and publication (coordinator) of an anonymous need.

    The owner goes on after acknowledging the findings; the coordinator only
    with a reason. Either is audit-logged with what was found. Returns the findings.
    """
    if not need.anonymous:
        return []
    findings = identity.check_need(need)
    if not findings:
        return []
    if stage == "publication":
        reason = (override_reason or "").strip()
        if not reason:
            raise IdentifyingText(findings, _(
                "The need is to be published anonymously but its text or files name the owner. Redact them, "
                "return the need to its owner, or publish anyway with a reason."))
        if len(reason) > LIMITS["comment"]:
            raise ValidationFailed({"": [too_long(LIMITS["comment"], reason)]})
        audit(actor, "need.anonymity_override", need, reason=reason, findings=identity.summary(findings))
    else:
        if not acknowledged:
            raise IdentifyingText(findings, _(
                "Your need is anonymous, but its text or files name your organisation. Redact the marked "
                "words, or confirm that they may stay."))
        audit(actor, "need.identifying_text_acknowledged", need, findings=identity.summary(findings))
    return findings
