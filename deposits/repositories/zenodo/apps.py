from django.apps import AppConfig


class ZenodoConfig(AppConfig):
    """Zenodo's package as a Django app: its templates and template tags are found."""

    name = "deposits.repositories.zenodo"
    label = "repositories_zenodo"
    verbose_name = "Zenodo"
