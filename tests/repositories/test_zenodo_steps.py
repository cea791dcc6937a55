"""Each Zenodo step does one remote operation and is idempotent after a crash."""

from __future__ import annotations

import copy
import json

import pytest
import responses
from responses import matchers

from deposits.repositories.base import ChecksumMismatch, PermanentError, TransientError
from deposits.repositories.zenodo.crosswalk import to_zenodo

from .conftest import BASE, FULL_VIEW, file_job, load_fixture

SANDBOX = "https://sandbox.zenodo.org/api"
MARKER = "portal-create-7f3a9c"


def fixture(name: str) -> dict:
    return copy.deepcopy(load_fixture(f"zenodraft-sandbox-2024-01/{name}"))


@pytest.fixture
def rsps():
    # only what a test registers may be called: anything else fails the test
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def sandbox_client(connector, records):
    from deposits.repositories.http import HttpClient

    from .conftest import TOKEN

    return HttpClient(
        base_url=SANDBOX,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=None,
        limiter_key="sandbox.zenodo.org:1",
        windows=list(connector.default_rate_windows),
        record=records.append,
        allowed_hosts=["sandbox.zenodo.org"],
    )


def run(connector, step, client, job):
    seen: list[tuple[str, int]] = []
    result = connector.run_step(step, client, job, lambda name, sent: seen.append((name, sent)))
    return result, seen


def test_steps_per_action(connector, make_job):
    assert connector.steps("publish") == ["create", "upload", "describe", "publish", "confirm"]
    assert connector.steps("publish")[0] == "create"
    assert connector.steps("new_version") == ["new_version"]  # opens the draft, no more
    assert connector.steps("publish_version") == [
        "reconcile_files", "upload", "describe", "publish", "confirm",
    ]  # fmt: skip
    assert connector.steps("discard_version") == ["discard_version"]
    assert connector.steps("edit") == ["edit", "describe", "publish", "confirm"]
    assert connector.steps("discard") == ["discard"]
    assert connector.steps("delete") == ["delete"]


# --------------------------------------------------------------------------- create


def expect_marked_create(rsps):  # type: ignore[no-untyped-def]
    rsps.post(
        f"{SANDBOX}/deposit/depositions",
        json=fixture("101.json"),
        status=201,
        match=[
            matchers.json_params_matcher(
                {
                    "metadata": {
                        "title": FULL_VIEW["title"],
                        "upload_type": "publication",
                        "publication_type": "article",
                        "notes": MARKER,
                    }
                }
            )
        ],
    )


def test_a_first_create_makes_a_marked_draft_in_one_call(connector, sandbox_client, make_job, rsps):
    expect_marked_create(rsps)
    result, _ = run(connector, "create", sandbox_client, make_job(create_marker=MARKER))
    assert (result.remote_id, result.remote_state) == ("101", "unsubmitted")
    assert result.remote_links["bucket"].startswith(f"{SANDBOX}/files/")
    assert [c.request.method for c in rsps.calls] == ["POST"]


def test_a_resumed_create_that_finds_no_marked_draft_makes_one(
    connector, sandbox_client, make_job, rsps
):
    rsps.get(
        f"{SANDBOX}/deposit/depositions",
        json=[fixture("121.json")],  # someone else's draft, no marker
        match=[
            matchers.query_param_matcher({"status": "draft", "sort": "mostrecent", "size": "50"})
        ],
    )
    expect_marked_create(rsps)
    job = make_job(create_marker=MARKER, resumed=True)
    result, _ = run(connector, "create", sandbox_client, job)
    assert result.remote_id == "101"
    assert [c.request.method for c in rsps.calls] == ["GET", "POST"]


def test_create_adopts_the_draft_a_crashed_attempt_made(connector, sandbox_client, make_job, rsps):
    ours = fixture("101.json")
    ours["metadata"]["notes"] = MARKER
    rsps.get(f"{SANDBOX}/deposit/depositions", json=[fixture("121.json"), ours])
    result, _ = run(
        connector, "create", sandbox_client, make_job(create_marker=MARKER, resumed=True)
    )
    assert result.remote_id == "101"
    assert [c.request.method for c in rsps.calls] == ["GET"]  # no second draft


def test_create_with_a_known_draft_only_reads_it(connector, sandbox_client, make_job, rsps):
    rsps.get(f"{SANDBOX}/deposit/depositions/101", json=fixture("101.json"))
    result, _ = run(
        connector, "create", sandbox_client, make_job(remote_id="101", create_marker=MARKER)
    )
    assert result.remote_id == "101"


