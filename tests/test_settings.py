"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_without_a_secret_key_fails_at_start_and_names_it():
    result = check({"PORTAL_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when PORTAL_ENV=production" in result.stderr


def test_production_without_token_keys_fails_at_start_and_names_them():
    result = check({"PORTAL_ENV": "production", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_starts_with_its_secrets_and_without_the_sandboxes():
    code = "import django; django.setup(); from django.conf import settings; print(settings.SANDBOX_ENABLED, settings.DEBUG)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_ENV": "production",
            "SECRET_KEY": "x" * 50,
            "TOKEN_ENCRYPTION_KEYS": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=",
        },
    )
    assert result.stdout.split() == ["False", "False"], result.stderr
