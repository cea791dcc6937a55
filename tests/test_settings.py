"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def settings_of(env: dict[str, str], expression: str) -> str:
    """``expression`` evaluated on the settings a process gets from ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("SANDBOX_URL", "_HOSTS"))}
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_debug_pages_only_when_asked_for():
    assert settings_of({}, "settings.DEBUG") == "False"
    assert settings_of({"DEBUG": "1"}, "settings.DEBUG") == "True"


def test_each_sandbox_has_a_url_of_its_own_defaulting_to_the_demo_ports():
    urls = settings_of({}, "settings.SANDBOX_URLS['zenodo'], settings.SANDBOX_URLS['datameta']")
    assert urls.split() == ["http://127.0.0.1:8001", "http://127.0.0.1:8002"]


def test_the_allowlist_names_each_sandbox_host_and_port_not_every_port_of_the_host():
    hosts = settings_of(
        {
            "ZENODO_SANDBOX_URL": "http://127.0.0.1:8101/",
            "DATAMETA_SANDBOX_URL": "http://127.0.0.1:8102",
            "COSCINE_SANDBOX_URL": "http://127.0.0.1:8104",
            "S3_SANDBOX_URL": "http://127.0.0.1:8105",
        },
        "','.join(settings.ALLOWED_REPOSITORY_HOSTS)",
    ).split(",")
    assert hosts == [
        "zenodo.org",
        "sandbox.zenodo.org",
        "data.cogdat.de",
        "coscine.rwth-aachen.de",
        "127.0.0.1:8101",
        "127.0.0.1:8102",
        "127.0.0.1:8104",
        "127.0.0.1:8105",
    ]


def test_production_allows_no_sandbox_host():
    hosts = settings_of(
        {
            "PORTAL_ENV": "production",
            "SECRET_KEY": "x" * 50,
            "TOKEN_ENCRYPTION_KEYS": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=",
        },
        "','.join(settings.ALLOWED_REPOSITORY_HOSTS)",
    )
    assert hosts == "zenodo.org,sandbox.zenodo.org,data.cogdat.de,coscine.rwth-aachen.de"


def test_a_host_and_port_entry_allows_only_that_port(settings):
    from deposits import lifecycle
    from deposits.repositories.http import host_allowed

    settings.ALLOWED_REPOSITORY_HOSTS = ["zenodo.org", "127.0.0.1:8101"]

    assert lifecycle.check_base_url("http://127.0.0.1:8101/api") == "http://127.0.0.1:8101/api"
    assert host_allowed("http://127.0.0.1:8101/api/files/x", settings.ALLOWED_REPOSITORY_HOSTS)
    with pytest.raises(lifecycle.NotAllowed, match=r"127\.0\.0\.1 is not an allowed"):
        lifecycle.check_base_url("http://127.0.0.1:8102/api")
    assert not host_allowed("http://127.0.0.1:8102/api", settings.ALLOWED_REPOSITORY_HOSTS)
    assert not host_allowed("http://127.0.0.1/api", settings.ALLOWED_REPOSITORY_HOSTS)


def test_a_host_entry_allows_any_port_of_that_host(settings):
    from deposits import lifecycle
    from deposits.repositories.http import host_allowed

    settings.ALLOWED_REPOSITORY_HOSTS = ["zenodo.org", "127.0.0.1:8101"]

    assert lifecycle.check_base_url("https://zenodo.org/api") == "https://zenodo.org/api"
    assert lifecycle.check_base_url("https://zenodo.org:8443/api") == "https://zenodo.org:8443/api"
    assert host_allowed("https://zenodo.org:8443/api", settings.ALLOWED_REPOSITORY_HOSTS)
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.check_base_url("https://sandbox.zenodo.org/api")


def test_a_port_entry_matches_the_port_a_scheme_implies(settings):
    from deposits import lifecycle
    from deposits.repositories.http import host_allowed

    settings.ALLOWED_REPOSITORY_HOSTS = ["data.example.org:443"]

    assert lifecycle.check_base_url("https://data.example.org") == "https://data.example.org"
    assert not host_allowed("http://data.example.org", settings.ALLOWED_REPOSITORY_HOSTS)


def test_production_passes_the_deploy_check_clean():
    """HTTPS redirect, HSTS and secure cookies on: ``manage.py check --deploy`` says
    nothing (the demo's insecure defaults would each be a warning)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            # the browser tests allow sync ORM calls beside Playwright's loop in this
            # process; a deployment never does, so neither does this check
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "PORTAL_ENV": "production",
            "SECRET_KEY": "k3y-" + "Zx9#qP2@" * 8,
            "TOKEN_ENCRYPTION_KEYS": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=",
            "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_forge_sandbox_is_allowed_for_release_sources_not_as_a_repository():
    env = {
        "FORGE_SANDBOX_URL": "http://127.0.0.1:8103",
        "ZENODO_SANDBOX_URL": "http://127.0.0.1:8101",
    }
    forges = settings_of(env, "','.join(settings.ALLOWED_FORGE_HOSTS)").split(",")
    repositories = settings_of(env, "','.join(settings.ALLOWED_REPOSITORY_HOSTS)").split(",")
    assert forges == ["api.github.com", "codeload.github.com", "gitlab.com", "127.0.0.1:8103"]
    assert "127.0.0.1:8103" not in repositories and "127.0.0.1:8101" in repositories