# --------------------------------------------------------------------------- upload


def test_upload_streams_one_file_and_checks_its_md5(connector, sandbox_client, make_job, rsps):
    draft = fixture("101.json")
    bucket = draft["links"]["bucket"]
    first = file_job("data file.csv", b"a,b\n1,2\n")
    second = file_job("readme.txt", b"hello")
    rsps.get(f"{SANDBOX}/deposit/depositions/101", json=draft)

    def put(request):
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        assert request.headers["Content-Type"] == "application/octet-stream"
        assert request.headers["Content-Length"] == str(first.size)
        return (
            201,
            {},
            json.dumps(
                {
                    "key": "data file.csv",
                    "checksum": f"md5:{first.md5}",
                    "version_id": "v-1",
                    "size": len(body),
                }
            ),
        )

    rsps.add_callback(responses.PUT, f"{bucket}/data%20file.csv", callback=put)
    result, progress = run(
        connector, "upload", sandbox_client, make_job(remote_id="101", files=[first, second])
    )
    assert result.done is False  # readme.txt is still pending
    assert {n: u.changes() for n, u in result.file_updates.items()} == {
        "data file.csv": {
            "status": "done",
            "remote_id": "v-1",
            "remote_checksum": f"md5:{first.md5}",
            "bytes_sent": first.size,
        }
    }
    assert progress[-1] == ("data file.csv", first.size)


def test_a_resumed_upload_skips_a_file_already_there_with_our_md5(
    connector, sandbox_client, make_job, rsps
):
    draft = fixture("121.json")
    rsps.get(f"{SANDBOX}/deposit/depositions/121", json=draft)
    readme = file_job("README.md", b"x" * 14)
    readme.md5 = "2F0D514DC20D16DE868C6A2C568E7E39"
    readme.status = "uploading"  # an earlier attempt began sending it
    job = make_job(remote_id="121", files=[readme], remote_links=draft["links"])
    result, _ = run(connector, "upload", sandbox_client, job)
    assert result.done is True
    assert result.file_updates["README.md"].status == "done"
    assert result.file_updates["README.md"].remote_id == "c7ff1bb5-a01d-45c3-b66c-bad3c0835c39"
    assert [c.request.method for c in rsps.calls] == ["GET"]  # nothing re-sent


def test_a_first_upload_goes_straight_to_the_put(connector, sandbox_client, make_job, rsps):
    bucket = fixture("101.json")["links"]["bucket"]
    data = file_job("data.csv", b"a,b\n1,2\n")
    rsps.put(
        f"{bucket}/data.csv",
        json={"key": "data.csv", "checksum": f"md5:{data.md5}", "version_id": "v-1"},
        status=201,
    )
    job = make_job(remote_id="101", files=[data], remote_links={"bucket": bucket})
    result, _ = run(connector, "upload", sandbox_client, job)
    assert result.file_updates["data.csv"].status == "done"
    assert [c.request.method for c in rsps.calls] == ["PUT"]  # the protocol's minimum


def test_upload_resends_a_file_there_with_other_bytes(connector, sandbox_client, make_job, rsps):
    draft = fixture("121.json")
    rsps.get(f"{SANDBOX}/deposit/depositions/121", json=draft)
    readme = file_job("README.md", b"new content")
    rsps.put(
        f"{draft['links']['bucket']}/README.md",
        status=201,
        json={"key": "README.md", "checksum": f"md5:{readme.md5}"},
    )
    result, _ = run(connector, "upload", sandbox_client, make_job(remote_id="121", files=[readme]))
    assert result.done and result.file_updates["README.md"].remote_checksum == f"md5:{readme.md5}"


def test_a_checksum_mismatch_says_which_file_and_that_it_will_be_resent(
    connector, sandbox_client, make_job, rsps
):
    draft = fixture("101.json")
    rsps.get(f"{SANDBOX}/deposit/depositions/101", json=draft)
    data = file_job("data.csv", b"a,b\n")
    rsps.put(
        f"{draft['links']['bucket']}/data.csv",
        status=201,
        json={"key": "data.csv", "checksum": "md5:" + "0" * 32},
    )
    with pytest.raises(ChecksumMismatch) as caught:
        run(connector, "upload", sandbox_client, make_job(remote_id="101", files=[data]))
    message = str(caught.value)
    assert "data.csv" in message and data.md5 in message and "0" * 32 in message
    assert "sent again" in message and not caught.value.permanent


def test_upload_with_nothing_pending_is_done(connector, sandbox_client, make_job):
    done = file_job("a.csv", b"1", status="done")
    result, _ = run(connector, "upload", sandbox_client, make_job(remote_id="101", files=[done]))
    assert result.done


