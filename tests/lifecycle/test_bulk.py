"""Bulk actions: each action's dry run changes nothing, its run reports every item, one
item's failure never stops the others, and a preview gone stale is not acted on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from deposits import metadata as md
from deposits.lifecycle import bulk, review
from deposits.lifecycle import revalidate as revalidate_deposit
from deposits.models import (
    Action,
    Comment,
    Deposit,
    Event,
    LinkedAccount,
    Notification,
    ReviewRequest,
    ReviewState,
    State,
    Target,
)
from deposits.repositories import registry
from tests.factories import (
    AccountFactory,
    DepositFactory,
    TargetFactory,
    add_file,
)
from tests.lifecycle.conftest import ScriptedConnector

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[Any, ...]:
    """Everything a bulk action could change."""
    return (
        list(Deposit.objects.order_by("pk").values()),
        list(Target.objects.order_by("pk").values()),
        list(LinkedAccount.objects.order_by("pk").values()),
        list(ReviewRequest.objects.order_by("pk").values()),
        Event.objects.count(),
        Comment.objects.count(),
        Notification.objects.count(),
    )


def preview_of(plans: list[bulk.ItemPlan]) -> dict[str, str]:
    return {p.key: p.fingerprint for p in plans if p.fingerprint}


def plan_and_run(
    name: str, user: Any, deposits: list[Any], capture: Any, **raw: Any
) -> tuple[list[bulk.ItemPlan], list[bulk.ItemResult], list[Any]]:
    """Plan (asserting it changed and queued nothing), then run with that preview."""
    action = bulk.get(name)
    params = bulk.clean_params(action, raw)
    ids = [d.pk for d in deposits]
    before = snapshot()
    with capture(execute=False) as queued_by_plan:
        plans = bulk.plan(action, user, deposit_ids=ids, params=params)
    assert snapshot() == before, "the preview changed something"
    assert not queued_by_plan, "the preview queued a task"
    with capture(execute=False) as queued:
        results = bulk.run(action, user, deposit_ids=ids, params=params, preview=preview_of(plans))
    return plans, results, queued


def by_key(rows: list[Any]) -> dict[str, Any]:
    return {r.key: r for r in rows}


def ready_deposit(team: Any, account: Any, author: Any, title: str = "Soil") -> Deposit:
    deposit = DepositFactory(team=team, created_by=author)
    deposit.metadata = md.to_record({**md.to_view(deposit.metadata), "title": title})
    deposit.save()
    add_file(deposit, "a.csv", b"1,2,3\n")
    TargetFactory(deposit=deposit, account=account)
    revalidate_deposit(deposit)
    return deposit


@pytest.fixture
def make(team, zenodo_account, member, connector):  # type: ignore[no-untyped-def]
    """ada's deposits, each ready for the (scripted) Zenodo account."""
    return lambda title="Soil": ready_deposit(team, zenodo_account, member, title)


@pytest.fixture
def submitted(team, member, make):  # type: ignore[no-untyped-def]
    """Two of ada's deposits awaiting review, and one that is not."""
    team.review_required = True
    team.save()
    out = []
    for title in ("First", "Second", "Not submitted"):
        deposit = make(title)
        if title != "Not submitted":
            review.submit(deposit, user=member)
        out.append(deposit)
    return out


# --------------------------------------------------------------------------- review


def test_approve_previews_then_approves_those_awaiting_review(
    submitted, curator, django_capture_on_commit_callbacks
):
    first, second, other = submitted
    plans, results, queued = plan_and_run(
        "approve", curator, submitted, django_capture_on_commit_callbacks
    )
    plan = by_key(plans)
    assert plan[f"deposit:{first.pk}"].will and plan[f"deposit:{second.pk}"].will
    assert not plan[f"deposit:{other.pk}"].will
    assert "Not awaiting review" in plan[f"deposit:{other.pk}"].message

    result = by_key(results)
    assert result[f"deposit:{first.pk}"].status == bulk.DONE
    assert result[f"deposit:{second.pk}"].status == bulk.DONE
    assert result[f"deposit:{other.pk}"].status == bulk.SKIPPED
    for deposit in (first, second):
        assert deposit.reviews.get().state == ReviewState.APPROVED
        assert deposit.targets.get().state == State.QUEUED
        assert deposit.events.filter(kind="review_approved", actor=curator).exists()
    assert len(queued) == 2  # one advance task per approved target
    assert other.targets.get().state == State.READY


