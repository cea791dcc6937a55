"""Forms of the portal: the metadata editor, new deposits and targets, linked accounts."""

from .accounts import AccountForm
from .deposits import DashboardFilters, NewDepositForm, TargetsForm
from .metadata import MetadataEditor

__all__ = ["AccountForm", "DashboardFilters", "MetadataEditor", "NewDepositForm", "TargetsForm"]