# --------------------------------------------------------------------------- describe


def test_describe_sends_the_full_rebuilt_metadata(connector, sandbox_client, make_job, rsps):
    job = make_job(remote_id="101", options={"communities": ["ecfunded"]})
    expected = {"metadata": to_zenodo(job.metadata, job.options, job.related)}
    rsps.put(
        f"{SANDBOX}/deposit/depositions/101",
        json=fixture("111.json"),
        match=[matchers.json_params_matcher(expected)],
    )
    result, _ = run(connector, "describe", sandbox_client, job)
    assert MARKER not in json.dumps(expected)  # the PUT replaces notes: the marker goes
    assert result.remote_id == "111"  # whatever the server says its id is


# --------------------------------------------------------------------------- publish / confirm


def test_publish_posts_once_and_takes_the_doi_from_doi(connector, sandbox_client, make_job, rsps):
    rsps.get(
        f"{SANDBOX}/deposit/depositions/143439",
        json={
            **fixture("121.json"),
            "id": 143439,
            "links": {"publish": f"{SANDBOX}/deposit/depositions/143439/actions/publish"},
        },
    )
    published = load_fixture("misc/pedp-zenodo-deposit_sandbox_2024-12_published.json")
    rsps.post(f"{SANDBOX}/deposit/depositions/143439/actions/publish", json=published, status=202)
    result, _ = run(connector, "publish", sandbox_client, make_job(remote_id="143439"))
    version, concept = result.identifiers
    assert (version.scheme, version.value, version.scope) == (
        "doi",
        "10.5072/zenodo.143439",
        "version",
    )
    assert version.url == "https://doi.org/10.5072/zenodo.143439"
    assert concept.scope == "concept"
    assert result.remote_state == "done"
    assert {"html", "badge", "record", "latest"} <= set(result.remote_links)


def test_publish_after_a_crash_returns_the_existing_doi_without_posting(
    connector, sandbox_client, make_job, rsps
):
    published = fixture("131.json")
    rsps.get(f"{SANDBOX}/deposit/depositions/131", json=published)
    publish_link = f"{SANDBOX}/deposit/depositions/131/actions/publish"
    job = make_job(remote_id="131", resumed=True, remote_links={"publish": publish_link})
    result, _ = run(connector, "publish", sandbox_client, job)
    assert [i.value for i in result.identifiers] == ["10.5072/zenodo.131", "10.5072/zenodo.100"]
    assert [c.request.method for c in rsps.calls] == ["GET"]


def test_a_first_publish_posts_without_reading_first(connector, sandbox_client, make_job, rsps):
    publish_link = f"{SANDBOX}/deposit/depositions/143439/actions/publish"
    published = load_fixture("misc/pedp-zenodo-deposit_sandbox_2024-12_published.json")
    rsps.post(publish_link, json=published, status=202)
    job = make_job(remote_id="143439", remote_links={"publish": publish_link})
    result, _ = run(connector, "publish", sandbox_client, job)
    assert result.identifiers[0].value == "10.5072/zenodo.143439"
    assert [c.request.method for c in rsps.calls] == ["POST"]  # the protocol's minimum


def test_publish_of_an_edit_draft_posts(connector, sandbox_client, make_job, rsps):
    rsps.get(f"{SANDBOX}/deposit/depositions/141", json=fixture("141.json"))
    rsps.post(
        f"{SANDBOX}/deposit/depositions/141/actions/publish",
        json={**fixture("131.json"), "id": 141},
        status=202,
    )
    result, _ = run(connector, "publish", sandbox_client, make_job(action="edit", remote_id="141"))
    assert result.identifiers[0].value == "10.5072/zenodo.131"


def test_confirm_reads_the_record(connector, sandbox_client, make_job, rsps):
    record = fixture("131.json")
    rsps.get(record["links"]["record"], json=record)
    job = make_job(remote_id="131", remote_links=record["links"])
    result, _ = run(connector, "confirm", sandbox_client, job)
    assert result.remote_state == "done"
    assert result.identifiers[0].value == "10.5072/zenodo.131"


def test_confirm_accepts_an_rdm_record_reply(connector, sandbox_client, make_job, rsps):
    rsps.get(f"{SANDBOX}/records/7", json={
        "id": "7", "status": "published", "links": {"self_html": f"{SANDBOX}/records/7"},
        "pids": {"doi": {"identifier": "10.5072/zenodo.7"}},
        "parent": {"pids": {"doi": {"identifier": "10.5072/zenodo.6"}}},
    })  # fmt: skip
    result, _ = run(connector, "confirm", sandbox_client, make_job(remote_id="7"))
    assert [i.value for i in result.identifiers] == ["10.5072/zenodo.7", "10.5072/zenodo.6"]


