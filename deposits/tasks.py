"""Celery tasks: a few lines each, loading by id and calling the lifecycle.

Every repository call happens here (through the lifecycle and a connector). A task never
sleeps while holding a worker: when the rate budget or a retry says "later", the task
queues itself again with a countdown and returns.
"""

from __future__ import annotations

from celery import shared_task

from deposits import lifecycle, notifications
from deposits.models import AccountStatus, LinkedAccount
from deposits.models.accounts import CheckState
from deposits.repositories.limiter import Priority

BACKGROUND = Priority.BACKGROUND


@shared_task(name="deposits.tasks.advance", acks_late=True, ignore_result=True)
def advance(target_id: int, priority: str = Priority.INTERACTIVE) -> None:
    outcome = lifecycle.advance(target_id, priority=Priority(priority))
    if outcome.again:
        advance.apply_async(
            args=(target_id,),
            kwargs={"priority": outcome.priority.value},
            countdown=outcome.countdown,
            queue=outcome.priority.queue,
        )


@shared_task(name="deposits.tasks.verify_account", acks_late=True, ignore_result=True)
def verify_account(
    account_id: int, priority: str = Priority.INTERACTIVE, asked: bool = True
) -> None:
    """One check of the token (then the repository's rules), claimed so it runs once."""
    if LinkedAccount.objects.filter(pk=account_id).exists():
        lifecycle.check_account(account_id, asked=asked, priority=Priority(priority))


@shared_task(name="deposits.tasks.reconcile", ignore_result=True)
def reconcile() -> int:
    return lifecycle.reconcile()


@shared_task(name="deposits.tasks.verify_stale_accounts", ignore_result=True)
def verify_stale_accounts() -> None:
    """Hourly: re-check tokens so a failing or expiring one is flagged before it is needed.

    A held token (refused once) is never tried by this: only a person lifts the hold.
    """
    accounts = LinkedAccount.objects.exclude(status=AccountStatus.UNVERIFIED).filter(
        held_since__isnull=True
    )
    for account_id in accounts.values_list("pk", flat=True):
        lifecycle.request_check(account_id, asked=False, priority=BACKGROUND)


@shared_task(name="deposits.tasks.refresh_schema", acks_late=True, ignore_result=True)
def refresh_schema(account_id: int) -> None:
    if LinkedAccount.objects.filter(pk=account_id).exists():
        lifecycle.refresh_schema_now(account_id)


@shared_task(name="deposits.tasks.refresh_schemas", ignore_result=True)
def refresh_schemas() -> None:
    """Every few hours: repositories change their published rules (DataMeta definitions).

    Not for a held token, nor while a check of the token runs (it fetches them itself).
    """
    accounts = LinkedAccount.objects.filter(held_since__isnull=True, check_state=CheckState.IDLE)
    for account_id in accounts.values_list("pk", flat=True):
        refresh_schema.apply_async(args=(account_id,), queue=BACKGROUND.queue)


@shared_task(name="deposits.tasks.fetch_lookup", acks_late=True, ignore_result=True)
def fetch_lookup(account_id: int, key: str, priority: str = Priority.INTERACTIVE) -> None:
    lifecycle.fetch_lookup_now(account_id, key, priority=Priority(priority))


@shared_task(name="deposits.tasks.refresh_lookups", ignore_result=True)
def refresh_lookups() -> int:
    return lifecycle.refresh_stale_lookups()


@shared_task(name="deposits.tasks.check_identifiers", ignore_result=True)
def check_identifiers() -> int:
    """Daily: each published target's identifiers that its repository can be asked about
    (Coscine's Handles) are checked; one that answers 410 is flagged and people told."""
    return lifecycle.check_all_identifiers()


@shared_task(name="deposits.tasks.check_target_identifiers", acks_late=True, ignore_result=True)
def check_target_identifiers(target_id: int) -> None:
    lifecycle.check_identifiers(target_id)


@shared_task(name="deposits.tasks.poll_published", acks_late=True, ignore_result=True)
def poll_published(target_id: int) -> None:
    lifecycle.poll_published(target_id)


@shared_task(name="deposits.tasks.poll_published_targets", ignore_result=True)
def poll_published_targets() -> None:
    """Results that arrive after publishing (DataMeta service executions), in the background."""
    for target_id in lifecycle.published_targets_to_poll():
        poll_published.apply_async(args=(target_id,), queue=BACKGROUND.queue)


@shared_task(name="deposits.tasks.sweep_orphans", ignore_result=True)
def sweep_orphans() -> int:
    """Delete drafts that interrupted creates left behind (lifecycle/watchdog.py)."""
    from deposits.lifecycle.watchdog import sweep_orphans as sweep

    return sweep()


@shared_task(name="deposits.tasks.send_notification_emails", acks_late=True, ignore_result=True)
def send_notification_emails(ids: list[int]) -> int:
    """The e-mails of new notifications (each claimed, so sent once)."""
    return notifications.send_emails(ids)


@shared_task(name="deposits.tasks.send_pending_emails", ignore_result=True)
def send_pending_emails() -> int:
    """Every minute: e-mails whose task never came (the broker was down) or failed."""
    return notifications.send_pending_emails()


# --------------------------------------------------------------------------- releases in


@shared_task(name="deposits.tasks.import_release", acks_late=True, ignore_result=True)
def import_release(release_id: int) -> None:
    """Download one release's archive and make it a new version of its deposit."""
    from deposits.releases.importing import import_release as run

    run(release_id)


@shared_task(name="deposits.tasks.sweep_releases", ignore_result=True)
def sweep_releases() -> int:
    """Every minute: releases received but not imported (the broker was down, a worker
    died, the deposit was busy) are taken up again."""
    from deposits.releases.importing import sweep

    return sweep()


@shared_task(name="deposits.tasks.list_releases", ignore_result=True)
def list_releases() -> int:
    """Periodically: list every source's releases through the forge's API."""
    from deposits.releases import listing

    return listing.list_all()


@shared_task(name="deposits.tasks.list_source_releases", acks_late=True, ignore_result=True)
def list_source_releases(source_id: int) -> None:
    from deposits.releases import listing

    listing.list_source(source_id)


@shared_task(name="deposits.tasks.check_forge_token", acks_late=True, ignore_result=True)
def check_forge_token(source_id: int) -> None:
    from deposits.releases import listing

    listing.check_token(source_id)


# --------------------------------------------------------------------------- notifications out


@shared_task(name="deposits.tasks.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt at one outbound delivery (claimed, so two workers never both send)."""
    from deposits.outbound import delivery

    delivery.deliver(delivery_id)


@shared_task(name="deposits.tasks.deliver_due_webhooks", ignore_result=True)
def deliver_due_webhooks() -> int:
    """Every 30 s: deliveries whose retry time has come, or whose task never came."""
    from deposits.outbound import delivery

    return delivery.deliver_due()
