"""What a connector is handed for one target: the Job snapshot and the HTTP client.

The client records every call in the API call log and spends the account's shared
rate budget; the job is read from the database so a re-run sees what was recorded.
"""

from __future__ import annotations

from typing import IO

from deposits.models import ApiCall, Identifier, LinkedAccount, RemoteFile, Target
from deposits.repositories import registry
from deposits.repositories.base import FileJob, FileState, Job
from deposits.repositories.http import CallRecord, HttpClient
from deposits.repositories.limiter import Priority, get_limiter

from .integrity import verified_opener
from .lookups import schema_for


def build_client(
    account: LinkedAccount,
    target: Target | None,
    *,
    priority: Priority = Priority.INTERACTIVE,
    checking: bool = False,
) -> HttpClient:
    """The account's client. Before each request it asks whether the token may still go
    out (``holds``), and a refusal of the token holds the account: after one
    authentication failure nothing more is sent with it until a person acts.
    ``checking``: the one check a person asked for may try a held token."""
    from deposits.repositories.base import AuthError, RepositoryError

    from .holds import GatedLimiter, hold

    def record(call: CallRecord) -> None:
        ApiCall.objects.create(
            account=account,
            target=target,
            method=call.method,
            url=call.url[:1000],
            status=call.status,
            duration_ms=call.duration_ms,
            rate_headers=call.rate_headers,
            error=call.error[:2000],
            trace_id=call.trace_id,
        )

    connector = registry.get(account.kind)

    def parse_error(status: int, body: bytes, content_type: str) -> RepositoryError:
        error = connector.parse_error(status, body, content_type)
        if isinstance(error, AuthError):
            hold(account.pk, account.kind)
        return error

    return HttpClient(
        base_url=account.base_url,
        token=account.token,
        label=connector.label,
        parse_error=parse_error,
        auth_header=connector.auth_header,
        limiter=GatedLimiter(get_limiter(), account.pk, kind=account.kind, checking=checking),
        limiter_key=account.limiter_key,
        windows=account.effective_rate_windows(),
        priority=priority,
        record=record,
        trace_of=connector.trace_id,
    )


def build_job(target: Target, remote_files: list[RemoteFile]) -> Job:
    deposit = target.deposit
    related = [
        {"scheme": i.scheme, "value": i.value, "url": i.url, "scope": i.scope}
        for i in Identifier.objects.filter(target__deposit=deposit).exclude(target=target)
    ]
    files = [
        FileJob(
            name=rf.name,
            size=rf.file.size if rf.file else 0,
            md5=rf.file.md5 if rf.file else "",
            sha256=rf.file.sha256 if rf.file else "",
            open=verified_opener(rf.file) if rf.file else _gone,
            remote_id=rf.remote_id,
            status=FileState(rf.status),
            remote_checksum=rf.remote_checksum,
        )
        for rf in remote_files
    ]
    return Job(
        target_id=target.pk,
        action=target.action,
        metadata=deposit.metadata,
        options=target.options,
        files=files,
        remote_id=target.remote_id,
        remote_state=target.remote_state,
        remote_links=target.remote_links,
        create_marker=target.create_marker,
        related=related,
        remote_data=target.remote_data,
        schema=schema_for(target),
    )


def _gone() -> IO[bytes]:
    raise FileNotFoundError("this file was removed from the deposit")
