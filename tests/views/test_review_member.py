"""The member's side of review on the deposit page, and the team's review policy page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits import lifecycle
from deposits.lifecycle import review
from deposits.models import Comment, Event, LinkedAccount, ReviewState, Team
from tests.factories import add_file
from tests.views.conftest import signed_in
from tests.views.test_deposit_pages import editor_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(team: Team) -> Team:
    Team.objects.filter(pk=team.pk).update(review_required=True)
    team.refresh_from_db()
    return team


@pytest.fixture
def ready(reviewed: Team, deposit: Any, target: Any) -> Any:
    add_file(deposit, "data.csv", b"a,b\n1,2\n")
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == "ready", target.problems
    return target


def page(client: Client, deposit: Any) -> str:
    return str(client.get(reverse("deposit", args=[deposit.pk])).content.decode())


def submit(client: Client, deposit: Any, **headers: str) -> Any:
    return client.post(
        reverse("deposit-review-submit", args=[deposit.pk]),
        {"message": "Please check the licence."},
        headers=headers,
    )


# --------------------------------------------------------------------------- the panel


def test_no_panel_where_nothing_needs_review(member_client: Client, deposit: Any, target: Any):
    body = page(member_client, deposit)
    assert 'id="review-panel"' not in body


def test_the_card_needs_a_curators_approval_in_place_of_publish(
    member_client: Client, ready: Any
) -> None:
    body = page(member_client, ready.deposit)
    assert 'id="review-panel"' in body
    assert "Not submitted for review yet" in body
    assert f'id="needs-approval-{ready.pk}"' in body
    assert "<strong>Needs a curator's approval</strong>" in body
    assert f'id="publish-{ready.pk}"' not in body
    assert 'id="review-submit"' in body and "disabled" not in _tag(body, 'id="review-submit"')


def test_an_account_that_never_needs_approval_keeps_publish(
    member_client: Client, ready: Any
) -> None:
    LinkedAccount.objects.filter(pk=ready.account_id).update(review="not_required")
    body = page(member_client, ready.deposit)
    assert f'id="publish-{ready.pk}"' in body
    assert f'id="needs-approval-{ready.pk}"' not in body


def test_publish_is_refused_for_a_target_that_needs_review(
    member_client: Client, ready: Any
) -> None:
    response = member_client.post(
        reverse("target-action", args=[ready.pk, "publish"]), {"confirmed": "1"}, follow=True
    )
    assert "needs a curator&#x27;s approval first" in response.content.decode()
    ready.refresh_from_db()
    assert ready.state == "ready"


def test_the_blockers_are_listed_and_a_submit_is_refused(
    member_client: Client, reviewed: Team, deposit: Any, target: Any
) -> None:
    # no file: Zenodo's rules keep the target a draft
    target.refresh_from_db()
    assert target.state == "draft"
    body = page(member_client, deposit)
    assert 'id="review-blockers"' in body
    assert "needs 1 fix(es) first" in body or "fix(es) first" in body
    assert "disabled" in _tag(body, 'id="review-submit"')

    refused = submit(member_client, deposit, HX_Request="true")
    text = refused.content.decode()
    assert 'id="review-error"' in text
    assert "Cannot submit for review yet" in text
    assert "Please check the licence." in text  # what was typed stays
    assert not deposit.reviews.exists()


def _tag(body: str, marker: str) -> str:
    start = body.rindex("<", 0, body.index(marker))
    return body[start : body.index(">", start)]


# --------------------------------------------------------------------------- submit


def test_a_member_submits_for_review(member: Any, member_client: Client, ready: Any) -> None:
    response = submit(member_client, ready.deposit)
    assert response.status_code == 302
    assert response["Location"] == reverse("deposit", args=[ready.deposit.pk])
    ready.refresh_from_db()
    assert ready.state == "awaiting_review"
    request = ready.deposit.reviews.get()
    assert request.state == ReviewState.OPEN and request.submitted_by == member

    body = page(member_client, ready.deposit)
    assert "Submitted for review (Zenodo (sandbox))" in body  # the message
    assert "Awaiting a curator's review" in body
    assert "submitted by ada for Zenodo (sandbox)" in body
    assert "To change anything while it waits, withdraw the request; submit again when done." in (
        body
    )
    assert 'id="review-withdraw"' in body
    assert 'id="review-watch"' in body  # it watches for the curator's answer
    assert 'id="review-submit"' not in body
    assert 'id="metadata-locked"' in body  # edits wait: withdraw to change it
    assert "Please check the licence." in body  # the message is in the thread
    assert f'id="needs-approval-{ready.pk}"' not in body


def test_submit_with_htmx_swaps_the_panel_and_refreshes_the_page(
    member_client: Client, ready: Any
) -> None:
    response = submit(member_client, ready.deposit, HX_Request="true")
    assert response.status_code == 200
    assert response["HX-Trigger"] == "target-finished"
    text = response.content.decode()
    assert text.lstrip().startswith('<section class="panel review-panel" id="review-panel"')
    assert 'data-review-status="open"' in text


def test_a_member_withdraws_and_can_edit_again(member_client: Client, ready: Any) -> None:
    submit(member_client, ready.deposit)
    response = member_client.post(reverse("deposit-review-withdraw", args=[ready.deposit.pk]))
    assert response.status_code == 302
    ready.refresh_from_db()
    assert ready.state == "ready"
    assert ready.deposit.reviews.get().state == ReviewState.WITHDRAWN
    body = page(member_client, ready.deposit)
    assert "Review request withdrawn" in body
    assert 'id="metadata-locked"' not in body
    assert "Submit for review again" in body
    assert 'data-comment-kind="withdrawn"' in body


def test_withdrawing_what_is_not_waiting_is_refused_next_to_the_form(
    member_client: Client, ready: Any
) -> None:
    submit(member_client, ready.deposit)
    submitter = ready.deposit.reviews.get().submitted_by
    review.withdraw(ready.deposit, user=submitter)  # elsewhere, meanwhile
    response = member_client.post(
        reverse("deposit-review-withdraw", args=[ready.deposit.pk]), headers={"HX-Request": "true"}
    )
    # the request is no longer open: the panel says so (its submit form is back)
    assert 'id="review-error"' in response.content.decode()
    assert "not awaiting review" in response.content.decode()


# --------------------------------------------------------------------------- the thread


def test_a_message_goes_into_the_thread_escaped(
    member_client: Client, ready: Any, htmx: dict[str, str]
) -> None:
    response = member_client.post(
        reverse("deposit-comment", args=[ready.deposit.pk]),
        {"body": "<script>alert(1)</script> see line 2"},
        headers=htmx,
    )
    text = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; see line 2" in text
    assert "<script>alert(1)" not in text
    comment = Comment.objects.get(deposit=ready.deposit)
    assert comment.kind == "comment" and comment.author.username == "ada"
    body = page(member_client, ready.deposit)
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_an_empty_message_is_refused_with_what_to_do(
    member_client: Client, ready: Any, htmx: dict[str, str]
) -> None:
    response = member_client.post(
        reverse("deposit-comment", args=[ready.deposit.pk]), {"body": "  "}, headers=htmx
    )
    assert 'id="thread-error"' in response.content.decode()
    assert "Write a message." in response.content.decode()
    assert not Comment.objects.exists()
    plain = member_client.post(
        reverse("deposit-comment", args=[ready.deposit.pk]), {"body": ""}, follow=True
    )
    assert "Write a message." in plain.content.decode()


def test_the_thread_is_oldest_first_with_kinds(
    member_client: Client, curator: Any, ready: Any
) -> None:
    submit(member_client, ready.deposit)
    review.add_comment(ready.deposit, user=curator, body="Which licence?")
    review.return_to_author(ready.deposit, user=curator, reason="Add the funder, please.")
    body = page(member_client, ready.deposit)
    kinds = [part.split('"', 1)[0] for part in body.split('data-comment-kind="')[1:]]
    assert kinds == ["submitted", "comment", "returned"]
    assert body.index("Please check the licence.") < body.index("Which licence?")


def test_the_returned_reason_is_shown_prominently(
    member_client: Client, curator: Any, ready: Any
) -> None:
    submit(member_client, ready.deposit)
    review.return_to_author(ready.deposit, user=curator, reason="The <b>licence</b> is missing.")
    body = page(member_client, ready.deposit)
    assert 'data-review-status="returned"' in body
    returned = body[body.index('id="review-returned"') :]
    returned = returned[: returned.index("</div>")]
    assert "Returned to the author by Grace Hopper" in returned
    assert "The &lt;b&gt;licence&lt;/b&gt; is missing." in returned
    assert 'role="alert"' in _tag(body, 'id="review-returned"')
    assert "Submit for review again" in body
    assert 'id="metadata-locked"' not in body


def test_an_approval_is_shown(member_client: Client, curator: Any, ready: Any) -> None:
    submit(member_client, ready.deposit)
    review.approve(ready.deposit, user=curator, message="Looks good.")
    body = page(member_client, ready.deposit)
    assert 'data-review-status="approved"' in body
    assert "Approved by Grace Hopper" in body and "Looks good." in body
    assert 'id="review-watch"' not in body
    assert 'id="review-submit"' not in body and 'id="review-withdraw"' not in body


# --------------------------------------------------------------------------- live


def test_the_watch_asks_for_a_refresh_when_a_curator_answers(
    member_client: Client, curator: Any, ready: Any
) -> None:
    submit(member_client, ready.deposit)
    body = page(member_client, ready.deposit)
    start = body.index('hx-get="', body.index('id="review-watch"')) + len('hx-get="')
    url = body[start : body.index('"', start)].replace("&amp;", "&")

    unchanged = member_client.get(url)
    assert unchanged.status_code == 200
    assert "HX-Trigger" not in unchanged

    review.add_comment(ready.deposit, user=curator, body="Looking at it now.")
    written = member_client.get(url)
    assert written["HX-Trigger"] == "thread-changed"

    review.return_to_author(ready.deposit, user=curator, reason="Add a funder.")
    answered = member_client.get(url)
    assert answered["HX-Trigger"] == "target-finished"
    assert 'id="review-watch"' not in answered.content.decode()  # no more polling

    thread = member_client.get(
        reverse("deposit-review-panel", args=[ready.deposit.pk]) + "?part=thread"
    )
    assert "Looking at it now." in thread.content.decode()
    assert thread.content.decode().lstrip().startswith('<ol class="thread-entries"')


def test_readiness_is_fetched_again_on_its_own(member_client: Client, ready: Any) -> None:
    part = member_client.get(
        reverse("deposit-review-panel", args=[ready.deposit.pk]) + "?part=readiness"
    )
    assert part.content.decode().lstrip().startswith('<div id="review-readiness"')
    assert 'id="review-submit"' in part.content.decode()


# --------------------------------------------------------------------------- curators


def test_a_curator_edits_under_review_and_the_thread_says_so(
    member_client: Client, curator: Any, ready: Any
) -> None:
    deposit = ready.deposit
    submit(member_client, deposit)
    url = reverse("deposit-metadata", args=[deposit.pk])

    refused = member_client.post(url, editor_data(deposit, title="Changed by ada"))
    assert "A curator is reviewing this deposit" in refused.content.decode()
    deposit.refresh_from_db()
    assert deposit.title != "Changed by ada"

    curator_client = signed_in(curator)
    assert 'id="metadata-locked"' not in page(curator_client, deposit)
    curator_client.post(url, editor_data(deposit, title="Corrected by grace"))
    deposit.refresh_from_db()
    assert deposit.title == "Corrected by grace"
    edit = Comment.objects.get(deposit=deposit, kind="edited")
    assert edit.author == curator and "title" in edit.body
    assert "Edited title" in page(member_client, deposit)


# --------------------------------------------------------------------------- scoping


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("deposit-review-submit", "post"),
        ("deposit-review-withdraw", "post"),
        ("deposit-comment", "post"),
        ("deposit-review-panel", "get"),
        ("deposit-review-watch", "get"),
    ],
)
def test_a_stranger_gets_404(stranger_client: Client, ready: Any, name: str, method: str) -> None:
    response = getattr(stranger_client, method)(reverse(name, args=[ready.deposit.pk]))
    assert response.status_code == 404
    assert not ready.deposit.reviews.exists() and not Comment.objects.exists()


# --------------------------------------------------------------------------- policy


def test_a_member_cannot_open_the_policy_page(member_client: Client, team: Team, owner: Any):
    response = member_client.get(reverse("team-policy", args=[team.pk]))
    assert response.status_code == 403
    assert "Only an admin of Lab A can change its review policy" in response.content.decode()
    posted = member_client.post(reverse("team-policy", args=[team.pk]), {"review_required": "on"})
    assert posted.status_code == 403
    team.refresh_from_db()
    assert not team.review_required


def test_a_stranger_gets_404_for_the_policy_page(stranger_client: Client, team: Team) -> None:
    assert stranger_client.get(reverse("team-policy", args=[team.pk])).status_code == 404


def test_an_admin_changes_the_policy_and_it_is_recorded(
    owner: Any, owner_client: Client, team: Team
) -> None:
    url = reverse("team-policy", args=[team.pk])
    body = owner_client.get(url).content.decode()
    assert str(Team._meta.get_field("review_required").help_text) in body.replace("&#x27;", "'")
    assert 'id="save-policy"' in body

    kept = {"release_publish": team.release_publish}  # the page's other choice, as it was
    response = owner_client.post(url, {"review_required": "on", "self_approval": "on", **kept})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.review_required and team.self_approval and not team.members_review
    event = Event.objects.get(team=team, kind="policy")
    assert event.actor == owner
    assert event.data == {"changed": {"review_required": True, "self_approval": True}}
    assert "publishing needs a curator's approval: yes" in event.message
    assert "Saved the review policy of Lab A." in owner_client.get(url).content.decode()

    owner_client.post(url, {"review_required": "on", "self_approval": "on", **kept})
    assert Event.objects.filter(team=team, kind="policy").count() == 1  # nothing changed


def test_the_accounts_page_links_the_policy_for_admins_only(
    owner_client: Client, member_client: Client, team: Team, zenodo_account: Any
) -> None:
    link = reverse("team-policy", args=[team.pk])
    assert link in owner_client.get(reverse("accounts")).content.decode()
    assert link not in member_client.get(reverse("accounts")).content.decode()


def test_an_admin_sets_an_accounts_review_rule(
    owner: Any, owner_client: Client, member_client: Client, zenodo_account: Any
) -> None:
    url = reverse("account-edit", args=[zenodo_account.pk])
    assert 'name="review"' in owner_client.get(url).content.decode()
    response = owner_client.post(
        url,
        {"label": zenodo_account.label, "base_url": zenodo_account.base_url, "review": "required"},
    )
    assert response.status_code == 302
    zenodo_account.refresh_from_db()
    assert zenodo_account.review == "required"
    event = Event.objects.get(kind="policy")
    assert event.data["review"] == ["", "required"] and event.actor == owner
    card = owner_client.get(reverse("accounts")).content.decode()
    assert "Always needs approval" in card

    denied = member_client.post(
        url,
        {"label": zenodo_account.label, "base_url": zenodo_account.base_url, "review": ""},
    )
    assert denied.status_code == 403
    zenodo_account.refresh_from_db()
    assert zenodo_account.review == "required"


def test_a_new_account_can_need_approval_from_the_start(owner_client: Client, team: Team) -> None:
    owner_client.post(
        reverse("account-new"),
        {
            "kind": "zenodo",
            "label": "Zenodo (curated)",
            "base_url": "http://127.0.0.1:8001/api",
            "token": "secret-token",
            "review": "required",
        },
    )
    account = LinkedAccount.objects.get(label="Zenodo (curated)")
    assert account.review == "required"
