from django.apps import AppConfig


class DatametaConfig(AppConfig):
    """DataMeta's package as a Django app: its templates and template tags are found."""

    name = "deposits.repositories.datameta"
    label = "repositories_datameta"
    verbose_name = "DataMeta"
