"""All models, re-exported so `from oims.models import Need` works."""

from oims.models.brokerage import Invitation, Meeting, MeetingSlot, ThreadMessage
from oims.models.calls import ThemedCall, ThemedCallNeed
from oims.models.casework import CaseTerms, CheckIn, Endorsement, FairDealingReport
from oims.models.files import StoredFile
from oims.models.imports import ImportJob
from oims.models.matchfeed import Judgment, MatchAlert, MatchSubscription
from oims.models.matching import MatchChange, MatchCursor, MatchItem
from oims.models.messaging import AuditLog, Notification, OutboxMessage
from oims.models.needs import Attachment, Need, NeedVersion
from oims.models.orgs import Organisation, OrgJoinRequest
from oims.models.proposals import Proposal, ProposalEvent, ProposalReceipt
from oims.models.ratings import OwnerRating
from oims.models.users import ApiToken, PasswordResetToken, User

__all__ = [
    "ApiToken", "Attachment", "AuditLog", "CaseTerms", "CheckIn", "Endorsement", "FairDealingReport",
    "ImportJob", "Invitation", "Judgment", "MatchAlert", "MatchChange", "MatchCursor", "MatchItem",
    "MatchSubscription", "Meeting", "MeetingSlot", "Need", "NeedVersion", "Notification", "OrgJoinRequest",
    "Organisation", "OutboxMessage", "OwnerRating", "PasswordResetToken", "Proposal", "ProposalEvent",
    "ProposalReceipt", "StoredFile", "ThemedCall", "ThemedCallNeed", "ThreadMessage", "User",
]
