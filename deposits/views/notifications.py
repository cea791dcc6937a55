"""A person's notifications: the bell's count, the list, read marks, e-mail choices, and
following a deposit. Only ever one's own: another person's notification is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deposits import access, notifications
from deposits.models import Notification, NotificationKind

from .request import HtmxHttpRequest

PER_PAGE = 50
# Sent with every change of read marks, so the bell counts again at once.
CHANGED = "notifications-changed"


def _own(request: HtmxHttpRequest, pk: int) -> Notification:
    return get_object_or_404(notifications.notifications_for(request.user), pk=pk)


def _bell(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request, "notifications/bell.html", {"unread": notifications.unread_count(request.user)}
    )


@require_GET
def notification_count(request: HtmxHttpRequest) -> HttpResponse:
    """The bell's count, polled: signed out (the session ended), nothing to swap in."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return _bell(request)


@require_GET
@login_required
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    mine = notifications.notifications_for(request.user)
    page = Paginator(mine.order_by("-created", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
    unread = notifications.unread_count(request.user)
    return render(request, "notifications/list.html", {"page": page, "unread": unread})


@require_POST
@login_required
def notification_read(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    notification = _own(request, pk)
    notifications.mark_read(notification)
    if request.htmx:
        notification.refresh_from_db()
        response = render(
            request, "notifications/list.html#notification-item", {"item": notification}
        )
        response["HX-Trigger"] = CHANGED
        return response
    return redirect("notifications")


@require_POST
@login_required
def notification_read_all(request: HtmxHttpRequest) -> HttpResponse:
    count = notifications.mark_all_read(request.user)
    if count:
        messages.success(request, f"Marked {count} notification(s) as read.")
    else:
        messages.info(request, "Nothing was unread.")
    return redirect("notifications")


def is_local(url: str) -> bool:
    """A path of this portal ("/deposits/3/"), never another site ("//evil", "https://")."""
    return (
        url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


@require_GET
@login_required
def notification_open(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read."""
    notification = _own(request, pk)
    notifications.mark_read(notification)
    if notification.url and is_local(notification.url):
        return redirect(notification.url)
    if notification.url:
        messages.warning(
            request,
            "That notification's link does not lead to a page of this portal, so it was not "
            "followed. It is marked as read.",
        )
    return redirect("notifications")


@require_http_methods(["GET", "POST"])
@login_required
def notification_settings(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        wanted = set(request.POST.getlist("email")) & set(NotificationKind.values)
        notifications.save_email_choices(request.user, wanted)
        messages.success(request, "Your e-mail choices are saved.")
        return redirect("notification-settings")
    chosen = notifications.email_choices(request.user)
    kinds = [(kind, label, chosen[kind]) for kind, label in NotificationKind.choices]
    return render(request, "notifications/settings.html", {"kinds": kinds})


@require_POST
@login_required
def deposit_follow(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Follow (or stop following) a deposit: told when it is published or fails."""
    deposit = access.get_deposit_for(request.user, pk)
    on = request.POST.get("follow") == "on"
    notifications.follow(deposit, request.user, on=on)
    if request.htmx:
        return render(
            request,
            "notifications/follow.html",
            {"deposit": deposit, "just_changed": True},
        )
    messages.success(
        request,
        "You follow this deposit: you are told when it is published or fails."
        if on
        else "You no longer follow this deposit.",
    )
    return redirect("deposit", pk=deposit.pk)
