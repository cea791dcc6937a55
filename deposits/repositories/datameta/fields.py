"""DataMeta's metadata fields: the site's definitions, and the record a sample row becomes.

A DataMeta site publishes the metadata each sample carries (``GET /metadata``, API
document "Metadata Information" in reference/datameta-rest-api.txt). The definitions are
read as a real DataMeta 1.1.1 returns them (reference/notes-datameta.md, "§" below means
one of its numbered findings; §11), cached on the linked account, and split into the
columns a submitter fills and the ones a service fills after submission. The checks on
the rows are in ``rules``, reading sheets into rows in ``sheet``.

Plain Python: no Django, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_STRFTIME_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
    "%f": "ffffff",
    "%b": "Mon",
    "%B": "Month",
    "%z": "+hhmm",
    "%%": "%",
}


# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Definition:
    """One metadatum of ``GET /metadata`` (API document "Metadata Information", §11).

    Empty strings come back as ``null`` except ``example`` (§11); both mean "none" here.
    """

    name: str
    mandatory: bool = False
    order: int = 0
    is_file: bool = False
    submission_unique: bool = False
    site_unique: bool = False
    regexp: str = ""
    regex_description: str = ""
    long_description: str = ""
    example: str = ""
    datetime_fmt: str = ""
    service: str = ""  # the service's id when a service fills it, not the submitter

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Definition:
        service = data.get("serviceId")
        if isinstance(service, dict):
            service = service.get("site") or service.get("uuid") or ""
        return cls(
            name=str(data.get("name") or ""),
            mandatory=bool(data.get("isMandatory")),
            order=int(data.get("order") or 0),
            is_file=bool(data.get("isFile")),
            submission_unique=bool(data.get("isSubmissionUnique")),
            site_unique=bool(data.get("isSiteUnique")),
            regexp=str(data.get("regExp") or ""),
            regex_description=str(data.get("regexDescription") or ""),
            long_description=str(data.get("longDescription") or ""),
            example=str(data.get("example") or ""),
            datetime_fmt=str(data.get("dateTimeFmt") or ""),
            service=str(service or ""),
        )

    def as_json(self) -> dict[str, Any]:
        """The cached form (LinkedAccount.schema["definitions"]): DataMeta's own names."""
        return {
            "name": self.name,
            "isMandatory": self.mandatory,
            "order": self.order,
            "isFile": self.is_file,
            "isSubmissionUnique": self.submission_unique,
            "isSiteUnique": self.site_unique,
            "regExp": self.regexp,
            "regexDescription": self.regex_description,
            "longDescription": self.long_description,
            "example": self.example,
            "dateTimeFmt": self.datetime_fmt,
            "serviceId": self.service,
        }

    @property
    def format_hint(self) -> str:
        """``%Y-%m-%d`` as people read it: ``YYYY-MM-DD``."""
        hint = self.datetime_fmt
        for code, word in _STRFTIME_WORDS.items():
            hint = hint.replace(code, word)
        return hint

    @property
    def help(self) -> str:
        """What the column wants, in one line, for headers and tooltips."""
        parts = [self.long_description]
        if self.regex_description:
            parts.append(self.regex_description)
        elif self.regexp:
            parts.append(f"Pattern {self.regexp}")
        if self.datetime_fmt:
            parts.append(f"Format {self.format_hint}")
        if self.is_file:
            parts.append("The name of one of this deposit's files")
        if self.site_unique:
            parts.append("Unique across the whole DataMeta site")
        elif self.submission_unique:
            parts.append("Unique within one submission")
        if self.example:
            parts.append(f"Example: {self.example}")
        return ". ".join(p.rstrip(".") for p in parts if p)


def definitions(schema: dict[str, Any] | None) -> list[Definition]:
    """All definitions of a cached schema, in the site's order."""
    items = (schema or {}).get("definitions") or []
    found = [Definition.from_json(d) for d in items if isinstance(d, dict) and d.get("name")]
    return sorted(found, key=lambda d: (d.order, d.name))


def submitter_fields(schema: dict[str, Any] | None) -> list[Definition]:
    """The columns a submitter fills: service fields are the services' to fill (API
    document "Metadata Information": service metadata carry a ``serviceId``)."""
    return [d for d in definitions(schema) if not d.service]


def service_fields(schema: dict[str, Any] | None) -> list[Definition]:
    return [d for d in definitions(schema) if d.service]


# --------------------------------------------------------------------------- record


def record(row: dict[str, Any], fields: list[Definition]) -> dict[str, str]:
    """The ``record`` sent for one row: defined submitter fields with a value.

    Empty cells are left out rather than sent as "": an empty string would fail a date
    format or a pattern, while an absent optional field is simply null (§16).
    """
    out = {}
    for d in fields:
        value = row.get(d.name)
        if value is not None and str(value) != "":
            out[d.name] = str(value)
    return out
