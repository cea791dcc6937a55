"""The curator's pages: the review queue and the review page, who may open them and
decide, what they show, and the decisions (approve, return with a reason)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits import lifecycle
from deposits.lifecycle import review
from deposits.models import (
    Comment,
    CommentKind,
    Event,
    ReviewRequest,
    ReviewState,
    State,
    Target,
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
from tests.views.test_versions import publish_here

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(curator: Any) -> Client:
    return signed_in(curator)


@pytest.fixture
def superuser(db: Any) -> Any:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def reviewed_team(team: Any) -> Any:
    team.review_required = True
    team.save()
    return team


def ready_deposit(team: Any, author: Any, account: Any, title: str = "Soil moisture") -> Any:
    deposit = DepositFactory(team=team, created_by=author)
    deposit.metadata = {**deposit.metadata, "titles": [{"title": title}]}
    deposit.save()
    add_file(deposit, "data.csv", b"1,2,3\n")
    TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    assert deposit.targets.get().state == State.READY, deposit.targets.get().problems
    return deposit


def submitted(deposit: Any, author: Any, ago: timedelta | None = None) -> ReviewRequest:
    request = review.submit(deposit, user=author)
    if ago is not None:
        ReviewRequest.objects.filter(pk=request.pk).update(submitted_at=timezone.now() - ago)
        request.refresh_from_db()
    return request


@pytest.fixture
def waiting(reviewed_team: Any, member: Any, zenodo_account: Any) -> Any:
    """Ada's deposit, submitted for review an hour ago."""
    deposit = ready_deposit(reviewed_team, member, zenodo_account)
    submitted(deposit, member, timedelta(hours=1))
    return deposit


def queue_url() -> str:
    return reverse("review-queue")


def review_url(deposit: Any, what: str = "") -> str:
    name = f"review-{what}" if what else "review"
    return reverse(name, args=[deposit.pk])


def target_state(deposit: Any) -> str:
    return str(Target.objects.get(deposit=deposit).state)


# --------------------------------------------------------------------------- permissions


def test_a_member_can_neither_open_the_queue_nor_review_nor_decide(
    member_client: Client, waiting: Any
) -> None:
    queue = member_client.get(queue_url())
    assert queue.status_code == 403
    assert "Only curators and admins of a team" in queue.content.decode()
    assert "can open the review queue" in queue.content.decode()
    assert "You are a member of Lab A: ask its admin" in queue.content.decode()
    page = member_client.get(review_url(waiting))
    assert page.status_code == 403
    assert "Only a curator or an admin of Lab A can review its deposits." in page.content.decode()
    for what, data in [
        ("approve", {"message": "mine"}),
        ("return", {"reason": "no"}),
        ("comment", {"body": "hi"}),
    ]:
        response = member_client.post(review_url(waiting, what), data)
        assert response.status_code == 403, what
    assert target_state(waiting) == State.AWAITING_REVIEW
    assert review.open_review(waiting) is not None
    assert not Comment.objects.filter(kind=CommentKind.COMMENT).exists()
    nav = member_client.get(reverse("dashboard")).content.decode()
    assert 'id="review-queue-link"' not in nav


def test_members_may_review_where_the_policy_lets_them(
    member_client: Client, waiting: Any, reviewed_team: Any, owner: Any
) -> None:
    reviewed_team.members_review = True
    reviewed_team.save()
    # ada may review, but not approve what she submitted herself
    assert member_client.get(queue_url()).status_code == 200
    refused = member_client.post(review_url(waiting, "approve"))
    assert refused.status_code == 400
    assert "needs someone else to approve it" in refused.content.decode()


def test_a_curator_of_the_team_opens_the_queue_and_the_review_page(
    curator_client: Client, waiting: Any
) -> None:
    queue = curator_client.get(queue_url())
    assert queue.status_code == 200
    assert f'data-deposit="{waiting.pk}"' in queue.content.decode()
    assert 'id="review-queue-link"' in queue.content.decode()
    assert "Review queue (1)" in queue.content.decode()
    page = curator_client.get(review_url(waiting))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="approve"' in body and 'name="reason"' in body
    # a curator of the team also reaches the deposit page and its validated form
    assert 'id="edit-metadata"' in body
    assert f'href="{reverse("deposit", args=[waiting.pk])}#metadata"' in body