def test_approve_skips_a_deposit_the_curator_submitted_without_self_approval(
    team, zenodo_account, curator, connector, django_capture_on_commit_callbacks
):
    team.review_required = True
    team.save()
    own = ready_deposit(team, zenodo_account, curator)
    review.submit(own, user=curator)
    plans, results, _ = plan_and_run("approve", curator, [own], django_capture_on_commit_callbacks)
    assert not plans[0].will and "someone else to approve" in plans[0].message
    assert results[0].status == bulk.SKIPPED
    assert own.reviews.get().state == ReviewState.OPEN


def test_return_needs_a_reason_and_sends_it_to_the_authors(
    submitted, curator, django_capture_on_commit_callbacks
):
    with pytest.raises(bulk.NotAllowed, match="need the reason"):
        bulk.clean_params(bulk.get("return"), {"reason": "  "})
    first, second, _ = submitted
    _, results, _ = plan_and_run(
        "return",
        curator,
        [first, second],
        django_capture_on_commit_callbacks,
        reason="Add the ORCID iDs of all creators.",
    )
    assert [r.status for r in results] == [bulk.DONE, bulk.DONE]
    for deposit in (first, second):
        request = deposit.reviews.get()
        assert request.state == ReviewState.RETURNED
        assert request.reason == "Add the ORCID iDs of all creators."
        assert deposit.targets.get().state in (State.DRAFT, State.READY)
        assert deposit.events.filter(kind="review_returned").exists()


def test_a_preview_gone_stale_is_not_acted_on(
    submitted, curator, member, django_capture_on_commit_callbacks
):
    first, second, _ = submitted
    action = bulk.get("approve")
    params = bulk.clean_params(action, {})
    ids = [first.pk, second.pk]
    plans = bulk.plan(action, curator, deposit_ids=ids, params=params)
    review.withdraw(first, user=member)  # ada takes it back after the preview
    with django_capture_on_commit_callbacks(execute=False):
        results = by_key(
            bulk.run(action, curator, deposit_ids=ids, params=params, preview=preview_of(plans))
        )
    stale = results[f"deposit:{first.pk}"]
    assert stale.status == bulk.SKIPPED
    assert stale.message.startswith("Changed since the preview:")
    assert "Not awaiting review" in stale.message
    assert results[f"deposit:{second.pk}"].status == bulk.DONE
    assert first.reviews.filter(state=ReviewState.APPROVED).count() == 0


def test_an_item_that_became_possible_after_the_preview_is_not_done(
    submitted, curator, member, django_capture_on_commit_callbacks
):
    *_, other = submitted
    action = bulk.get("approve")
    params = bulk.clean_params(action, {})
    plans = bulk.plan(action, curator, deposit_ids=[other.pk], params=params)
    assert not plans[0].will
    review.submit(other, user=member)
    with django_capture_on_commit_callbacks(execute=False):
        results = bulk.run(
            action, curator, deposit_ids=[other.pk], params=params, preview=preview_of(plans)
        )
    assert results[0].status == bulk.SKIPPED
    assert results[0].message.startswith("Changed since the preview:")
    assert other.reviews.get().state == ReviewState.OPEN


# --------------------------------------------------------------------------- targets


