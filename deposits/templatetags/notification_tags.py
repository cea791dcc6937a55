"""The bell's unread count on every page, and whether one follows a deposit."""

from __future__ import annotations

from typing import Any

from django import template

from deposits import notifications
from deposits.models import Deposit

register = template.Library()


@register.inclusion_tag("notifications/bell.html", takes_context=True)
def notification_count(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {"unread": notifications.unread_count(user) if user.is_authenticated else 0}


@register.simple_tag(takes_context=True)
def following(context: dict[str, Any], deposit: Deposit) -> bool:
    user = context["request"].user
    return bool(user.is_authenticated and notifications.is_following(deposit, user))