def test_the_admin_of_another_team_gets_a_404_and_a_queue_without_it(
    stranger_client: Client, waiting: Any
) -> None:
    queue = stranger_client.get(queue_url())
    assert queue.status_code == 200  # eve is an admin of Lab B: she reviews Lab B's
    assert f'data-deposit="{waiting.pk}"' not in queue.content.decode()
    assert "Nothing waits for review" in queue.content.decode()
    assert stranger_client.get(review_url(waiting)).status_code == 404
    for what in ("approve", "return", "comment"):
        data = {"reason": "x", "body": "x", "message": "x"}
        assert stranger_client.post(review_url(waiting, what), data).status_code == 404
    assert target_state(waiting) == State.AWAITING_REVIEW


def test_a_superuser_sees_every_teams_queue(
    superuser: Any, waiting: Any, stranger: Any, django_capture_on_commit_callbacks: Any
) -> None:
    other_team = TeamFactory(slug="lab-b")
    other_team.review_required = True
    other_team.save()
    other = ready_deposit(
        other_team, stranger, AccountFactory(team=other_team), title="Lab B's sediment cores"
    )
    submitted(other, stranger)
    client = signed_in(superuser)
    queue = client.get(queue_url()).content.decode()
    assert f'data-deposit="{waiting.pk}"' in queue and f'data-deposit="{other.pk}"' in queue
    assert "Review queue (2)" in queue
    page = client.get(review_url(other))
    assert page.status_code == 200
    # not in the team: the deposit page is a 404 for them, so no link to it
    assert 'id="edit-metadata"' not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        approved = client.post(review_url(other, "approve"))
    assert approved.status_code == 302
    assert target_state(other) == State.QUEUED


def test_a_person_in_no_team_cannot_open_the_queue(db: Any) -> None:
    client = signed_in(UserFactory(username="nobody"))
    response = client.get(queue_url())
    assert response.status_code == 403
    assert "can open the review queue" in response.content.decode()
    assert "You are in no team yet." in response.content.decode()


def test_signed_out_people_are_sent_to_sign_in(client: Client, waiting: Any) -> None:
    for url in (queue_url(), review_url(waiting)):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


# --------------------------------------------------------------------------- the queue


def test_the_queue_is_oldest_first_with_who_how_long_and_readiness(
    curator_client: Client, reviewed_team: Any, member: Any, owner: Any, zenodo_account: Any
) -> None:
    newer = ready_deposit(reviewed_team, member, zenodo_account, title="Newer deposit")
    older = ready_deposit(reviewed_team, owner, zenodo_account, title="Older deposit")
    submitted(newer, member, timedelta(minutes=5, seconds=10))
    submitted(older, owner, timedelta(hours=3, minutes=20, seconds=30))
    # the repository itself complained about the newer one on an earlier attempt
    target = Target.objects.get(deposit=newer)
    remote = {"field": "license", "message": "Zenodo: unknown license", "source": "zenodo"}
    Target.objects.filter(pk=target.pk).update(problems=[*target.problems, remote])
    page = curator_client.get(queue_url()).content.decode()
    table = page[page.index('id="queue-table"') : page.index("</table>")]
    assert table.index("Older deposit") < table.index("Newer deposit")
    rows = table.split('<tr data-review="')[1:]
    older_row, newer_row = rows
    assert "olivia" in older_row and "3 h 20 min" in older_row
    assert "Ready" in older_row and "Zenodo (sandbox)" in older_row
    assert "ada" in newer_row and "5 min" in newer_row
    assert 'data-problems="1"' in newer_row and "1 problem" in newer_row
    assert f'href="{review_url(older)}"' in older_row
    assert "Lab A" in older_row


