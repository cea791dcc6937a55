"""Handing release work to the workers, once the transaction that asked for it commits.

With the broker down nothing is lost: a received release stays ``received`` and the
every-minute sweep (``importing.sweep``) takes it up; a listing or a token check waits for
the next periodic run. A request never fails for it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from deposits.repositories.limiter import Priority

log = logging.getLogger(__name__)

_BROKER_DOWN = (OperationalError, RedisConnectionError, RedisTimeoutError)


def _send(task: str, arg: int, priority: Priority) -> None:
    from celery import current_app

    def send() -> None:
        try:
            current_app.send_task(f"deposits.tasks.{task}", args=[arg], queue=priority.queue)
        except _BROKER_DOWN as exc:
            log.warning("%s(%s) not queued (broker down; the sweep will): %s", task, arg, exc)

    transaction.on_commit(send)


def enqueue_import(release_id: int, priority: Priority = Priority.BACKGROUND) -> None:
    _send("import_release", release_id, priority)


def enqueue_listing(source_id: int, priority: Priority = Priority.BACKGROUND) -> None:
    _send("list_source_releases", source_id, priority)


def enqueue_token_check(source_id: int, priority: Priority = Priority.INTERACTIVE) -> None:
    _send("check_forge_token", source_id, priority)
