from django.apps import AppConfig


class SandboxForgeConfig(AppConfig):
    """Local stand-ins of GitHub's and GitLab's release APIs and webhooks."""

    name = "sandbox.forge"
    label = "sandbox_forge"
    verbose_name = "Code forge sandbox"
    default_auto_field = "django.db.models.BigAutoField"
