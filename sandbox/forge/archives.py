"""Source archives of a release, built in memory from the files at its tag.

The same tag always gives the same bytes (fixed timestamps, sorted entries), so a
checksum taken once holds. Names are kept as given: the sandbox can serve an archive
with odd paths on purpose, to test the portal against one.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

from .models import GITHUB, ForgeRelease

# What every entry is dated: zip's own epoch (a tar's mtime 0 is 1970).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
TAR_TIME = 315532800  # 1980-01-01T00:00:00Z


def top_folder(release: ForgeRelease) -> str:
    """The single folder an archive holds, named as the forge names it."""
    repo = release.repo
    if repo.forge == GITHUB:
        return f"{repo.owner.replace('/', '-')}-{repo.name}-{release.sha[:7]}"
    return f"{repo.name}-{release.tag.replace('/', '-')}-{release.sha}"


def gitlab_filename(release: ForgeRelease, extension: str) -> str:
    """GitLab's archive file name: ``{project}-{tag}.{zip|tar.gz}``."""
    return f"{release.repo.name}-{release.tag.replace('/', '-')}.{extension}"


def zip_bytes(release: ForgeRelease) -> bytes:
    top = top_folder(release)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        folder = zipfile.ZipInfo(f"{top}/", date_time=ZIP_TIME)
        folder.external_attr = (0o40755 << 16) | 0x10
        archive.writestr(folder, b"")
        for name, text in sorted(release.tree().items()):
            entry = zipfile.ZipInfo(f"{top}/{name}", date_time=ZIP_TIME)
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, str(text).encode())
        archive.comment = release.sha.encode()  # GitHub's zipballs carry the commit
    return buffer.getvalue()


def tar_gz_bytes(release: ForgeRelease) -> bytes:
    top = top_folder(release)
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        folder = tarfile.TarInfo(top)
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, TAR_TIME
        archive.addfile(folder)
        for name, text in sorted(release.tree().items()):
            data = str(text).encode()
            entry = tarfile.TarInfo(f"{top}/{name}")
            entry.size, entry.mode, entry.mtime = len(data), 0o644, TAR_TIME
            archive.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()
