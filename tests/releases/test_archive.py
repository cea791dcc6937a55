"""Downloading a release archive (over real HTTP to a local stand-in forge) and reading its
citation files without extracting it: what each failure says, and whether it is retried."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deposits.releases import archive
from deposits.releases.archive import ArchiveError
from tests.factories import ReleaseSourceFactory

Route = tuple[int, dict[str, str], bytes | Callable[[], Iterator[bytes]]]


@dataclass
class Forge:
    """A tiny forge on a free port: fixed answers per path; it keeps the headers it got."""

    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def route(self, path: str, status: int = 200, body: Any = b"", **headers: str) -> str:
        self.routes[path] = (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)
        return self.url + path


@pytest.fixture
def serve() -> Iterator[Callable[[], Forge]]:
    servers: list[ThreadingHTTPServer] = []

    def start() -> Forge:
        forge = Forge()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                forge.seen.append((self.path, dict(self.headers.items())))
                status, headers, body = forge.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if callable(body):
                    self.end_headers()
                    try:
                        for chunk in body():
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        forge.url = f"http://127.0.0.1:{server.server_address[1]}"
        return forge

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def forge_hosts(settings: Any, tmp_path: Path) -> None:
    settings.ALLOWED_FORGE_HOSTS = ["127.0.0.1"]
    settings.UPLOAD_STAGING_DIR = tmp_path / "staging"


def make_zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def fetch(url: str, source: Any) -> tuple[int, str, str, bytes]:
    with archive.download(url, source) as got:
        return got.size, got.md5, got.sha256, got.path.read_bytes()


@pytest.mark.django_db
def test_it_streams_the_archive_to_a_file_with_its_hashes(serve):
    forge = serve()
    data = make_zip({"lab-analysis-abc1234/README.md": "hello"})
    url = forge.route("/zipball/v1", body=data)
    size, md5, sha256, kept = fetch(url, ReleaseSourceFactory(api_url=forge.url))
    assert (size, md5, sha256) == (
        len(data),
        hashlib.md5(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )
    assert kept == data


@pytest.mark.django_db
def test_the_temporary_file_is_gone_afterwards(serve, tmp_path):
    forge = serve()
    url = forge.route("/zipball/v1", body=make_zip({"a/b": "c"}))
    with archive.download(url, ReleaseSourceFactory(api_url=forge.url)) as got:
        assert got.path.exists()
    assert not got.path.exists()
    assert list((tmp_path / "staging").iterdir()) == []


@pytest.mark.django_db
def test_a_missing_archive_is_final_and_says_it_is_gone(serve):
    forge = serve()
    with pytest.raises(ArchiveError) as caught:
        fetch(forge.url + "/zipball/deleted", ReleaseSourceFactory(api_url=forge.url))
    assert caught.value.permanent
    assert "The archive is gone" in caught.value.message and "HTTP 404" in caught.value.message


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_retried_later(serve, status):
    forge = serve()
    url = forge.route("/zipball/v1", status=status, body=b"busy", Retry_After="7")
    with pytest.raises(ArchiveError) as caught:
        fetch(url, ReleaseSourceFactory(api_url=forge.url))
    assert not caught.value.permanent
    assert caught.value.retry_after == 7.0
    assert f"HTTP {status}" in caught.value.message


@pytest.mark.django_db
def test_a_refused_connection_is_retried_later():
    with pytest.raises(ArchiveError) as caught:
        fetch("http://127.0.0.1:9/zipball/v1", ReleaseSourceFactory(api_url="http://127.0.0.1:9"))
    assert not caught.value.permanent
    assert "could not be reached" in caught.value.message


@pytest.mark.django_db
def test_an_archive_too_large_by_its_declared_length_is_refused_before_reading(serve, settings):
    settings.RELEASE_ARCHIVE_MAX_BYTES = 2 * 10**9
    forge = serve()

    def never() -> Iterator[bytes]:
        yield b"x" * 10  # far less than declared: the length alone must decide

    url = forge.route("/zipball/big", body=never, Content_Length=str(3_100_000_000))
    with pytest.raises(ArchiveError) as caught:
        fetch(url, ReleaseSourceFactory(api_url=forge.url))
    assert caught.value.permanent
    assert caught.value.message.startswith(
        "The archive is 3.1 GB, above the 2.0 GB limit (RELEASE_ARCHIVE_MAX_BYTES)"
    )


@pytest.mark.django_db
def test_an_archive_that_grows_past_the_limit_while_streaming_is_cut_off(serve, settings):
    settings.RELEASE_ARCHIVE_MAX_BYTES = 1_000_000
    forge = serve()
    sent = []

    def endless() -> Iterator[bytes]:
        for _ in range(10_000):  # 640 MB if nobody stopped reading
            sent.append(1)
            yield b"x" * 65536

    url = forge.route("/zipball/big", body=endless)  # no Content-Length: only reading tells
    with pytest.raises(ArchiveError) as caught:
        fetch(url, ReleaseSourceFactory(api_url=forge.url))
    assert caught.value.permanent
    assert "above the 1.0 MB limit (RELEASE_ARCHIVE_MAX_BYTES)" in caught.value.message
    assert len(sent) < 1000


@pytest.mark.django_db
def test_a_redirect_off_the_allowlist_is_refused_without_a_request_there(serve, settings):
    forge, elsewhere = serve(), serve()
    settings.ALLOWED_FORGE_HOSTS = [forge.url.removeprefix("http://")]
    target = elsewhere.route("/file.zip", body=make_zip({"a/b": "c"}))
    url = forge.route("/zipball/v1", status=302, Location=target)
    with pytest.raises(ArchiveError) as caught:
        fetch(url, ReleaseSourceFactory(api_url=forge.url))
    assert caught.value.permanent
    assert "not an allowed forge host (ALLOWED_FORGE_HOSTS)" in caught.value.message
    assert elsewhere.seen == []


@pytest.mark.django_db
def test_the_token_goes_to_the_api_origin_only_never_to_where_it_redirects(serve):
    api, codeload = serve(), serve()
    data = make_zip({"lab-analysis-abc1234/README.md": "hello"})
    target = codeload.route("/legacy.zip/refs/tags/v1", body=data)
    url = api.route("/repos/lab/analysis/zipball/v1", status=302, Location=target)
    source = ReleaseSourceFactory(api_url=api.url)
    source.set_token("ghp_secret_token_123")
    source.save()
    assert fetch(url, source)[3] == data
    assert api.seen[0][1].get("Authorization") == "Bearer ghp_secret_token_123"
    assert all("ghp_secret_token_123" not in str(headers) for _, headers in codeload.seen)
    assert codeload.seen  # it was asked, without the token


@pytest.mark.django_db
def test_a_gitlab_token_travels_as_private_token(serve):
    api = serve()
    url = api.route("/group/project/-/archive/v1/project-v1.zip", body=make_zip({"a/b": "c"}))
    source = ReleaseSourceFactory(forge="gitlab", api_url=api.url + "/api/v4")
    source.set_token("glpat-secret")
    source.save()
    fetch(url, source)
    assert api.seen[0][1].get("PRIVATE-TOKEN") == "glpat-secret"
    assert "Authorization" not in api.seen[0][1]


@pytest.mark.django_db
def test_a_redirect_loop_stops_after_five_hops(serve):
    forge = serve()
    forge.route("/a", status=302, Location="/b")
    forge.route("/b", status=302, Location="/a")
    with pytest.raises(ArchiveError) as caught:
        fetch(forge.url + "/a", ReleaseSourceFactory(api_url=forge.url))
    assert caught.value.permanent and "more than 5 times" in caught.value.message
    assert len(forge.seen) == 6


@pytest.mark.django_db
def test_the_download_has_a_total_deadline(serve, settings):
    settings.RELEASE_ARCHIVE_DEADLINE_SECONDS = 0.5
    forge = serve()

    def slow() -> Iterator[bytes]:
        import time

        for _ in range(50):
            time.sleep(0.05)
            yield b"x" * 100

    url = forge.route("/zipball/slow", body=slow)
    with pytest.raises(ArchiveError) as caught:
        fetch(url, ReleaseSourceFactory(api_url=forge.url))
    assert not caught.value.permanent and "deadline" in caught.value.message


# --------------------------------------------------------------------------- reading


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "archive.zip"
    path.write_bytes(data)
    return path


def test_it_finds_the_citation_files_in_the_single_top_folder(tmp_path):
    path = write(
        tmp_path,
        make_zip(
            {
                "lab-analysis-abc1234/.zenodo.json": "{}",
                "lab-analysis-abc1234/CITATION.cff": "title: x",
                "lab-analysis-abc1234/src/CITATION.cff": "deeper: not this one",
            }
        ),
    )
    contents = archive.read_contents(path)
    assert contents.top == "lab-analysis-abc1234"
    assert contents.files == {".zenodo.json": b"{}", "CITATION.cff": b"title: x"}


def test_a_file_that_is_no_zip_is_final(tmp_path):
    with pytest.raises(ArchiveError) as caught:
        archive.read_contents(write(tmp_path, b"<html>Sign in to GitHub</html>"))
    assert caught.value.permanent and "not a zip file" in caught.value.message


def test_paths_climbing_out_of_the_folder_are_ignored_and_reported(tmp_path):
    path = write(
        tmp_path,
        make_zip(
            {
                "top/README.md": "hi",
                "top/../CITATION.cff": "title: planted",
                "../../etc/CITATION.cff": "title: planted",
            }
        ),
    )
    contents = archive.read_contents(path)
    assert contents.files == {}
    assert contents.top == "top"
    assert [p["message"] for p in contents.problems] == [
        "Ignored “top/../CITATION.cff”: its path points outside the archive's folder.",
        "Ignored “../../etc/CITATION.cff”: its path points outside the archive's folder.",
    ]
    assert not (tmp_path / "etc").exists()


def test_a_citation_file_that_expands_hugely_is_not_read(tmp_path):
    bomb = b"a" * (archive.CITATION_MAX_BYTES * 20)  # compresses to a few kB
    data = make_zip({"top/CITATION.cff": bomb})
    assert len(data) < 100_000
    contents = archive.read_contents(write(tmp_path, data))
    assert "CITATION.cff" not in contents.files
    assert contents.problems[0]["field"] == "CITATION.cff"
    assert "larger than 1.0 MB" in contents.problems[0]["message"]


def test_a_zip_without_one_top_folder_is_read_at_its_root(tmp_path):
    path = write(tmp_path, make_zip({"CITATION.cff": "title: x", "other/file": "y"}))
    contents = archive.read_contents(path)
    assert contents.top == "" and contents.files == {"CITATION.cff": b"title: x"}
