from django.apps import AppConfig


class SandboxDatametaConfig(AppConfig):
    name = "sandbox.datameta"
    label = "sandbox_datameta"
    default_auto_field = "django.db.models.BigAutoField"
