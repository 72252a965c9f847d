"""All models, re-exported so `from oims.models import Need` works."""

from .brokerage import Invitation, Meeting, MeetingSlot, ThreadMessage
from .casework import CaseTerms, CheckIn, Endorsement, FairDealingReport
from .imports import ImportJob
from .matchfeed import Judgment, MatchAlert, MatchSubscription
from .matching import MatchChange, MatchCursor, MatchItem
from .messaging import AuditLog, Notification, OutboxMessage
from .needs import Attachment, Need, NeedVersion
from .orgs import Organisation, OrgJoinRequest
from .proposals import Proposal, ProposalEvent, ProposalReceipt
from .users import ApiToken, PasswordResetToken, User

__all__ = [
    "ApiToken", "Attachment", "AuditLog", "CaseTerms", "CheckIn", "Endorsement", "FairDealingReport",
    "ImportJob", "Invitation", "Judgment", "MatchAlert", "MatchChange", "MatchCursor", "MatchItem",
    "MatchSubscription", "Meeting", "MeetingSlot", "Need", "NeedVersion", "Notification", "OrgJoinRequest",
    "Organisation", "OutboxMessage", "PasswordResetToken", "Proposal", "ProposalEvent", "ProposalReceipt",
    "ThreadMessage", "User",
]
