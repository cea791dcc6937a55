from django.apps import AppConfig


class CoscineConfig(AppConfig):
    """Coscine's package as a Django app: its templates and template tags are found."""

    name = "deposits.repositories.coscine"
    label = "repositories_coscine"
    verbose_name = "Coscine"
