from django.apps import AppConfig


class SandboxCoscineConfig(AppConfig):
    """A local stand-in of Coscine's Web API v2 (projects, resources, profiles, Handles)."""

    name = "sandbox.coscine"
    label = "sandbox_coscine"
    verbose_name = "Coscine sandbox"
    default_auto_field = "django.db.models.BigAutoField"