def test_retry_retries_the_failed_targets_only(make, curator, django_capture_on_commit_callbacks):
    failed = make("Failed")
    Target.objects.filter(deposit=failed).update(state=State.FAILED, last_error="Zenodo said 500")
    published = make("Published")
    Target.objects.filter(deposit=published).update(
        state=State.PUBLISHED, remote_id="7", published_at=timezone.now()
    )
    plans, results, queued = plan_and_run(
        "retry", curator, [failed, published], django_capture_on_commit_callbacks
    )
    failed_target, published_target = failed.targets.get(), published.targets.get()
    plan = by_key(plans)
    assert plan[f"target:{failed_target.pk}"].will
    assert "Zenodo said 500" in plan[f"target:{failed_target.pk}"].message
    assert "Not failed (published)" in plan[f"target:{published_target.pk}"].message
    result = by_key(results)
    assert result[f"target:{failed_target.pk}"].status == bulk.DONE
    assert result[f"target:{published_target.pk}"].status == bulk.SKIPPED
    assert failed_target.state == State.QUEUED
    assert published_target.state == State.PUBLISHED
    assert len(queued) == 1
    assert failed_target.events.filter(kind="state", to_state=State.QUEUED, actor=curator)


def test_discard_deletes_only_stale_remote_drafts(
    make, curator, django_capture_on_commit_callbacks
):
    stale = make("Stale")
    fresh = make("Fresh")
    local = make("Never sent")
    old = timezone.now() - timedelta(days=45)
    Target.objects.filter(deposit__in=[stale, fresh]).update(
        remote_id="99", remote_state="unsubmitted"
    )
    Target.objects.filter(deposit=stale).update(updated=old)
    _, results, queued = plan_and_run(
        "discard", curator, [stale, fresh, local], django_capture_on_commit_callbacks, days="30"
    )
    result = {r.label.split(" → ")[0]: r for r in results}
    assert result["Stale"].status == bulk.DONE
    assert result["Fresh"].status == bulk.SKIPPED and "not stale" in result["Fresh"].message
    assert "no unpublished draft" in result["Never sent"].message
    target = stale.targets.get()
    assert target.state == State.QUEUED and target.action == Action.DELETE
    assert len(queued) == 1
    assert fresh.targets.get().state == State.READY


def test_discard_says_when_the_repository_cannot_delete_a_draft(
    make, curator, monkeypatch, django_capture_on_commit_callbacks
):
    class NoDelete(ScriptedConnector):
        actions = tuple(a for a in ScriptedConnector.actions if a.action != "delete")

    monkeypatch.setattr(registry, "get", lambda kind: NoDelete())
    deposit = make()
    Target.objects.filter(deposit=deposit).update(
        remote_id="99", updated=timezone.now() - timedelta(days=90)
    )
    plans, results, _ = plan_and_run(
        "discard", curator, [deposit], django_capture_on_commit_callbacks
    )
    assert "offers no way to delete a draft" in plans[0].message
    assert results[0].status == bulk.SKIPPED


def test_community_is_added_to_zenodo_targets_only(
    team, zenodo_account, curator, member, django_capture_on_commit_callbacks
):
    zenodo = DepositFactory(team=team, created_by=member)
    TargetFactory(deposit=zenodo, account=zenodo_account, options={"communities": ["lab"]})
    datameta = DepositFactory(team=team, created_by=member)
    TargetFactory(deposit=datameta, account=AccountFactory(team=team, kind="datameta"))
    with pytest.raises(bulk.NotAllowed, match="community's id"):
        bulk.clean_params(bulk.get("community"), {"community": "Not an id!"})
    plans, results, _ = plan_and_run(
        "community",
        curator,
        [zenodo, datameta],
        django_capture_on_commit_callbacks,
        community="https://zenodo.org/communities/ecfunded",
    )
    assert [p.will for p in plans] == [True, False]
    assert "has no communities" in plans[1].message
    assert [r.status for r in results] == [bulk.DONE, bulk.SKIPPED]
    target = zenodo.targets.get()
    assert target.options["communities"] == ["lab", "ecfunded"]
    assert target.events.filter(kind="options", actor=curator).exists()
    again = bulk.plan(
        bulk.get("community"),
        curator,
        deposit_ids=[zenodo.pk],
        params=bulk.clean_params(bulk.get("community"), {"community": "ecfunded"}),
    )
    assert not again[0].will and "Already" in again[0].message


