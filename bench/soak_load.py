"""The people of the soak: signed-in users browsing and editing over HTTP, and the one
who presses Publish, all through the portal's own pages (gunicorn, CSRF, sessions).

Every reply is tallied by status; a 5xx or a connection the portal refused or dropped is
kept with its time, method and path, so the summary can say when and where it happened
(for instance during the Redis restart).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import requests

PASSWORD = "soak-pass"  # every soak user's


@dataclass
class Tally:
    """Replies of the portal, shared by every user thread."""

    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    connection_errors: list[dict[str, Any]] = field(default_factory=list)
    edits_saved: int = 0
    edits_refused: int = 0
    resent_after_reset: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, status: int | None, error: str = "") -> None:
        with self.lock:
            entry = {"at": round(time.time(), 1), "method": method, "path": path}
            if status is None:
                self.connection_errors.append({**entry, "error": error[:200]})
                return
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append({**entry, "status": status})


class Portal:
    """One signed-in person's browser: a session with its cookies and CSRF token."""

    def __init__(self, url: str, tally: Tally) -> None:
        self.url = url
        self.tally = tally
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        """One request; like a browser, a GET is sent again once when the server closed the
        kept-alive connection just as it was reused (gunicorn's keep-alive is 2 s)."""
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        for attempt in (1, 2):
            try:
                reply = self.session.request(method, f"{self.url}{path}", **kwargs)
            except requests.ConnectionError as exc:
                if method == "GET" and attempt == 1 and "reset by peer" in str(exc):
                    with self.tally.lock:
                        self.tally.resent_after_reset += 1
                    continue
                self.tally.record(method, path, None, f"{type(exc).__name__}: {exc}")
                return None
            except requests.RequestException as exc:
                self.tally.record(method, path, None, f"{type(exc).__name__}: {exc}")
                return None
            self.tally.record(method, path, reply.status_code)
            return reply
        return None

    def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]]) -> Any:
        token = self.session.cookies.get("csrftoken", "")
        return self.request("POST", path, data=data, headers={"X-CSRFToken": token})

    def sign_in(self, username: str, password: str) -> bool:
        self.request("GET", "/login/")
        reply = self.post("/login/", {"username": username, "password": password, "next": "/"})
        return reply is not None and reply.status_code == 302


# --------------------------------------------------------------------------- publishing


def press_publish(portal: Portal, target_id: int) -> bool:
    """The Publish button and its confirmation page's "Publish now"; True once queued."""
    from deposits.models import State, Target

    for _ in range(5):
        portal.request("GET", f"/targets/{target_id}/publish/")
        portal.post(f"/targets/{target_id}/publish/", {"confirmed": "1"})
        state = Target.objects.filter(pk=target_id).values_list("state", flat=True).first()
        if state not in (State.READY, State.DRAFT, None):
            return True
        time.sleep(1)  # a person would press again after a moment
    return False


# --------------------------------------------------------------------------- browsing users


@dataclass
class Browsing:
    """What the user threads may look at: the soak's deposits and targets, one draft each."""

    deposits: list[int]
    targets: list[int]
    own_drafts: dict[str, int]
    think_seconds: float
    pages: int


class User(threading.Thread):
    """A signed-in person: dashboard, deposit pages, live status fragments, and now and
    then a small edit of the description of a draft of their own."""

    def __init__(
        self, url: str, username: str, browsing: Browsing, tally: Tally, *, seed: int
    ) -> None:
        super().__init__(name=f"user-{username}", daemon=True)
        self.portal = Portal(url, tally)
        self.username = username
        self.browsing = browsing
        self.tally = tally
        self.rng = random.Random(seed)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set() and not self.portal.sign_in(self.username, PASSWORD):
            self.stopping.wait(5)
        while not self.stopping.is_set():
            self.step()
            self.stopping.wait(self.rng.uniform(0.5, 1.5) * self.browsing.think_seconds)

    def step(self) -> None:
        b, rng = self.browsing, self.rng
        choice = rng.random()
        if choice < 0.25:
            self.portal.request("GET", f"/?page={rng.randint(1, max(1, b.pages))}")
        elif choice < 0.5:
            self.portal.request("GET", f"/deposits/{rng.choice(b.deposits)}/")
        elif choice < 0.7:
            self.portal.request("GET", f"/deposits/{rng.choice(b.deposits)}/status/")
        elif choice < 0.9:
            self.portal.request("GET", f"/targets/{rng.choice(b.targets)}/?polling=1")
        else:
            self.edit()

    def edit(self) -> None:
        """Change the description of the user's own draft through the metadata form."""
        pk = self.browsing.own_drafts[self.username]
        page = self.portal.request("GET", f"/deposits/{pk}/")
        if page is None or page.status_code != 200:
            return
        fields = form_fields(page.text, "metadata-form")
        if not fields:
            return
        stamp = f"Edited by {self.username} at {time.strftime('%H:%M:%S')}."
        data = [(k, stamp if k == "description" else v) for k, v in fields]
        reply = self.portal.post(f"/deposits/{pk}/metadata/", data)
        with self.tally.lock:
            if reply is not None and reply.status_code == 302:
                self.tally.edits_saved += 1
            else:
                self.tally.edits_refused += 1


class FormFields(HTMLParser):
    """The name/value pairs a browser would submit from the form ``form_id``."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: tuple[str, str] | None = None
        self._selected = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            option = (self._select, a.get("value", ""))
            self._first_option = self._first_option or option
            if "selected" in a:
                self.fields.append(option)
                self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea and self.fields and self.fields[-1][0] == self._textarea:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea:
            # A browser drops the newline that starts a textarea's content.
            name, value = self.fields[-1]
            self.fields[-1] = (name, value.removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._selected and self._first_option:
                self.fields.append(self._first_option)
            self._select = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields
