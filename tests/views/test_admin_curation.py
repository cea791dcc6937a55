"""Curators in the admin (issue 10): each sees their own teams only, superusers all; the
metadata is edited through the portal's validated editor; stuck and failed targets are
found and retried; the API log is filtered and shows no secret; the review queue and the
curation figures."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import responses
from django.contrib import admin as django_admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits import lifecycle
from deposits.lifecycle import review
from deposits.lifecycle.jobs import build_client
from deposits.models import (
    ApiCall,
    Comment,
    CommentKind,
    Event,
    LinkedAccount,
    ReviewRequest,
    ReviewState,
    State,
    Target,
    Team,
)
from tests.factories import (
    AccountFactory,
    DepositFactory,
    MembershipFactory,
    TargetFactory,
    TeamFactory,
    UserFactory,
    add_file,
)
from tests.views.conftest import signed_in

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- the cast


@pytest.fixture
def curator(team: Team) -> Any:
    """Grace: a curator of Lab A, staff (the admin), not a superuser."""
    user = UserFactory(username="grace", is_staff=True)
    MembershipFactory(team=team, user=user, role="curator")
    return user


@pytest.fixture
def curator_client(curator: Any) -> Client:
    return signed_in(curator)


@pytest.fixture
def root_client(db: Any) -> Client:
    return signed_in(UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.fixture
def other_team(db: Any) -> Team:
    return TeamFactory(name="Lab B", slug="lab-b")


@pytest.fixture
def other_target(other_team: Team) -> Target:
    """Lab B's deposit, account, target and one API call of its account."""
    account = AccountFactory(team=other_team, label="Lab B Zenodo")
    deposit = DepositFactory(team=other_team, metadata={"titles": [{"title": "Lab B secret"}]})
    target = TargetFactory(deposit=deposit, account=account)
    ApiCall.objects.create(account=account, target=target, method="GET", url="https://b/x")
    lifecycle.record_event(target, "note", message="Lab B's own line")
    return target


def changelist(client: Client, model: str, **params: Any) -> Any:
    response = client.get(reverse(f"admin:deposits_{model}_changelist"), params)
    assert response.status_code == 200, (model, response.status_code)
    return response


def listed(client: Client, model: str, **params: Any) -> list[Any]:
    return list(changelist(client, model, **params).context["cl"].queryset)


