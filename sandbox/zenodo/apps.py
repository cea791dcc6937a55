from django.apps import AppConfig


class SandboxZenodoConfig(AppConfig):
    """A faithful local stand-in of Zenodo's deposit API (reference/notes-zenodo.md)."""

    name = "sandbox.zenodo"
    label = "sandbox_zenodo"
    verbose_name = "Zenodo sandbox"
    default_auto_field = "django.db.models.BigAutoField"
