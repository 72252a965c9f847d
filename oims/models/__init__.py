"""All models, re-exported so `from oims.models import Need` works."""

from .brokerage import Invitation, Meeting, MeetingSlot, ThreadMessage
from .calls import ThemedCall, ThemedCallNeed
from .casework import CaseTerms, CheckIn, Endorsement, FairDealingReport
from .imports import ImportJob
from .matchfeed import Judgment, MatchAlert, MatchSubscription
from .matching import MatchChange, MatchCursor, MatchItem
from .messaging import AuditLog, Notification, OutboxMessage
from .needs import Attachment, Need, NeedVersion
from .orgs import Organisation, OrgJoinRequest
from .proposals import Proposal, ProposalEvent, ProposalReceipt
from .ratings import OwnerRating
from .users import ApiToken, PasswordResetToken, User

__all__ = [
    "ApiToken", "Attachment", "AuditLog", "CaseTerms", "CheckIn", "Endorsement", "FairDealingReport",
    "ImportJob", "Invitation", "Judgment", "MatchAlert", "MatchChange", "MatchCursor", "MatchItem",
    "MatchSubscription", "Meeting", "MeetingSlot", "Need", "NeedVersion", "Notification", "OrgJoinRequest",
    "Organisation", "OutboxMessage", "OwnerRating", "PasswordResetToken", "Proposal", "ProposalEvent",
    "ProposalReceipt", "ThemedCall", "ThemedCallNeed", "ThreadMessage", "User",
]