# --------------------------------------------------------------------------- metadata


def test_keyword_is_added_through_the_metadata_with_an_event(
    make, curator, django_capture_on_commit_callbacks
):
    plain = make("Plain")
    tagged = make("Tagged")  # FULL_VIEW has "soil"
    plans, results, _ = plan_and_run(
        "keyword", curator, [plain, tagged], django_capture_on_commit_callbacks, keyword=" Soil "
    )
    assert not any(p.will for p in plans), "both already have 'soil' (any case)"
    assert all(r.status == bulk.SKIPPED for r in results)

    plans, results, _ = plan_and_run(
        "keyword", curator, [plain, tagged], django_capture_on_commit_callbacks, keyword="drought"
    )
    assert [r.status for r in results] == [bulk.DONE, bulk.DONE]
    for deposit in (plain, tagged):
        deposit.refresh_from_db()
        assert md.keywords(deposit.metadata) == ["soil", "moisture", "drought"]
        event = deposit.events.get(kind="metadata_edited")
        assert event.actor == curator and event.data["fields"] == ["keywords"]
        # what the view does not show is kept
        assert md.title(deposit.metadata) in ("Plain", "Tagged")


def test_grant_is_validated_and_added_to_the_funding(
    make, curator, django_capture_on_commit_callbacks
):
    action = bulk.get("grant")
    with pytest.raises(bulk.NotAllowed, match="award number"):
        bulk.clean_params(action, {"funder_doi": "10.13039/501100000780"})
    with pytest.raises(bulk.NotAllowed, match="Crossref Funder Registry DOI"):
        bulk.clean_params(action, {"funder_doi": "10.5281/x", "award_number": "1"})
    deposit = make()
    _, results, _ = plan_and_run(
        "grant",
        curator,
        [deposit],
        django_capture_on_commit_callbacks,
        funder_doi="https://doi.org/10.13039/501100000780",
        award_number="101000001",
    )
    assert results[0].status == bulk.DONE
    assert "European Commission 101000001" in results[0].message
    deposit.refresh_from_db()
    assert md.to_view(deposit.metadata)["funding"] == [
        {
            "funder_doi": "10.13039/501100000780",
            "funder_name": "European Commission",
            "award_number": "101000001",
        }
    ]
    assert deposit.events.filter(kind="metadata_edited", data__fields=["funding"]).exists()


def test_one_failing_item_does_not_stop_the_others_and_is_rolled_back(
    make, curator, connector, django_capture_on_commit_callbacks
):
    deposits = [make(t) for t in ("A", "Boom", "C")]
    action = bulk.get("keyword")
    params = bulk.clean_params(action, {"keyword": "drought"})
    ids = [d.pk for d in deposits]
    plans = bulk.plan(action, curator, deposit_ids=ids, params=params)
    assert all(p.will for p in plans)

    validate = connector.validate

    def breaks_on_boom(metadata, options, files, schema):  # type: ignore[no-untyped-def]
        if md.title(metadata) == "Boom":  # the repository's rules break on this one
            raise RuntimeError("schema is corrupt")
        return validate(metadata, options, files, schema)

    connector.validate = breaks_on_boom  # type: ignore[method-assign]
    with django_capture_on_commit_callbacks(execute=False):
        results = bulk.run(
            action, curator, deposit_ids=ids, params=params, preview=preview_of(plans)
        )
    assert [r.status for r in results] == [bulk.DONE, bulk.FAILED, bulk.DONE]
    assert "schema is corrupt" in results[1].message
    boom = Deposit.objects.get(pk=deposits[1].pk)
    assert "drought" not in md.keywords(boom.metadata), "the failed item was not rolled back"
    assert not boom.events.filter(kind="metadata_edited").exists()
    for deposit in (deposits[0], deposits[2]):
        deposit.refresh_from_db()
        assert "drought" in md.keywords(deposit.metadata)


# --------------------------------------------------------------------------- accounts


def test_reverify_is_for_team_admins(
    make, zenodo_account, owner, curator, django_capture_on_commit_callbacks
):
    deposit = make()
    key = f"account:{zenodo_account.pk}"
    plans, results, queued = plan_and_run(
        "reverify", curator, [deposit], django_capture_on_commit_callbacks
    )
    assert "Only an admin of Lab A" in by_key(plans)[key].message
    assert by_key(results)[key].status == bulk.SKIPPED and not queued

    plans, results, queued = plan_and_run(
        "reverify", owner, [deposit], django_capture_on_commit_callbacks
    )
    assert by_key(plans)[key].will
    assert by_key(results)[key].status == bulk.DONE
    zenodo_account.refresh_from_db()
    assert zenodo_account.checking
    assert len(queued) == 1
    assert Event.objects.filter(kind="bulk", actor=owner, data__account=zenodo_account.pk)

    again = bulk.plan(
        bulk.get("reverify"),
        owner,
        deposit_ids=[],
        params=bulk.Params(),
        account_ids=[zenodo_account.pk],
    )
    assert not again[0].will and "already asked for" in again[0].message


# --------------------------------------------------------------------------- scoping


def test_another_teams_deposit_is_not_found_and_untouched(
    submitted, curator, stranger, django_capture_on_commit_callbacks
):
    theirs = DepositFactory(team=stranger.memberships.get().team, created_by=stranger)
    first = submitted[0]
    plans, results, _ = plan_and_run(
        "keyword", curator, [first, theirs], django_capture_on_commit_callbacks, keyword="x"
    )
    missing = by_key(plans)[f"missing-deposit:{theirs.pk}"]
    assert not missing.found and missing.message.startswith("Not found")
    assert str(theirs) not in missing.label, "the other team's title is revealed"
    assert by_key(results)[f"missing-deposit:{theirs.pk}"].status == bulk.SKIPPED
    theirs.refresh_from_db()
    assert "x" not in md.keywords(theirs.metadata)


def test_a_member_who_cannot_review_finds_nothing(
    submitted, member, django_capture_on_commit_callbacks
):
    plans, results, _ = plan_and_run(
        "approve", member, submitted, django_capture_on_commit_callbacks
    )
    assert all(not p.found for p in plans)
    assert all(r.status == bulk.SKIPPED for r in results)
    assert all(d.reviews.filter(state=ReviewState.OPEN).exists() for d in submitted[:2])


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_queued_items_stay_queued_and_checks_are_not_asked(
    make, zenodo_account, owner, monkeypatch
):
    """Each item commits on its own, so the task is sent (or not) item by item."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    deposits = [make("One"), make("Two")]
    Target.objects.filter(deposit__in=deposits).update(state=State.FAILED)
    monkeypatch.setattr(current_app, "send_task", broker_down)
    ids = [d.pk for d in deposits]
    for name in ("retry", "reverify"):
        action = bulk.get(name)
        plans = bulk.plan(action, owner, deposit_ids=ids, params=bulk.Params())
        results = bulk.run(
            action, owner, deposit_ids=ids, params=bulk.Params(), preview=preview_of(plans)
        )
        if name == "retry":
            assert [r.status for r in results] == [bulk.DONE, bulk.DONE]
            assert all("stays queued" in r.message for r in results)
            assert set(Target.objects.values_list("state", flat=True)) == {State.QUEUED}
        else:
            assert [r.status for r in results] == [bulk.FAILED]
            assert "could not be checked" in results[0].message
            zenodo_account.refresh_from_db()
            assert not zenodo_account.checking
