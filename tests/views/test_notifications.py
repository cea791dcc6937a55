"""The bell's count, the list, read marks, opening a link, e-mail choices and Follow;
only ever one's own notifications (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest

from deposits import notifications
from deposits.models import EMAIL_BY_DEFAULT, EmailChoice, Notification, NotificationKind

pytestmark = pytest.mark.django_db


def note(user: Any, deposit: Any, message: str = "News", url: str = "", **kw: Any) -> Notification:
    return Notification.objects.create(
        user=user,
        team=deposit.team,
        deposit=deposit,
        kind=kw.pop("kind", NotificationKind.FAILED),
        message=message,
        url=url,
        **kw,
    )


def count_of(response: Any) -> str:
    html = response.content.decode()
    start = html.index('id="notification-count"')
    return html[start : html.index("</span>", start)].rsplit(">", 1)[1]


def test_the_bell_shows_the_unread_count_on_every_page(member_client, member, deposit):
    page = member_client.get("/")
    assert 'id="notification-bell"' in page.content.decode()
    assert count_of(page) == "0"
    assert 'data-unread="0" hidden' in page.content.decode()
    for _ in range(3):
        note(member, deposit)
    note(member, deposit, read_at="2026-01-01T00:00Z")
    page = member_client.get("/accounts/")
    assert count_of(page) == "3"
    assert 'data-unread="3" hidden' not in page.content.decode()


def test_the_count_fragment_polls_and_counts_only_ones_own(
    member_client, member, owner, deposit, htmx
):
    note(member, deposit)
    note(owner, deposit)
    fragment = member_client.get("/notifications/count/", headers=htmx)
    html = fragment.content.decode()
    assert html.strip().startswith('<span id="notification-count"')
    assert 'hx-trigger="every 10s, notifications-changed from:body"' in html
    assert count_of(fragment) == "1"


def test_the_count_answers_nothing_to_swap_once_signed_out(client, htmx):
    assert client.get("/notifications/count/", headers=htmx).status_code == 204


def test_the_list_is_newest_first_marks_unread_and_shows_only_ones_own(
    member_client, member, owner, deposit
):
    old = note(member, deposit, "First news", url=f"/deposits/{deposit.pk}/")
    new = note(member, deposit, "Second news")
    note(owner, deposit, "Olivia's news")
    Notification.objects.filter(pk=old.pk).update(read_at="2026-01-01T00:00Z")
    html = member_client.get("/notifications/").content.decode()
    assert html.index("Second news") < html.index("First news")
    assert "Olivia's news" not in html
    assert f'id="notification-{new.pk}" data-read="0"' in html
    assert f'id="notification-{old.pk}" data-read="1"' in html
    assert f'href="/notifications/{old.pk}/open/"' in html
    assert html.count("Mark as read</button>") == 1
    assert 'id="mark-all-read"' in html


def test_the_list_says_when_there_is_nothing(member_client):
    html = member_client.get("/notifications/").content.decode()
    assert 'id="no-notifications"' in html
    assert 'id="mark-all-read"' not in html


def test_a_notification_of_a_team_one_left_is_not_shown(member_client, member, deposit):
    item = note(member, deposit, "Old team news")
    member.memberships.all().delete()
    assert "Old team news" not in member_client.get("/notifications/").content.decode()
    assert member_client.post(f"/notifications/{item.pk}/read/").status_code == 404


def test_mark_as_read_marks_one_and_tells_the_bell(member_client, member, deposit, htmx):
    item, other = note(member, deposit, "One"), note(member, deposit, "Two")
    response = member_client.post(f"/notifications/{item.pk}/read/", headers=htmx)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert f'id="notification-{item.pk}" data-read="1"' in response.content.decode()
    item.refresh_from_db()
    other.refresh_from_db()
    assert item.read_at is not None and other.read_at is None
    # without htmx: back to the list
    response = member_client.post(f"/notifications/{other.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert notifications.unread_count(member) == 0


def test_mark_all_as_read(member_client, member, owner, deposit):
    mine = [note(member, deposit) for _ in range(3)]
    theirs = note(owner, deposit)
    response = member_client.post("/notifications/read-all/", follow=True)
    assert "Marked 3 notification(s) as read." in response.content.decode()
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[n.pk for n in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_another_persons_notification_is_not_found(
    member_client, owner, deposit, stranger_client, stranger
):
    theirs = note(owner, deposit)
    for path in (f"/notifications/{theirs.pk}/read/", f"/notifications/{theirs.pk}/open/"):
        method = member_client.post if path.endswith("read/") else member_client.get
        assert method(path).status_code == 404
        assert stranger_client.get(path).status_code in (404, 405)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(member_client, member, deposit):
    item = note(member, deposit, url=f"/deposits/{deposit.pk}/#thread")
    response = member_client.get(f"/notifications/{item.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/deposits/{deposit.pk}/#thread"
    item.refresh_from_db()
    assert item.read_at is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "javascript:alert(1)",
        "evil.example/phish",
    ],
)
def test_opening_never_leaves_the_portal(member_client, member, deposit, url):
    item = note(member, deposit, url=url)
    response = member_client.get(f"/notifications/{item.pk}/open/", follow=True)
    assert response.redirect_chain == [("/notifications/", 302)]
    assert "does not lead to a page of this portal" in response.content.decode()
    item.refresh_from_db()
    assert item.read_at is not None


def test_the_email_choices_start_from_the_defaults_and_are_saved(member_client, member):
    html = member_client.get("/notifications/settings/").content.decode()
    for kind in NotificationKind:
        box = html[html.index(f'id="email-{kind.value}"') :].split(">", 1)[0]
        assert ("checked" in box) == (kind in EMAIL_BY_DEFAULT), kind
    assert "Your account has no e-mail address" in html

    response = member_client.post(
        "/notifications/settings/", {"email": ["published", "comment", "nonsense"]}, follow=True
    )
    assert "Your e-mail choices are saved." in response.content.decode()
    chosen = dict(EmailChoice.objects.filter(user=member).values_list("kind", "email"))
    assert chosen == {
        kind.value: kind.value in {"published", "comment"} for kind in NotificationKind
    }
    html = response.content.decode()
    assert 'id="email-published" checked' in html
    assert 'id="email-failed" checked' not in html
    # and the next notification follows the choice
    assert notifications.wants_email(member.pk, "published") is True
    assert notifications.wants_email(member.pk, "failed") is False


def test_the_email_choices_show_the_address_they_go_to(member_client, member):
    member.email = "ada@example.org"
    member.save()
    html = member_client.get("/notifications/settings/").content.decode()
    assert "E-mails go to the address on your account: <strong>ada@example.org</strong>" in html


def test_follow_and_unfollow_a_deposit(member_client, member, deposit, htmx):
    page = member_client.get(f"/deposits/{deposit.pk}/").content.decode()
    assert 'id="follow-deposit"' in page
    response = member_client.post(f"/deposits/{deposit.pk}/follow/", {"follow": "on"}, headers=htmx)
    assert 'id="unfollow-deposit"' in response.content.decode()
    assert notifications.is_following(deposit, member)
    assert 'id="unfollow-deposit"' in member_client.get(f"/deposits/{deposit.pk}/").content.decode()

    response = member_client.post(f"/deposits/{deposit.pk}/follow/", {"follow": "off"})
    assert response.status_code == 302 and response["Location"] == f"/deposits/{deposit.pk}/"
    assert not notifications.is_following(deposit, member)


def test_the_creator_is_told_without_following(owner_client, deposit):
    page = owner_client.get(f"/deposits/{deposit.pk}/").content.decode()  # olivia made it
    assert "You created it: you are told when it is published or fails." in page
    assert 'id="follow-deposit"' not in page


def test_another_teams_deposit_cannot_be_followed(stranger_client, stranger, deposit):
    assert (
        stranger_client.post(f"/deposits/{deposit.pk}/follow/", {"follow": "on"}).status_code == 404
    )
    assert not notifications.is_following(deposit, stranger)


def test_the_pages_need_a_sign_in(client):
    for path in ("/notifications/", "/notifications/settings/"):
        assert client.get(path)["Location"].startswith("/login/")
