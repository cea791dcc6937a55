"""The published ``zenodo-client`` (PyPI), pointed at a Zenodo sandbox: the tests run the
third-party client unchanged but for its base URL."""

from __future__ import annotations

from pathlib import Path

from zenodo_client import Zenodo
from zenodo_client.struct import Creator, Metadata


def pointed_at(root: str, token: str) -> Zenodo:
    """The client with only its base URL changed, from ``https://zenodo.org`` to the
    sandbox's root (and the attributes its ``__init__`` derives from it)."""
    client = Zenodo(access_token=token)
    client.base = root.rstrip("/")
    client.api_base = client.base + "/api"
    client.depositions_base = client.api_base + "/deposit/depositions"
    return client


def numbers(folder: Path) -> tuple[Metadata, Path]:
    """A small dataset to publish: its metadata and its one file."""
    data = folder / "numbers.txt"
    data.write_bytes(b"1, 2, 3")
    metadata = Metadata(
        title="Numbers",
        upload_type="dataset",
        description="Three numbers.",
        creators=[Creator(name="Doe, Jane", affiliation="Lab A")],
    )
    return metadata, data
