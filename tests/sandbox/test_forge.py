"""The forge sandbox's APIs as a client sees them: GitHub's and GitLab's releases lists
(pages and their headers), single releases, the source archives (one top folder, the
files at that tag, the same bytes every time), tokens, private repositories, the control
API's errors. Its webhook deliveries: test_forge_deliveries.py."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from typing import Any

import pytest
from django.test import Client

pytestmark = [pytest.mark.urls("sandbox.forge.root_urls"), pytest.mark.django_db]

BASE_FILES = {"README.md": "# Demo\n", "CITATION.cff": "cff-version: 1.2.0\ntitle: Demo\n"}
BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
}


def control(client: Client, name: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(f"/_control/{name}", data or {}, content_type="application/json")


def make_repo(client: Client, forge: str = "github", path: str = "octo/demo", **extra: Any) -> Any:
    response = control(
        client, "repos", {"forge": forge, "path": path, "files": BASE_FILES, **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()["repo"]


def release(
    client: Client, tag: str, forge: str = "github", path: str = "octo/demo", **extra: Any
) -> Any:
    body = {"forge": forge, "path": path, "tag": tag, "deliver": False, **extra}
    response = control(client, "releases", body)
    assert response.status_code == 201, response.content
    return response.json()


def links(response: Any) -> dict[str, str]:
    """rel -> URL from a Link header."""
    found = {}
    for part in response.get("Link", "").split(","):
        if part.strip():
            url, rel = part.split(";")
            found[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip()[1:-1]
    return found


def zip_of(response: Any) -> zipfile.ZipFile:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return zipfile.ZipFile(io.BytesIO(data))


# -- GitHub ------------------------------------------------------------------------------


def test_it_lists_github_releases_newest_first_in_pages_with_link_headers(client: Client) -> None:
    make_repo(client)
    for n in range(1, 6):
        release(client, f"v{n}")

    first = client.get("/repos/octo/demo/releases", {"per_page": 2})
    assert first.status_code == 200
    assert [r["tag_name"] for r in first.json()] == ["v5", "v4"]
    assert links(first) == {
        "next": "http://testserver/repos/octo/demo/releases?page=2&per_page=2",
        "last": "http://testserver/repos/octo/demo/releases?page=3&per_page=2",
    }
    last = client.get(links(first)["last"])
    assert [r["tag_name"] for r in last.json()] == ["v1"]
    assert set(links(last)) == {"prev", "first"}

    all_five = client.get("/repos/octo/demo/releases", {"per_page": 100})
    assert len(all_five.json()) == 5
    assert "Link" not in all_five


def test_a_page_holds_at_most_100_releases(client: Client) -> None:
    from sandbox.forge.models import ForgeRelease, ForgeRepo

    repo = ForgeRepo.objects.get(pk=make_repo(client)["id"])
    ForgeRelease.objects.bulk_create(
        ForgeRelease(repo=repo, tag=f"v{n}", sha=f"{n:040d}") for n in range(101)
    )

    github = client.get("/repos/octo/demo/releases", {"per_page": 500})
    gitlab_repo = make_repo(client, forge="gitlab", path="grp/tool")
    ForgeRelease.objects.bulk_create(
        ForgeRelease(repo_id=gitlab_repo["id"], tag=f"v{n}", sha=f"{n:040d}") for n in range(101)
    )
    gitlab = client.get("/api/v4/projects/grp%2Ftool/releases", {"per_page": 500})

    assert len(github.json()) == 100
    assert links(github)["last"].endswith("page=2&per_page=100")
    assert len(gitlab.json()) == 100
    assert (gitlab["X-Per-Page"], gitlab["X-Total-Pages"]) == ("100", "2")


def test_a_github_release_has_githubs_fields_pointing_at_the_sandbox(client: Client) -> None:
    repo = make_repo(client)
    made = release(client, "v1.0", name="First", body="Notes")["release"]

    by_id = client.get(f"/repos/octo/demo/releases/{made['id']}").json()
    by_tag = client.get("/repos/octo/demo/releases/tags/v1.0").json()

    assert by_id == by_tag == made
    assert isinstance(made["id"], int)
    assert made["name"] == "First" and made["body"] == "Notes"
    assert made["draft"] is False and made["prerelease"] is False
    assert made["published_at"].endswith("Z") and made["created_at"].endswith("Z")
    assert made["zipball_url"] == "http://testserver/repos/octo/demo/zipball/v1.0"
    assert made["tarball_url"] == "http://testserver/repos/octo/demo/tarball/v1.0"
    assert made["html_url"] == "http://testserver/octo/demo/releases/tag/v1.0"
    assert made["url"] == f"http://testserver/repos/octo/demo/releases/{made['id']}"
    assert made["author"]["login"] == "octo"
    assert client.get("/repos/octo/demo").json()["id"] == repo["id"]
    assert client.get(made["html_url"]).status_code == 200


def test_unknown_github_repos_and_releases_are_not_found(client: Client) -> None:
    make_repo(client)
    for path in (
        "/repos/octo/nothing/releases",
        "/repos/octo/demo/releases/999999",
        "/repos/octo/demo/releases/tags/v9",
        "/repos/octo/demo/zipball/v9",
        "/repos/octo/demo/releases/latest",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not Found", path


def test_the_zipball_redirects_to_codeload_and_holds_the_files_at_that_tag(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(client)
    v1 = release(client, "v1.0")["release"]
    release(
        client, "v2.0", files={"CITATION.cff": "cff-version: 1.2.0\ntitle: Two\n", "new.txt": "x"}
    )

    redirect = client.get(v1["zipball_url"])
    assert redirect.status_code == 302
    assert redirect["Location"] == "http://testserver/codeload/octo/demo/legacy.zip/refs/tags/v1.0"
    first = client.get(redirect["Location"])
    later = time.time() + 5 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    again = client.get(redirect["Location"])  # hours later: the same bytes
    monkeypatch.undo()
    two = client.get(client.get("/repos/octo/demo/zipball/v2.0")["Location"])
    control(client, "repos", {"forge": "github", "path": "octo/demo", "files": {"other": "y"}})
    after_push = client.get(redirect["Location"])  # a tag's tree never changes

    assert first["Content-Type"] == "application/zip"
    assert int(first["Content-Length"]) == len(first.content)
    with zip_of(first) as archive:
        top = archive.namelist()[0]
        assert top.startswith("octo-demo-") and len(top) == len("octo-demo-") + 8  # sha7 + "/"
        assert first["Content-Disposition"] == f'attachment; filename="{top[:-1]}.zip"'
        assert sorted(archive.namelist()) == [top, f"{top}CITATION.cff", f"{top}README.md"]
        assert archive.read(f"{top}CITATION.cff").decode() == BASE_FILES["CITATION.cff"]
    digest = hashlib.sha256(first.content).hexdigest()
    assert hashlib.sha256(again.content).hexdigest() == digest
    assert hashlib.sha256(after_push.content).hexdigest() == digest
    with zip_of(two) as archive:
        top2 = archive.namelist()[0]
        assert top2 != top  # another commit
        assert archive.read(f"{top2}CITATION.cff").endswith(b"title: Two\n")
        assert archive.read(f"{top2}README.md") == b"# Demo\n"
        assert archive.read(f"{top2}new.txt") == b"x"


def test_the_tarball_holds_the_same_top_folder(client: Client) -> None:
    import tarfile

    make_repo(client)
    made = release(client, "v1.0")["release"]
    response = client.get(client.get(made["tarball_url"])["Location"])
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        names = archive.getnames()
    assert names[0].startswith("octo-demo-") and f"{names[0]}/README.md" in names


def test_drafts_are_listed_only_to_a_caller_with_a_token(client: Client) -> None:
    make_repo(client)
    release(client, "v1.0")
    release(client, "v2.0", draft=True)
    control(client, "tokens", {"forge": "github", "token": "ghp_good", "login": "octo"})

    anonymous = client.get("/repos/octo/demo/releases").json()
    signed_in = client.get("/repos/octo/demo/releases", headers={"Authorization": "token ghp_good"})

    assert [r["tag_name"] for r in anonymous] == ["v1.0"]
    assert [(r["tag_name"], r["draft"]) for r in signed_in.json()] == [
        ("v2.0", True),
        ("v1.0", False),
    ]
    assert signed_in.json()[0]["published_at"] is None


def test_github_tokens_are_checked_and_a_bad_one_is_refused_as_github_does(client: Client) -> None:
    make_repo(client)
    control(client, "tokens", {"forge": "github", "token": "ghp_good", "login": "octo"})

    anonymous = client.get("/user")
    good = client.get("/user", headers={"Authorization": "Bearer ghp_good"})
    unknown = client.get("/repos/octo/demo/releases", headers={"Authorization": "Bearer nope"})
    control(client, "tokens/revoke", {"token": "ghp_good"})
    revoked = client.get("/user", headers={"Authorization": "token ghp_good"})

    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Requires authentication"
    assert good.status_code == 200 and good.json()["login"] == "octo"
    assert unknown.status_code == 401 and unknown.json() == BAD_CREDENTIALS
    assert revoked.status_code == 401 and revoked.json() == BAD_CREDENTIALS


def test_a_private_repo_is_not_found_without_a_token(client: Client) -> None:
    make_repo(client, private=True)
    make_repo(client, forge="gitlab", path="grp/secret", private=True)
    control(client, "tokens", {"forge": "github", "token": "ghp_good", "login": "octo"})
    control(client, "tokens", {"forge": "gitlab", "token": "glpat-good", "login": "grp"})

    assert client.get("/repos/octo/demo/releases").status_code == 404
    auth = {"Authorization": "Bearer ghp_good"}
    assert client.get("/repos/octo/demo/releases", headers=auth).status_code == 200
    hidden = client.get("/api/v4/projects/grp%2Fsecret/releases")
    assert hidden.status_code == 404 and hidden.json() == {"message": "404 Project Not Found"}
    shown = client.get(
        "/api/v4/projects/grp%2Fsecret/releases", headers={"Private-Token": "glpat-good"}
    )
    assert shown.status_code == 200


# -- GitLab ------------------------------------------------------------------------------


def test_it_lists_gitlab_releases_by_path_or_id_with_gitlabs_headers(client: Client) -> None:
    repo = make_repo(client, forge="gitlab", path="grp/tool")
    for tag in ("v1", "v2", "v3"):
        release(client, tag, forge="gitlab", path="grp/tool")

    first = client.get("/api/v4/projects/grp%2Ftool/releases", {"per_page": 2})
    by_id = client.get(f"/api/v4/projects/{repo['id']}/releases", {"per_page": 2})
    second = client.get("/api/v4/projects/grp%2Ftool/releases", {"per_page": 2, "page": 2})

    assert [r["tag_name"] for r in first.json()] == ["v3", "v2"]
    assert by_id.json() == first.json()
    assert (first["X-Total"], first["X-Total-Pages"], first["X-Next-Page"]) == ("3", "2", "2")
    assert (
        links(first)["next"]
        == "http://testserver/api/v4/projects/grp%2Ftool/releases?page=2&per_page=2"
    )
    assert [r["tag_name"] for r in second.json()] == ["v1"]
    assert second["X-Next-Page"] == "" and second["X-Prev-Page"] == "1"
    assert set(links(second)) == {"prev", "first", "last"}


def test_a_gitlab_release_has_its_sources_as_gitlab_names_them(client: Client) -> None:
    make_repo(client, forge="gitlab", path="grp/tool")
    made = release(client, "v1.0", forge="gitlab", path="grp/tool", body="Notes")["release"]

    one = client.get("/api/v4/projects/grp%2Ftool/releases/v1.0").json()
    zip_url = next(s["url"] for s in made["assets"]["sources"] if s["format"] == "zip")
    archive = client.get(zip_url)

    assert one == made
    assert made["description"] == "Notes" and made["upcoming_release"] is False
    assert made["released_at"].endswith("Z") and made["author"]["username"] == "grp"
    assert made["_links"]["self"] == "http://testserver/grp/tool/-/releases/v1.0"
    assert zip_url == "http://testserver/grp/tool/-/archive/v1.0/tool-v1.0.zip"
    assert archive.status_code == 200
    assert archive["Content-Disposition"] == 'attachment; filename="tool-v1.0.zip"'
    sha = made["commit"]["id"]
    with zip_of(archive) as opened:
        assert opened.namelist()[0] == f"tool-v1.0-{sha}/"
        assert opened.read(f"tool-v1.0-{sha}/README.md") == b"# Demo\n"
    missing = client.get("/api/v4/projects/grp%2Ftool/releases/v9")
    assert missing.status_code == 404 and missing.json() == {"message": "404 Not Found"}


def test_gitlab_tokens_are_checked_and_github_ones_do_not_count(client: Client) -> None:
    make_repo(client, forge="gitlab", path="grp/tool")
    control(client, "tokens", {"forge": "gitlab", "token": "glpat-good", "login": "alice"})
    control(client, "tokens", {"forge": "github", "token": "ghp_good", "login": "octo"})

    good = client.get("/api/v4/user", headers={"Private-Token": "glpat-good"})
    bearer = client.get("/api/v4/user", headers={"Authorization": "Bearer glpat-good"})
    github = client.get("/api/v4/user", headers={"Private-Token": "ghp_good"})
    bad = client.get("/api/v4/projects/grp%2Ftool/releases", headers={"Private-Token": "nope"})

    assert good.status_code == bearer.status_code == 200
    assert good.json()["username"] == "alice"
    assert github.status_code == 401 and github.json() == {"message": "401 Unauthorized"}
    assert bad.status_code == 401 and bad.json() == {"message": "401 Unauthorized"}
    assert client.get("/api/v4/projects/grp%2Fnothing").json() == {
        "message": "404 Project Not Found"
    }


# -- control API and unknown paths -------------------------------------------------------


def test_unknown_paths_answer_in_json(client: Client) -> None:
    github = client.get("/nothing/here/at/all")
    gitlab = client.get("/api/v4/nothing")
    assert github.status_code == 404 and github.json()["message"] == "Not Found"
    assert gitlab.status_code == 404 and gitlab.json() == {"error": "404 Not Found"}


def test_the_control_api_says_what_to_send_instead(client: Client) -> None:
    wrong_forge = control(client, "repos", {"forge": "bitbucket", "path": "a/b"})
    no_repo = control(client, "releases", {"forge": "github", "path": "a/b", "tag": "v1"})
    make_repo(client)
    release(client, "v1")
    twice = control(client, "releases", {"forge": "github", "path": "octo/demo", "tag": "v1"})
    not_json = client.post("/_control/releases", "{", content_type="application/json")

    assert wrong_forge.status_code == 400 and '"forge" must be' in wrong_forge.json()["message"]
    assert no_repo.status_code == 404 and "POST /_control/repos" in no_repo.json()["message"]
    assert twice.status_code == 409 and "choose another tag" in twice.json()["message"]
    assert not_json.status_code == 400


def test_secrets_and_tokens_are_never_shown_back(client: Client) -> None:
    make_repo(client)
    hook = control(
        client,
        "hooks",
        {
            "forge": "github",
            "path": "octo/demo",
            "url": "http://127.0.0.1:9/",
            "secret": "s3cret-hook",
        },
    )
    token = control(client, "tokens", {"forge": "github", "token": "ghp_s3cret", "login": "octo"})
    shown = b"".join(
        [hook.content, token.content, client.get("/_control/").content, client.get("/").content]
    )
    assert b"s3cret-hook" not in shown and b"ghp_s3cret" not in shown


def test_reset_forgets_everything(client: Client) -> None:
    make_repo(client)
    release(client, "v1")
    control(client, "tokens", {"forge": "github", "token": "ghp_good", "login": "octo"})

    assert control(client, "reset").status_code == 200

    state = client.get("/_control/").json()
    assert state == {"repos": [], "hooks": [], "tokens": []}
    assert client.get("/repos/octo/demo/releases").status_code == 404
    assert client.get("/user", headers={"Authorization": "token ghp_good"}).status_code == 401
