"""A team's webhook subscriptions: the list, a new one (its secret shown once), one
subscription's details and delivery log, and the admins' buttons (re-enable, rotate the
secret, send a test event, delete). Every member may look; only admins change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from deposits import access
from deposits.lifecycle.states import NotAllowed
from deposits.models import DeliveryStatus, Event, Subscription, Team, WebhookEvent
from deposits.outbound import subscriptions as manage

from .request import HtmxHttpRequest

DELIVERIES_SHOWN = 50
HISTORY_SHOWN = 10
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class SubscriptionForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=1000,
        help_text="Where the portal POSTs each event (https://). It must answer 2xx.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/hooks/portal"}),
    )
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="Who receives it, for you."
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to be told of."},
    )


def _form_values(form: SubscriptionForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {"url": data["url"], "events": data["events"], "description": data["description"]}


def _is_admin(request: HtmxHttpRequest, team: Team) -> bool:
    return team.pk in access.admin_team_ids(request.user)


@require_http_methods(["GET"])
@login_required
def subscription_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for(request.user, pk)
    subscriptions = Subscription.objects.filter(team=team).order_by("url", "pk")
    rows = [(s, s.deliveries.order_by("-created", "-pk").first()) for s in subscriptions]
    return render(
        request,
        "subscriptions/list.html",
        {
            "team": team,
            "rows": rows,
            "can_manage": _is_admin(request, team),
            "teams": access.teams_for(request.user).order_by("name"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def subscription_new(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for(request.user, pk)
    access.require_admin(request.user, team, "add webhook subscriptions")
    form = SubscriptionForm(request.POST or None, initial={"events": WebhookEvent.values})
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = manage.create(team, user=request.user, **_form_values(form))
        except manage.Invalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            return _show_secret(request, subscription, secret, created=True)
    return render(request, "subscriptions/form.html", {"team": team, "form": form})


def _show_secret(
    request: HtmxHttpRequest, subscription: Subscription, secret: str, *, created: bool
) -> HttpResponse:
    """The secret, on this response only: never stored in clear, never shown again."""
    response = render(
        request,
        "subscriptions/secret.html",
        {"subscription": subscription, "secret": secret, "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def subscription_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = access.get_subscription_for(request.user, pk)
    team = subscription.team
    can_manage = _is_admin(request, team)
    initial = {k: getattr(subscription, k) for k in ("url", "description", "events")}
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST":
        access.require_admin(request.user, team, "change its webhook subscriptions")
        if form.is_valid():
            try:
                changed = manage.update(subscription, user=request.user, **_form_values(form))
            except manage.Invalid as exc:
                form.add_error(exc.field, str(exc))
            else:
                messages.success(request, "Saved." if changed else "Nothing changed.")
                return redirect("subscription", pk=subscription.pk)
    deliveries = list(subscription.deliveries.order_by("-created", "-pk")[:DELIVERIES_SHOWN])
    context = {
        "subscription": subscription,
        "team": team,
        "form": form,
        "can_manage": can_manage,
        "deliveries": deliveries,
        "polling": any(d.status in WAITING for d in deliveries),
        "history": Event.objects.filter(
            team=team, kind="webhook", data__subscription=subscription.pk
        ).select_related("actor")[:HISTORY_SHOWN],
    }
    if request.htmx and request.method == "GET":
        return render(request, "subscriptions/detail.html#delivery-log", context)
    return render(request, "subscriptions/detail.html", context)


def _refused(request: HtmxHttpRequest, exc: NotAllowed, pk: int) -> HttpResponse:
    messages.error(request, str(exc))
    return redirect("subscription", pk=pk)


@require_POST
@login_required
def subscription_enable(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = access.get_subscription_for(request.user, pk)
    count = manage.reenable(subscription, user=request.user)
    held = (
        f" The {count} held deliver{'y is' if count == 1 else 'ies are'} being sent."
        if count
        else ""
    )
    messages.success(request, f"Re-enabled.{held}")
    return redirect("subscription", pk=subscription.pk)


@require_POST
@login_required
def subscription_secret(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = access.get_subscription_for(request.user, pk)
    secret = manage.rotate_secret(subscription, user=request.user)
    return _show_secret(request, subscription, secret, created=False)


@require_POST
@login_required
def subscription_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = access.get_subscription_for(request.user, pk)
    try:
        manage.send_test(subscription, user=request.user)
    except NotAllowed as exc:
        return _refused(request, exc, subscription.pk)
    messages.success(request, "A test event is on its way: see the delivery log below.")
    return redirect("subscription", pk=subscription.pk)


def _named(subscription: Subscription) -> str:
    """A subscription in a sentence (a long URL would not wrap in a title)."""
    return f"“{subscription.description}”" if subscription.description else "its URL"


@require_http_methods(["GET", "POST"])
@login_required
def subscription_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    subscription = access.get_subscription_for(request.user, pk)
    team = subscription.team
    access.require_admin(request.user, team, "delete its webhook subscriptions")
    if request.method == "GET" or not request.POST.get("confirmed"):
        return render(
            request,
            "confirm.html",
            {
                "title": "Delete this webhook subscription?",
                "consequences": [
                    f"The portal stops telling {_named(subscription)} of {team}'s events.",
                    "Its delivery log is deleted; deliveries still waiting are not sent.",
                ],
                "action_url": reverse("subscription-delete", args=[subscription.pk]),
                "cancel_url": reverse("subscription", args=[subscription.pk]),
                "confirm_label": "Delete subscription",
                "action": "delete-subscription",
                "danger": True,
                "irreversible": True,
            },
        )
    manage.delete(subscription, user=request.user)
    name = f" “{subscription.description}”" if subscription.description else ""
    messages.success(request, f"Deleted the webhook subscription{name}.")
    return redirect("subscriptions", pk=team.pk)


urlpatterns = [
    path("teams/<int:pk>/webhooks/", subscription_list, name="subscriptions"),
    path("teams/<int:pk>/webhooks/new/", subscription_new, name="subscription-new"),
    path("webhooks/<int:pk>/", subscription_page, name="subscription"),
    path("webhooks/<int:pk>/enable/", subscription_enable, name="subscription-enable"),
    path("webhooks/<int:pk>/secret/", subscription_secret, name="subscription-secret"),
    path("webhooks/<int:pk>/test/", subscription_test, name="subscription-test"),
    path("webhooks/<int:pk>/delete/", subscription_delete, name="subscription-delete"),
]