def change_url(obj: Any) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def run_action(client: Client, model: str, action: str, objs: list[Any], query: str = "") -> Any:
    return client.post(
        reverse(f"admin:deposits_{model}_changelist") + query,
        {"action": action, "_selected_action": [o.pk for o in objs]},
        follow=True,
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --------------------------------------------------------------------------- who sees what


def test_every_new_model_is_registered() -> None:
    for model in (ReviewRequest, Comment, Team, LinkedAccount):
        assert django_admin.site.is_registered(model)
    from deposits.models import EmailChoice, Notification

    assert django_admin.site.is_registered(Notification)
    assert django_admin.site.is_registered(EmailChoice)


def test_a_member_cannot_open_the_admin(member: Any, target: Target) -> None:
    client = signed_in(member)
    assert client.get(reverse("admin:index")).status_code == 302  # to the admin login
    assert client.get(reverse("admin:deposits_deposit_changelist")).status_code == 302


def test_a_staff_user_who_curates_no_team_sees_nothing(member: Any, target: Target) -> None:
    member.is_staff = True
    member.save()
    client = signed_in(member)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    for model in ("deposit", "target", "linkedaccount", "apicall", "event", "reviewrequest"):
        response = client.get(reverse(f"admin:deposits_{model}_changelist"))
        assert response.status_code == 403, model
    assert client.get(change_url(target.deposit)).status_code == 403


def test_a_curator_sees_only_her_own_teams_objects(
    curator_client: Client, target: Target, other_target: Target
) -> None:
    ApiCall.objects.create(account=target.account, target=target, method="GET", url="https://a/x")
    lifecycle.record_event(target, "note", message="Lab A's own line")
    own = target
    assert other_target.deposit not in listed(curator_client, "deposit")
    assert listed(curator_client, "deposit") == [own.deposit]
    assert listed(curator_client, "target") == [own]
    assert listed(curator_client, "linkedaccount") == [own.account]
    assert [c.account for c in listed(curator_client, "apicall")] == [own.account]
    assert {e.team_id for e in listed(curator_client, "event")} == {own.deposit.team_id}
    assert listed(curator_client, "team") == [own.deposit.team]
    # the index offers the models without any Django model permission
    names = {
        m["object_name"]
        for app in curator_client.get(reverse("admin:index")).context["app_list"]
        for m in app["models"]
    }
    assert {"Deposit", "Target", "ApiCall", "ReviewRequest", "Event"} <= names


def test_another_teams_object_is_not_there_for_a_curator(
    curator_client: Client, target: Target, other_target: Target
) -> None:
    for obj in (
        other_target.deposit,
        other_target,
        other_target.account,
        other_target.deposit.team,
    ):
        response = curator_client.get(change_url(obj))
        # answered as for an id that does not exist: back to the index, nothing shown
        assert response.status_code == 302, obj
        assert response.url == reverse("admin:index")
        assert "Lab B secret" not in curator_client.get(response.url).content.decode()
    before = other_target.deposit.metadata
    curator_client.post(change_url(other_target.deposit), {"title": "Taken over"})
    other_target.deposit.refresh_from_db()
    assert other_target.deposit.metadata == before
    # the filters offer her own team only, and a filter on B's deposit finds nothing
    events = changelist(curator_client, "event", deposit__id__exact=other_target.deposit_id)
    assert events.context["cl"].result_count == 0
    assert "Lab B" not in changelist(curator_client, "event").content.decode()


def test_an_admin_of_another_team_sees_that_team_only(stranger: Any, target: Target) -> None:
    stranger.is_staff = True
    stranger.save()
    client = signed_in(stranger)  # eve: admin of Lab B
    assert listed(client, "deposit") == []
    assert listed(client, "linkedaccount") == []
    assert client.get(change_url(target.deposit)).status_code == 302
    assert [t.slug for t in listed(client, "team")] == ["lab-b"]


def test_a_superuser_sees_every_team(
    root_client: Client, target: Target, other_target: Target
) -> None:
    assert set(listed(root_client, "deposit")) == {target.deposit, other_target.deposit}
    assert set(listed(root_client, "linkedaccount")) == {target.account, other_target.account}
    assert root_client.get(change_url(other_target.deposit)).status_code == 200


def test_only_a_team_admin_changes_the_policy_and_the_accounts(
    curator_client: Client, owner: Any, team: Team, target: Target, other_team: Team
) -> None:
    policy = {"name": team.name, "slug": team.slug, "review_required": "on"}
    inline = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    curator_client.post(change_url(team), {**policy, **inline})
    team.refresh_from_db()
    assert team.review_required is False  # a curator sees the policy, an admin sets it
    assert 'name="review_required"' not in curator_client.get(change_url(team)).content.decode()

    owner.is_staff = True
    owner.save()
    admin_client = signed_in(owner)
    page = admin_client.get(change_url(team)).content.decode()
    assert 'name="review_required"' in page
    response = admin_client.post(change_url(team), {**policy, **inline})
    assert response.status_code == 302, response.content.decode()[:2000]
    team.refresh_from_db()
    assert team.review_required is True
    policy_event = Event.objects.get(team=team, kind="policy")  # through the lifecycle
    assert policy_event.actor == owner
    assert "publishing needs a curator's approval: yes" in policy_event.message

    # the account form offers her own team only; its review rule changes, audited
    account = target.account
    form = admin_client.get(change_url(account)).context["adminform"].form
    assert list(form.fields["team"].queryset) == [team]
    fields = {
        "team": team.pk,
        "kind": "zenodo",
        "label": account.label,
        "base_url": account.base_url,
        "review": "required",
        "rate_windows": "[]",
        "settings": "{}",
    }
    assert admin_client.post(change_url(account), fields).status_code == 302
    account.refresh_from_db()
    assert account.review == "required"
    assert Event.objects.filter(team=team, kind="policy", data__account=account.pk).exists()
    as_curator = curator_client.get(change_url(account)).content.decode()
    assert 'name="review"' not in as_curator and 'name="new_token"' not in as_curator


# --------------------------------------------------------------------------- metadata


class FormFields(HTMLParser):
    """The values a browser would post for the form ``form_id`` (its default button)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, []  # type: ignore[var-annotated]
        self._select: str | None = None
        self._textarea: str | None = None
        self._first_option: tuple[str, str] | None = None
        self._selected = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.data.append((self._textarea, ""))
        elif tag == "select":
            self._select, self._first_option, self._selected = a.get("name"), None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = (self._select, value)
            if "selected" in a:
                self.data.append((self._select, value))
                self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.data[-1]
            self.data[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            name, value = self.data[-1]
            self.data[-1] = (name, value.removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._selected and self._first_option:
                self.data.append(self._first_option)
            self._select = None
        elif tag == "form":
            self.inside = False


def posted_form(client: Client, url: str, **changes: str) -> dict[str, Any]:
    parser = FormFields("deposit_form")
    parser.feed(client.get(url).content.decode())
    data: dict[str, Any] = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    data.update({k: [v] for k, v in changes.items()})
    data["_continue"] = ["Save and continue editing"]
    return data


def test_the_deposit_page_has_the_editor_not_a_json_box(
    curator_client: Client, target: Target
) -> None:
    page = curator_client.get(change_url(target.deposit)).content.decode()
    assert 'name="metadata"' not in page
    assert 'name="title"' in page and 'name="creators-0-orcid"' in page
    assert 'value="add:creators"' in page


def test_an_invalid_edit_is_refused_next_to_its_field(
    curator_client: Client, target: Target
) -> None:
    deposit = target.deposit
    before, events = deposit.metadata, Event.objects.count()
    url = change_url(deposit)
    response = curator_client.post(
        url, posted_form(curator_client, url, title="Renamed", publication_date="15/01/2025x")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Not saved: fix the 1 field marked below." in body
    row = re.search(r'<div class="form-row errors field-publication_date">(.*?)</div>', body, re.S)
    assert row is not None and "errorlist" in row.group(1)
    deposit.refresh_from_db()
    assert deposit.metadata == before
    assert Event.objects.count() == events


def test_a_valid_edit_is_saved_as_the_portal_saves_it(
    curator_client: Client, curator: Any, target: Target
) -> None:
    deposit = target.deposit
    url = change_url(deposit)
    data = posted_form(curator_client, url, title="Soil moisture, revised")
    data["creators-1-orcid"] = ["0000-0001-5109-3700"]
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    deposit.refresh_from_db()
    assert deposit.title == "Soil moisture, revised"
    assert deposit.metadata["creators"][1]["nameIdentifiers"][0]["nameIdentifier"] == (
        "0000-0001-5109-3700"
    )
    assert deposit.metadata["creators"][0]["name"] == "Lovelace, Ada"  # the rest kept
    event = deposit.events.get(kind="metadata_edited")
    assert event.actor == curator
    assert event.message == "Edited creators, title"


def test_adding_a_row_shows_it_and_saves_nothing(curator_client: Client, target: Target) -> None:
    deposit = target.deposit
    before = deposit.metadata
    url = change_url(deposit)
    data = posted_form(curator_client, url, title="Not yet")
    data["row"] = ["add:funding"]
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert 'name="funding-0-award_number"' in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.metadata == before


def test_the_metadata_is_locked_while_a_worker_is_on_it(
    curator_client: Client, target: Target
) -> None:
    deposit = target.deposit
    url = change_url(deposit)
    data = posted_form(curator_client, url, title="During the upload")
    Target.objects.filter(pk=target.pk).update(state=State.WORKING)
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "is working on this deposit" in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.title != "During the upload"


def submitted(target: Target, author: Any) -> ReviewRequest:
    team = target.deposit.team
    team.review_required = True
    team.save()
    add_file(target.deposit, "data.csv", b"a,b\n1,2\n")
    lifecycle.revalidate(target.deposit)
    return review.submit(target.deposit, user=author, message="Please look")


def test_a_curator_edits_under_review_and_the_thread_says_so(
    curator_client: Client, curator: Any, member: Any, target: Target
) -> None:
    submitted(target, member)
    deposit = target.deposit
    url = change_url(deposit)
    response = curator_client.post(url, posted_form(curator_client, url, title="Fixed by Grace"))
    assert response.status_code == 302
    deposit.refresh_from_db()
    assert deposit.title == "Fixed by Grace"
    note = deposit.comments.get(kind=CommentKind.EDITED)
    assert note.author == curator and note.body == "Edited title"


# --------------------------------------------------------------------------- targets


def test_the_stuck_filter_finds_targets_in_flight_that_stopped_moving(
    root_client: Client, deposit: Any, team: Team
) -> None:
    now = timezone.now()
    accounts = [AccountFactory(team=team, label=f"A{i}") for i in range(5)]
    lost = TargetFactory(deposit=deposit, account=accounts[0], state=State.WORKING)
    lapsed = TargetFactory(deposit=deposit, account=accounts[1], state=State.WORKING)
    busy = TargetFactory(deposit=deposit, account=accounts[2], state=State.WORKING)
    waiting = TargetFactory(deposit=deposit, account=accounts[3], state=State.QUEUED)
    failed = TargetFactory(deposit=deposit, account=accounts[4], state=State.FAILED)
    old = now - timedelta(hours=1)
    Target.objects.filter(pk=lost.pk).update(updated=old)
    Target.objects.filter(pk=lapsed.pk).update(lease_until=now - timedelta(minutes=1))
    Target.objects.filter(pk=busy.pk).update(lease_until=now + timedelta(minutes=5))
    Target.objects.filter(pk=waiting.pk).update(updated=old, next_attempt_at=now + timedelta(1))

    assert set(listed(root_client, "target", attention="stuck")) == {lost, lapsed}
    assert listed(root_client, "target", attention="failed") == [failed]
    assert set(listed(root_client, "target", attention="any")) == {lost, lapsed, failed}


def test_retry_requeues_a_failed_target_and_says_so_per_item(
    curator_client: Client, target: Target, deposit: Any, team: Team
) -> None:
    Target.objects.filter(pk=target.pk).update(
        state=State.FAILED, last_error="Zenodo refused the license", retryable=True
    )
    drafted = TargetFactory(deposit=deposit, account=AccountFactory(team=team, label="Other"))
    page = changelist(curator_client, "target", attention="failed").content.decode()
    assert "Zenodo refused the license" in page

    response = run_action(curator_client, "target", "retry_targets", [target, drafted])
    target.refresh_from_db()
    assert target.state == State.QUEUED and target.last_error == ""
    said = messages_of(response)
    assert f"{target}: queued again." in said
    assert f"{drafted}: not retried. Only a failed target can be retried." in said
    assert target.events.filter(kind="state", to_state="queued", actor__username="grace").exists()


def test_a_curator_cannot_retry_another_teams_target(
    curator_client: Client, target: Target, other_target: Target
) -> None:
    Target.objects.filter(pk=other_target.pk).update(state=State.FAILED)
    run_action(curator_client, "target", "retry_targets", [other_target])
    other_target.refresh_from_db()
    assert other_target.state == State.FAILED


def test_the_audit_trail_of_a_deposit_and_a_target(curator_client: Client, target: Target) -> None:
    lifecycle.record_event(target, "note", message="Sent to Zenodo")
    lifecycle.record_event(target.deposit, "note", message="Title fixed")
    page = curator_client.get(change_url(target.deposit)).content.decode()
    assert "Sent to Zenodo" in page and "Title fixed" in page
    assert f"?deposit__id__exact={target.deposit_id}" in page
    page = curator_client.get(change_url(target)).content.decode()
    assert "Sent to Zenodo" in page and "Title fixed" not in page
    events = listed(curator_client, "event", target__id__exact=target.pk)
    assert [e.message for e in events] == ["Sent to Zenodo"]


# --------------------------------------------------------------------------- accounts, API log


def test_an_accounts_page_shows_its_rate_budget_and_queue(
    curator_client: Client, target: Target, deposit: Any
) -> None:
    Target.objects.filter(pk=target.pk).update(state=State.QUEUED)
    page = curator_client.get(change_url(target.account)).content.decode()
    assert "1 queued, 0 working" in page
    windows = target.account.effective_rate_windows()
    assert f"of {windows[0].limit} per minute used" in page
    listing = changelist(curator_client, "linkedaccount").content.decode()
    assert "1 queued, 0 working" in listing


def test_the_api_log_filters_by_account_outcome_and_time(
    curator_client: Client, target: Target, team: Team
) -> None:
    second = AccountFactory(team=team, label="Second")
    ok = ApiCall.objects.create(
        account=target.account, method="GET", url="https://a/ok", status=200
    )
    refused = ApiCall.objects.create(account=second, method="PUT", url="https://a/no", status=400)
    lost = ApiCall.objects.create(account=second, method="PUT", url="https://a/lost", error="reset")
    ApiCall.objects.filter(pk=lost.pk).update(created=timezone.now() - timedelta(days=40))

    assert set(listed(curator_client, "apicall", account__id__exact=second.pk)) == {refused, lost}
    assert listed(curator_client, "apicall", outcome="ok") == [ok]
    assert listed(curator_client, "apicall", outcome="client") == [refused]
    assert listed(curator_client, "apicall", outcome="none") == [lost]
    today = timezone.localdate()
    this_month = listed(
        curator_client, "apicall", created__year=today.year, created__month=today.month
    )
    assert lost not in this_month and ok in this_month
    assert listed(curator_client, "apicall", q="lost") == [lost]


@responses.activate
def test_the_api_log_shows_no_token_of_a_real_call(curator_client: Client, target: Target) -> None:
    account = target.account
    token = account.token
    responses.get(
        f"{account.base_url}/deposit/depositions",
        status=400,
        json={"message": f"Bad access_token={token}", "status": 400},
    )
    client = build_client(account, target)
    with pytest.raises(Exception):
        client.request("GET", "deposit/depositions", params={"access_token": token, "q": "x"})
    call = ApiCall.objects.get(account=account)
    assert "access_token=[redacted]" in call.url
    for page in (changelist(curator_client, "apicall"), curator_client.get(change_url(call))):
        body = page.content.decode()
        assert "deposit/depositions" in body
        assert token not in body


# --------------------------------------------------------------------------- review queue


def test_the_review_queue_shows_open_requests_oldest_first(
    curator_client: Client, deposit: Any, team: Team, member: Any
) -> None:
    now = timezone.now()
    newer = ReviewRequest.objects.create(deposit=deposit, submitted_by=member, submitted_at=now)
    older_deposit = DepositFactory(team=team)
    older = ReviewRequest.objects.create(
        deposit=older_deposit, submitted_by=member, submitted_at=now - timedelta(hours=5)
    )
    ReviewRequest.objects.create(
        deposit=older_deposit,
        submitted_at=now - timedelta(days=2),
        state=ReviewState.RETURNED,
        decided_at=now - timedelta(days=1),
    )
    response = changelist(curator_client, "reviewrequest")
    assert list(response.context["cl"].result_list) == [older, newer]
    body = response.content.decode()
    assert "5 h" in body
    assert f'href="/review/{deposit.pk}/"' in body
    assert len(listed(curator_client, "reviewrequest", state="all")) == 3


def test_approve_in_the_admin_approves_each_and_says_so(
    curator_client: Client, member: Any, target: Target, other_target: Target
) -> None:
    request = submitted(target, member)
    response = run_action(curator_client, "reviewrequest", "approve", [request])
    request.refresh_from_db()
    target.refresh_from_db()
    assert request.state == ReviewState.APPROVED
    assert target.state == State.QUEUED
    assert f"{target.deposit}: approved, it is being published." in messages_of(response)
    assert target.deposit.events.filter(kind="review_approved", actor__username="grace").exists()

    again = run_action(curator_client, "reviewrequest", "approve", [request], "?state=all")
    assert f"{target.deposit}: not approved, it is approved." in messages_of(again)


def test_a_curator_may_not_approve_her_own_submission(
    curator_client: Client, curator: Any, target: Target
) -> None:
    request = submitted(target, curator)
    response = run_action(curator_client, "reviewrequest", "approve", [request])
    request.refresh_from_db()
    assert request.state == ReviewState.OPEN
    said = " ".join(messages_of(response))
    assert "not approved" in said and "ask another curator" in said


# --------------------------------------------------------------------------- bulk, figures


def test_bulk_action_takes_the_selected_deposits_to_the_bulk_page(
    curator_client: Client, deposit: Any, team: Team
) -> None:
    second = DepositFactory(team=team)
    response = curator_client.post(
        reverse("admin:deposits_deposit_changelist"),
        {"action": "bulk_action", "_selected_action": [deposit.pk, second.pk]},
    )
    assert response.status_code == 302
    assert response.url == f"/review/bulk/?ids={deposit.pk},{second.pk}"
    page = curator_client.get(response.url)
    assert page.status_code == 200
    assert set(page.context["ids"]) == {deposit.pk, second.pk}


def test_every_list_and_form_renders_for_a_curator(
    curator_client: Client, curator: Any, member: Any, target: Target
) -> None:
    request = submitted(target, member)
    review.add_comment(target.deposit, user=curator, body="Looks good")
    ApiCall.objects.create(account=target.account, target=target, method="GET", url="https://a/")
    for name in (
        "team", "membership", "linkedaccount", "deposit", "depositfile", "target",
        "remotefile", "identifier", "event", "apicall", "reviewrequest", "comment",
        "notification", "emailchoice",
    ):  # fmt: skip
        changelist(curator_client, name)
    for obj in (
        target.deposit,
        target,
        target.account,
        target.deposit.team,
        request,
        Comment.objects.first(),
        ApiCall.objects.first(),
        Event.objects.first(),
    ):
        assert curator_client.get(change_url(obj)).status_code == 200, obj
    page = curator_client.get(change_url(request)).content.decode()
    assert "Please look" in page and "Looks good" in page  # the thread, inline


def test_the_index_shows_the_curation_figures_of_her_teams(
    curator_client: Client, team: Team, other_team: Team
) -> None:
    now = timezone.now()
    for hours, state in [
        (2, ReviewState.APPROVED),
        (4, ReviewState.RETURNED),
        (10, ReviewState.APPROVED),
    ]:
        submitted_at = now - timedelta(hours=hours + 1)
        ReviewRequest.objects.create(
            deposit=DepositFactory(team=team),
            submitted_at=submitted_at,
            decided_at=submitted_at + timedelta(hours=hours),
            state=state,
        )
    ReviewRequest.objects.create(
        deposit=DepositFactory(team=team), submitted_at=now - timedelta(hours=3)
    )
    for _ in range(4):  # Lab B's queue is not hers
        ReviewRequest.objects.create(deposit=DepositFactory(team=other_team), submitted_at=now)

    body = curator_client.get(reverse("admin:index")).content.decode()
    assert re.search(r'id="figure-waiting"><a [^>]*>1</a> \(oldest 3 h\)', body)
    assert 'id="figure-median">4 h<' in body
    assert 'id="figure-p90">10 h<' in body
    assert 'id="figure-returns">0.33<' in body
    assert '<svg id="queue-chart"' in body and body.count("<rect ") == 30
    assert "style=" not in body.split('id="curation-figures"')[1].split("</svg>")[0]
