"""Outbound webhooks: a receiver on 127.0.0.1 is allowed (SUBSCRIPTION_PRIVATE_HOSTS) and
retries come at once, unless a test says otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lifecycle.conftest import connector  # noqa: F401 (the scripted repository)
from tests.lifecycle.test_review import reviewed  # noqa: F401 (a ready target under review policy)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def local(settings: Any) -> Any:
    settings.SUBSCRIPTION_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.SUBSCRIPTION_ALLOWED_HOSTS = ["*"]
    settings.WEBHOOK_RETRY_SECONDS = [0.0, 0.0]
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 20
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    return settings