def test_confirm_without_a_doi_is_retried(connector, sandbox_client, make_job, rsps):
    rsps.get(f"{SANDBOX}/records/101", json=fixture("101.json"))
    with pytest.raises(TransientError):
        run(connector, "confirm", sandbox_client, make_job(remote_id="101"))


# --------------------------------------------------------------------------- new version


def test_new_version_posts_and_adopts_the_new_draft(connector, sandbox_client, make_job, rsps):
    rsps.get(
        f"{SANDBOX}/deposit/depositions/131", json=fixture("131.json")
    )  # latest_draft is itself
    rsps.post(
        f"{SANDBOX}/deposit/depositions/131/actions/newversion",
        json=fixture("151.json"),
        status=201,
    )
    files = [
        file_job("a.csv", b"1", status="done", remote_id="x"),
        file_job("old", b"2", status="delete"),
    ]
    result, _ = run(
        connector,
        "new_version",
        sandbox_client,
        make_job(action="new_version", remote_id="131", files=files),
    )
    assert (result.remote_id, result.remote_state) == ("151", "unsubmitted")
    assert {n: u.changes() for n, u in result.file_updates.items()} == {
        "a.csv": {"status": "pending", "remote_id": "", "remote_checksum": ""}
    }


def test_new_version_reuses_an_open_draft(connector, sandbox_client, make_job, rsps):
    record = fixture("131.json")
    record["links"]["latest_draft"] = f"{SANDBOX}/deposit/depositions/151"
    rsps.get(f"{SANDBOX}/deposit/depositions/131", json=record)
    rsps.get(f"{SANDBOX}/deposit/depositions/151", json=fixture("151.json"))
    result, _ = run(
        connector, "new_version", sandbox_client, make_job(action="new_version", remote_id="131")
    )
    assert result.remote_id == "151"
    assert "POST" not in [c.request.method for c in rsps.calls]


def test_new_version_survives_please_remove_all_files_first(
    connector, sandbox_client, make_job, rsps
):
    stale = fixture("131.json")
    fresh = fixture("131.json")
    fresh["links"]["latest_draft"] = f"{SANDBOX}/deposit/depositions/151"
    rsps.get(f"{SANDBOX}/deposit/depositions/131", json=stale)
    rsps.post(
        f"{SANDBOX}/deposit/depositions/131/actions/newversion",
        status=400,
        json={"status": 400, "message": "A validation error occurred.", "errors": [
            {"field": "files.enabled", "messages": ["Please remove all files first."]}]},
    )  # fmt: skip
    rsps.get(f"{SANDBOX}/deposit/depositions/131", json=fresh)
    rsps.get(f"{SANDBOX}/deposit/depositions/151", json=fixture("151.json"))
    result, _ = run(
        connector, "new_version", sandbox_client, make_job(action="new_version", remote_id="131")
    )
    assert result.remote_id == "151"


def test_new_version_with_the_legacy_reply_follows_latest_draft(
    connector, sandbox_client, make_job, rsps
):
    old = fixture("131.json")
    after = fixture("131.json")
    after["links"]["latest_draft"] = f"{SANDBOX}/deposit/depositions/151"
    rsps.get(f"{SANDBOX}/deposit/depositions/131", json=old)
    rsps.post(f"{SANDBOX}/deposit/depositions/131/actions/newversion", json=after, status=201)
    rsps.get(f"{SANDBOX}/deposit/depositions/151", json=fixture("151.json"))
    result, _ = run(
        connector, "new_version", sandbox_client, make_job(action="new_version", remote_id="131")
    )
    assert result.remote_id == "151"


def test_new_version_rerun_on_the_draft_only_reads_it(connector, sandbox_client, make_job, rsps):
    rsps.get(f"{SANDBOX}/deposit/depositions/151", json=fixture("151.json"))
    result, _ = run(
        connector, "new_version", sandbox_client, make_job(action="new_version", remote_id="151")
    )
    assert result.remote_id == "151"


