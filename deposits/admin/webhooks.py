"""Release sources, their deliveries and releases, and webhook subscriptions with their
deliveries: shown to curators of the team, read-only (team admins manage them in the
portal, where secrets are made and shown once). No secret or token is ever displayed."""

from __future__ import annotations

from django.contrib import admin

from deposits.models import Delivery, OutboundDelivery, Release, ReleaseSource, Subscription

from .scoping import ReadOnlyAdmin

SECRETS = ["secret_encrypted", "token_encrypted"]


@admin.register(ReleaseSource)
class ReleaseSourceAdmin(ReadOnlyAdmin):
    list_display = [
        "repository",
        "forge",
        "team",
        "deposit",
        "enabled",
        "token_status",
        "listed_at",
    ]
    list_filter = ["forge", "enabled", "token_status", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["repository", "deposit__title"]
    list_select_related = ["team", "deposit"]
    exclude = SECRETS


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    team_path = "source__team"
    list_display = ["tag", "source", "status", "found_by", "created", "message"]
    list_filter = ["status", "found_by"]
    search_fields = ["tag", "name", "source__repository"]
    list_select_related = ["source"]
    date_hierarchy = "created"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    team_path = "source__team"
    list_display = ["received_at", "source", "event", "action", "outcome", "http_status"]
    list_filter = ["outcome", "event"]
    search_fields = ["delivery_id", "source__repository", "message"]
    list_select_related = ["source"]
    date_hierarchy = "received_at"


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "team", "enabled", "consecutive_failures", "disabled_at"]
    list_filter = ["enabled", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "description"]
    list_select_related = ["team"]
    exclude = SECRETS[:1]


@admin.register(OutboundDelivery)
class OutboundDeliveryAdmin(ReadOnlyAdmin):
    team_path = "subscription__team"
    list_display = ["created", "subscription", "event", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event"]
    search_fields = ["message_id", "subscription__url"]
    list_select_related = ["subscription"]
    date_hierarchy = "created"
