"""What a repository serves that forms and validation need and that changes rarely
(Coscine's projects and application profiles, Cristin's persons): cached per linked
account, fetched only by workers (``lifecycle.lookups``)."""

from __future__ import annotations

from django.db import models

from .accounts import LinkedAccount


class Lookup(models.Model):
    account = models.ForeignKey(LinkedAccount, on_delete=models.CASCADE, related_name="lookups")
    # the connector's own key, e.g. "licenses", "profile:https://purl.org/coscine/ap/base/"
    key = models.CharField(max_length=500)
    data = models.JSONField(null=True, blank=True)  # None until first fetched
    digest = models.CharField(max_length=64, blank=True)  # of ``data``: a change re-validates
    fetched_at = models.DateTimeField(null=True, blank=True)
    # a worker was asked for it (not asked again meanwhile); cleared when it answers
    requested_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)  # last read (to the hour): kept fresh
    error = models.TextField(blank=True)  # the last fetch's failure, readable

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="one_lookup_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.key}"