def test_reconcile_deletes_stale_files_one_per_call_and_keeps_matches(
    connector, sandbox_client, make_job, rsps
):
    draft = load_fixture("misc/stepup-reprep_sandbox_2024-06_deposition_inprogress.json")
    remote = {f["filename"]: f for f in draft["files"]}
    keep = file_job("random1.txt", b"x")
    keep.md5 = remote["random1.txt"]["checksum"]
    changed = file_job("random2.txt", b"changed")  # same name, other bytes
    new = file_job("new.txt", b"new")
    job = make_job(action="new_version", remote_id=str(draft["id"]), files=[keep, changed, new])
    rsps.get(f"{SANDBOX}/deposit/depositions/{draft['id']}", json=draft)
    rsps.delete(
        f"{SANDBOX}/deposit/depositions/{draft['id']}/files/{remote['random2.txt']['id']}",
        status=204,
    )
    result, _ = run(connector, "reconcile_files", sandbox_client, job)
    assert result.done is False  # random3.txt (not ours) is still there
    assert result.files_removed == ["random2.txt"]
    assert result.file_updates["random1.txt"].status == "done"
    assert result.file_updates["random2.txt"].status == "pending"
    assert "new.txt" not in result.file_updates

    # the next call: random2 is gone, random3 goes; a 404 (already deleted) is fine
    draft["files"] = [f for f in draft["files"] if f["filename"] != "random2.txt"]
    rsps.get(f"{SANDBOX}/deposit/depositions/{draft['id']}", json=draft)
    rsps.delete(
        f"{SANDBOX}/deposit/depositions/{draft['id']}/files/{remote['random3.txt']['id']}",
        status=404,
        json={"status": 404},
    )
    result, _ = run(connector, "reconcile_files", sandbox_client, job)
    assert result.done is True and result.files_removed == ["random3.txt"]


# --------------------------------------------------------------------------- edit, discard, delete


def test_edit_opens_the_record(connector, sandbox_client, make_job, rsps):
    rsps.post(
        f"{SANDBOX}/deposit/depositions/131/actions/edit", json=fixture("141.json"), status=201
    )
    result, _ = run(connector, "edit", sandbox_client, make_job(action="edit", remote_id="131"))
    assert result.remote_state == "inprogress"


def test_discard_is_idempotent(connector, sandbox_client, make_job, rsps):
    rsps.post(f"{SANDBOX}/deposit/depositions/141/actions/discard", status=204)
    rsps.post(
        f"{SANDBOX}/deposit/depositions/141/actions/discard", status=404, json={"status": 404}
    )
    job = make_job(action="discard", remote_id="141", remote_state="inprogress")
    for _ in range(2):
        result, _ = run(connector, "discard", sandbox_client, job)
        assert result.remote_state == "done"


def test_delete_is_idempotent_and_refuses_published_records(
    connector, sandbox_client, make_job, rsps
):
    rsps.delete(f"{SANDBOX}/deposit/depositions/101", status=204)
    rsps.delete(f"{SANDBOX}/deposit/depositions/101", status=404, json={"status": 404})
    job = make_job(action="delete", remote_id="101", remote_state="unsubmitted")
    for _ in range(2):
        result, _ = run(connector, "delete", sandbox_client, job)
        assert (result.remote_id, result.remote_state) == ("", "deleted")
    with pytest.raises(PermanentError):
        run(
            connector,
            "delete",
            sandbox_client,
            make_job(action="delete", remote_id="131", remote_state="done"),
        )


# --------------------------------------------------------------------------- verify, labels


def test_verify_reports_the_owner(connector, client, rsps):
    rsps.get(f"{BASE}/deposit/depositions", json=load_fixture("zenodraft-sandbox-2024-01/depositions.json"),
             match=[matchers.query_param_matcher({"size": "1"})])  # fmt: skip
    identity = connector.verify(client)
    assert identity.name == "Zenodo user 3210"
    assert identity.detail == {"owner": "3210"}


def test_verify_with_no_depositions(connector, client, rsps):
    rsps.get(f"{BASE}/deposit/depositions", json=[])
    assert connector.verify(client).name == "token with deposit scope"


def test_step_labels(connector, make_job):
    files = [
        file_job(n, b"1", status=s)
        for n, s in [
            ("a", "done"),
            ("b", "done"),
            ("c", "pending"),
            ("d", "pending"),
            ("e", "pending"),
        ]
    ]
    done = sum(1 for f in files if f.status == "done")
    assert connector.step("upload").label_for(done, len(files)) == "Uploading file 3 of 5"
    assert connector.step("upload").label_for(0, 0) == "Uploading files"
    assert connector.step("publish").label == "Publishing"
    assert connector.step("confirm").label == "Confirming the DOI"


def test_the_registry_serves_zenodo():
    from deposits.repositories import registry

    assert registry.get("zenodo").label == "Zenodo"
