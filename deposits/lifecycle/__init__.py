"""The lifecycle of a target: the one place states change and steps run.

Views, admin and webhooks call the functions exported here; tasks call ``advance``,
``reconcile`` and ``verify_now``.
"""

from .accounts import (
    account_budget,
    check_account,
    check_base_url,
    link_account,
    refresh_schema_now,
    request_check,
    unlink_account,
    update_account,
    verify_account,
    verify_now,
)
from .describing import save_metadata
from .drafts import (
    add_target,
    allowed_actions,
    edit_locked_reason,
    offered_actions,
    problems_by_field,
    queue_action,
    remote_phase,
    remove_target,
    request,
    retry,
    revalidate,
    set_target_options,
    step_label,
)
from .fetching import fetch_now as fetch_lookup_now
from .identifiers import check as check_identifiers
from .identifiers import check_all as check_all_identifiers
from .lookups import Cached, cached, schema_for
from .lookups import refresh_stale as refresh_stale_lookups
from .lookups import request as request_lookup
from .policy import REVIEWED_ACTIONS, needs_review
from .reconciler import poll_published, published_targets_to_poll, reconcile
from .states import Conflict, NotAllowed, User, record_event, transition
from .worker import Outcome, advance

__all__ = [
    "REVIEWED_ACTIONS",
    "Cached",
    "Conflict",
    "NotAllowed",
    "Outcome",
    "User",
    "account_budget",
    "add_target",
    "advance",
    "allowed_actions",
    "cached",
    "check_account",
    "check_all_identifiers",
    "check_base_url",
    "check_identifiers",
    "edit_locked_reason",
    "fetch_lookup_now",
    "link_account",
    "needs_review",
    "offered_actions",
    "poll_published",
    "problems_by_field",
    "published_targets_to_poll",
    "queue_action",
    "reconcile",
    "record_event",
    "refresh_schema_now",
    "refresh_stale_lookups",
    "remote_phase",
    "remove_target",
    "request",
    "request_check",
    "request_lookup",
    "retry",
    "revalidate",
    "save_metadata",
    "schema_for",
    "set_target_options",
    "step_label",
    "transition",
    "unlink_account",
    "update_account",
    "verify_account",
    "verify_now",
]
