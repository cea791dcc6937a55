"""The curators' side: every model, scoped to the curator's teams (superusers: all);
tokens write-only; the audit trail, the API log and the threads read-only; metadata
edited through the portal's validated editor."""

from . import audit, curation, deposits, targets, teams, webhooks

__all__ = ["audit", "curation", "deposits", "targets", "teams", "webhooks"]
