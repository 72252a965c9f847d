"""All models, re-exported so `from oims.models import Need` works."""

from .brokerage import Invitation, Meeting, MeetingSlot, ThreadMessage
from .matching import MatchChange, MatchCursor, MatchItem
from .messaging import AuditLog, Notification, OutboxMessage
from .needs import Attachment, Need, NeedVersion
from .orgs import Organisation, OrgJoinRequest
from .proposals import Proposal, ProposalEvent
from .users import ApiToken, PasswordResetToken, User

__all__ = [
    "ApiToken", "Attachment", "AuditLog", "Invitation", "MatchChange", "MatchCursor", "MatchItem", "Meeting",
    "MeetingSlot", "Need",
    "NeedVersion", "Notification", "OrgJoinRequest", "Organisation", "OutboxMessage",
    "PasswordResetToken", "Proposal", "ProposalEvent", "ThreadMessage", "User",
]