def test_local_problems_count_in_the_readiness(
    curator_client: Client, waiting: Any, curator: Any
) -> None:
    # under review only a curator may still change it: a curator cleared the title
    waiting.metadata = {**waiting.metadata, "titles": []}
    waiting.save()
    page = curator_client.get(queue_url()).content.decode()
    row = page.split(f'data-deposit="{waiting.pk}"')[1].split("</tr>")[0]
    match = re.search(r'data-problems="(\d+)"', row)
    assert match and int(match.group(1)) >= 1
    assert "problem" in row and "Ready" not in row


def test_recently_decided_reviews_are_listed_below(
    curator_client: Client, waiting: Any, curator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    review.return_to_author(waiting, user=curator, reason="Add the ORCID of the second author")
    page = curator_client.get(queue_url()).content.decode()
    decided = page[page.index('id="recently-decided"') :]
    assert "Returned to the author" in decided and "Add the ORCID" in decided
    assert "Grace Hopper" in decided
    assert "Nothing waits for review" in page


# --------------------------------------------------------------------------- review page


def test_the_review_page_shows_the_description_files_and_validation(
    curator_client: Client, waiting: Any
) -> None:
    target = Target.objects.get(deposit=waiting)
    remote = {"field": "", "message": "Zenodo said: communities closed", "source": "zenodo"}
    Target.objects.filter(pk=target.pk).update(problems=[*target.problems, remote])
    page = curator_client.get(review_url(waiting)).content.decode()
    assert "Soil moisture" in page and "Lovelace, Ada" in page
    assert "<b>12</b>" in page  # the abstract as formatted text, not its tags escaped
    file = waiting.files.get()
    assert "data.csv" in page and file.md5 in page
    assert f'id="readiness-{target.pk}" data-problems="0"' in page
    assert f'id="remote-problems-{target.pk}"' in page and "communities closed" in page
    assert f'id="first-version-{target.pk}"' in page  # never published before
    assert "Submitted for review by ada" in page


def test_the_review_page_shows_what_changed_since_the_published_version(
    curator_client: Client, reviewed_team: Any, member: Any, zenodo_account: Any
) -> None:
    deposit = ready_deposit(reviewed_team, member, zenodo_account, title="First title")
    target = publish_here(Target.objects.get(deposit=deposit))
    # a new version is open on Zenodo, and the title changed here
    Target.objects.filter(pk=target.pk).update(state="ready", remote_state="unsubmitted")
    deposit.metadata = {**deposit.metadata, "titles": [{"title": "Second title"}]}
    deposit.save()
    add_file(deposit, "more.csv", b"4,5,6\n")
    lifecycle.revalidate(deposit)
    request = submitted(deposit, member)
    assert request.actions == {str(target.pk): "publish_version"}
    page = curator_client.get(review_url(deposit)).content.decode()
    fields = page[page.index(f'id="review-compare-fields-{target.pk}"') :]
    row = fields[fields.index('data-change="title"') :].split("</tr>")[0]
    assert "First title" in row and "Second title" in row
    files = page[page.index(f'id="review-compare-files-{target.pk}"') :]
    assert 'data-file-change="more.csv" data-change-kind="added"' in files


def test_the_thread_takes_messages_and_refuses_an_empty_one(
    curator_client: Client, waiting: Any, curator: Any
) -> None:
    empty = curator_client.post(review_url(waiting, "comment"), {"body": "  "})
    assert empty.status_code == 400 and "Write a message." in empty.content.decode()
    assert not Comment.objects.filter(kind=CommentKind.COMMENT).exists()
    sent = curator_client.post(review_url(waiting, "comment"), {"body": "Which probe is 7?"})
    assert sent.status_code == 302 and sent["Location"].endswith(f"{review_url(waiting)}#thread")
    page = curator_client.get(review_url(waiting)).content.decode()
    thread = page[page.index('id="thread"') :]
    assert thread.index("Submitted for review") < thread.index("Which probe is 7?")
    assert Event.objects.filter(deposit=waiting, kind="comment").exists()


# --------------------------------------------------------------------------- decisions


def test_approving_queues_the_targets_and_goes_back_to_the_queue(
    curator_client: Client, waiting: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = curator_client.post(review_url(waiting, "approve"), {"message": "Fine."})
    assert response.status_code == 302 and response["Location"] == queue_url()
    assert queued  # the worker is asked once the approval is committed
    target = Target.objects.get(deposit=waiting)
    assert target.state == State.QUEUED and target.action == "publish"
    request = ReviewRequest.objects.get(deposit=waiting)
    assert request.state == ReviewState.APPROVED and request.reason == "Fine."
    assert Event.objects.filter(deposit=waiting, kind="review_approved").exists()
    page = curator_client.get(queue_url()).content.decode()
    assert "Approved “Soil moisture”: it is queued to publish on Zenodo (sandbox)" in page
    assert "Review queue (0)" in page


def test_returning_needs_a_reason(
    curator_client: Client, waiting: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    empty = curator_client.post(review_url(waiting, "return"), {"reason": "   "})
    assert empty.status_code == 400
    body = empty.content.decode()
    error = body[
        body.index('id="return-form"') : body.index("</form>", body.index('id="return-form"'))
    ]
    assert "Write why you return it: the author needs the reason to fix it." in error
    assert 'aria-invalid="true"' in error
    assert target_state(waiting) == State.AWAITING_REVIEW
    assert ReviewRequest.objects.get(deposit=waiting).state == ReviewState.OPEN
    assert not Event.objects.filter(kind="review_returned").exists()
    returned = curator_client.post(
        review_url(waiting, "return"), {"reason": "Add the ORCID of Grace Hopper."}
    )
    assert returned.status_code == 302 and returned["Location"] == queue_url()
    request = ReviewRequest.objects.get(deposit=waiting)
    assert request.state == ReviewState.RETURNED
    assert request.reason == "Add the ORCID of Grace Hopper."
    assert target_state(waiting) == State.READY  # the author's to change again
    assert Event.objects.filter(deposit=waiting, kind="review_returned").exists()
    page = curator_client.get(queue_url()).content.decode()
    assert "Returned “Soil moisture” to ada with your reason." in page


def test_self_approval_is_refused_unless_the_policy_allows_it(
    curator_client: Client,
    curator: Any,
    reviewed_team: Any,
    zenodo_account: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    own = ready_deposit(reviewed_team, curator, zenodo_account, title="Grace's own")
    submitted(own, curator)
    page = curator_client.get(review_url(own)).content.decode()
    assert 'id="own-submission"' in page
    refused = curator_client.post(review_url(own, "approve"), {"message": "I like it"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert 'id="approve-error"' in body
    assert "You submitted this deposit, and Lab A's policy needs someone else" in body
    assert "I like it" in body  # what she wrote is kept
    assert target_state(own) == State.AWAITING_REVIEW
    assert ReviewRequest.objects.get(deposit=own).state == ReviewState.OPEN
    reviewed_team.self_approval = True
    reviewed_team.save()
    assert 'id="own-submission"' not in curator_client.get(review_url(own)).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        approved = curator_client.post(review_url(own, "approve"))
    assert approved.status_code == 302
    assert target_state(own) == State.QUEUED


def test_a_decision_on_a_withdrawn_request_says_so(
    curator_client: Client, waiting: Any, member: Any
) -> None:
    review.withdraw(waiting, user=member)
    refused = curator_client.post(review_url(waiting, "approve"))
    assert refused.status_code == 400  # no decision controls any more, and why
    body = refused.content.decode()
    assert "not awaiting review" in body
    assert target_state(waiting) == State.READY


# --------------------------------------------------------------------------- figures


def decided_review(
    deposit: Any, hours: float, state: str, *, days_ago: float = 1, by: Any = None
) -> ReviewRequest:
    decided = timezone.now() - timedelta(days=days_ago)
    return ReviewRequest.objects.create(
        deposit=deposit,
        state=state,
        submitted_at=decided - timedelta(hours=hours),
        decided_at=decided,
        decided_by=by,
    )


def test_the_queue_shows_the_curation_figures_and_the_chart(
    curator_client: Client, reviewed_team: Any, member: Any, curator: Any
) -> None:
    first, second, third = (DepositFactory(team=reviewed_team, created_by=member) for _ in range(3))
    decided_review(first, 1, ReviewState.RETURNED, days_ago=20)
    decided_review(first, 2, ReviewState.APPROVED, days_ago=10)
    decided_review(second, 3, ReviewState.RETURNED, days_ago=5)
    decided_review(second, 4, ReviewState.APPROVED, days_ago=3)
    decided_review(third, 10, ReviewState.APPROVED, days_ago=2)
    decided_review(third, 50, ReviewState.APPROVED, days_ago=40)  # before the period
    ReviewRequest.objects.create(
        deposit=third, submitted_at=timezone.now() - timedelta(hours=2, minutes=30)
    )
    page = curator_client.get(queue_url()).content.decode()
    figures = page[page.index('id="curation-figures"') :]
    assert re.search(r'id="figure-median">3 h<', figures)  # of 1, 2, 3, 4, 10 hours
    assert re.search(r'id="figure-p90">10 h<', figures)
    assert re.search(r'id="figure-returns">0.67<', figures)  # 2 returns, 3 deposits
    assert 'id="figure-waiting">1 ' in figures and "(oldest 2 h 30 min)" in figures
    svg = figures[figures.index('<svg id="queue-chart"') : figures.index("</svg>")]
    counts = [int(c) for c in re.findall(r'<rect [^>]*data-count="(\d+)"', svg)]
    assert len(counts) == 30
    assert counts[-1] == 1  # the one waiting now
    assert max(counts) == 1 and sum(counts) >= 1
    assert "<title" in svg and "Deposits waiting for review" in svg


def test_the_figures_are_the_curators_own_teams(
    stranger_client: Client, reviewed_team: Any, member: Any
) -> None:
    decided_review(DepositFactory(team=reviewed_team), 5, ReviewState.APPROVED)
    page = stranger_client.get(queue_url()).content.decode()
    assert re.search(r'id="figure-median">—<', page)
    assert re.search(r'id="figure-waiting">0<', page)


def test_the_nav_counts_what_waits_in_the_teams_one_reviews(
    curator_client: Client, curator: Any, waiting: Any, stranger: Any
) -> None:
    lab_b = TeamFactory(slug="lab-b")
    lab_b.review_required = True
    lab_b.save()
    MembershipFactory(team=lab_b, user=curator, role="member")  # grace only writes there
    elsewhere = ready_deposit(lab_b, stranger, AccountFactory(team=lab_b), title="Cores")
    submitted(elsewhere, stranger)
    page = curator_client.get(reverse("dashboard")).content.decode()
    assert "Review queue (1)" in page
    assert f'data-deposit="{elsewhere.pk}"' not in curator_client.get(queue_url()).content.decode()
    lab_b.members_review = True
    lab_b.save()
    assert "Review queue (2)" in curator_client.get(reverse("dashboard")).content.decode()
    assert f'data-deposit="{elsewhere.pk}"' in curator_client.get(queue_url()).content.decode()


def test_the_description_is_shown_formatted_but_never_runs_a_script(
    curator_client: Client, waiting: Any
) -> None:
    raw = '<p onclick="steal()">Probes <i>12</i></p><script>steal()</script>'
    waiting.metadata = {
        **waiting.metadata,
        "descriptions": [{"description": raw, "descriptionType": "Abstract"}],
    }
    waiting.save()
    page = curator_client.get(review_url(waiting)).content.decode()
    shown = page.split('data-field="description"')[1].split("</div>")[0]
    assert "<i>12</i>" in shown
    assert "<script" not in shown and "onclick" not in shown


def test_a_deposit_submitted_by_a_release_names_the_release_in_the_queue_and_on_its_page(
    reviewed_team: Any, member: Any, zenodo_account: Any, curator_client: Client
) -> None:
    deposit = ready_deposit(reviewed_team, member, zenodo_account)
    review.submit(deposit, user=None, by="The release v1.1 of GitHub lab/tools")
    queue = curator_client.get(queue_url()).content.decode()
    page = curator_client.get(review_url(deposit)).content.decode()
    for body in (queue, page):
        assert "The release v1.1 of GitHub lab/tools" in body
        assert "someone no longer here" not in body
