"""The Celery app. Tasks live in deposits/tasks.py; settings come from CELERY_* in settings.

Also the Redis transport the portal uses for ``redis://`` (and ``redis+socket://``) broker
URLs: kombu's, with one fix so that a worker outlives Redis going away (see ``QoS``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

log = logging.getLogger(__name__)


class QoS(kombu_redis.QoS):
    """kombu's Redis QoS, which leaves alone the messages of a connection that was lost.

    When the broker connection drops, Celery collects and closes it, and starts a new
    one. The messages already delivered on the old channel (the tasks running, those
    reserved or waiting for their countdown) are acknowledged, rejected or put back
    later through that closed channel, and kombu then fails with ``AttributeError:
    'NoneType' object has no attribute 'hostname'`` (or ``'client'``), which ends the
    worker. Nothing can reach Redis through a closed channel anyway: such a message
    stays in Redis's set of unacknowledged messages, from which kombu delivers it again
    after the visibility timeout (the lease and the reconciler resume its target
    sooner, and a second delivery of a finished step does nothing).
    """

    def _connection_lost(self) -> bool:
        transport = self.channel.connection
        return transport is None or transport.client is None

    def ack(self, delivery_tag: Any) -> None:
        if self._connection_lost():
            log.info("message %s not acknowledged: its broker connection was lost", delivery_tag)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if self._connection_lost():
            log.info("message %s not rejected: its broker connection was lost", delivery_tag)
            return
        super().reject(delivery_tag, requeue=requeue)

    def restore_unacked(self, client: Any = None) -> None:
        if self._connection_lost():
            return  # still in Redis's unacknowledged set, if Redis kept it
        super().restore_unacked(client)


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel


# Every process that sends or consumes tasks imports this module first (portal/__init__).
for _scheme in ("redis", "rediss"):
    TRANSPORT_ALIASES[_scheme] = "portal.celery:Transport"

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
