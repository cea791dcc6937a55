from .accounts import AccountStatus, LinkedAccount, ReviewRule
from .audit import ApiCall, Event
from .deposits import Deposit, DepositFile, FileStatus
from .notifications import EMAIL_BY_DEFAULT, EmailChoice, Notification, NotificationKind
from .review import Comment, CommentKind, ReviewRequest, ReviewState
from .targets import (
    FINAL_STATES,
    IN_FLIGHT_STATES,
    Action,
    Identifier,
    RemoteFile,
    RemoteFileStatus,
    Scope,
    State,
    Target,
)
from .teams import Membership, Role, Team

__all__ = [
    "EMAIL_BY_DEFAULT",
    "FINAL_STATES",
    "IN_FLIGHT_STATES",
    "AccountStatus",
    "Action",
    "ApiCall",
    "Comment",
    "CommentKind",
    "Deposit",
    "DepositFile",
    "EmailChoice",
    "Event",
    "FileStatus",
    "Identifier",
    "LinkedAccount",
    "Membership",
    "Notification",
    "NotificationKind",
    "RemoteFile",
    "RemoteFileStatus",
    "ReviewRequest",
    "ReviewRule",
    "ReviewState",
    "Role",
    "Scope",
    "State",
    "Target",
    "Team",
]
