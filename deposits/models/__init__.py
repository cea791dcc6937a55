from .accounts import AccountStatus, LinkedAccount
from .audit import ApiCall, Event
from .deposits import Deposit, DepositFile, FileStatus
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
    "FINAL_STATES",
    "IN_FLIGHT_STATES",
    "AccountStatus",
    "Action",
    "ApiCall",
    "Deposit",
    "DepositFile",
    "Event",
    "FileStatus",
    "Identifier",
    "LinkedAccount",
    "Membership",
    "RemoteFile",
    "RemoteFileStatus",
    "Role",
    "Scope",
    "State",
    "Target",
    "Team",
]
