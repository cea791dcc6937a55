from django.apps import AppConfig


class SandboxZenodoConfig(AppConfig):
    name = "sandbox.zenodo"
    label = "sandbox_zenodo"
    default_auto_field = "django.db.models.BigAutoField"
